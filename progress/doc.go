// Package progress is the one interface through which long operations report
// how many bytes they have moved. The workflows (bundle, verify) call it;
// main backs it with a progress bar. It imports nothing of ocibundle.
package progress
