// Package testfs makes the special files that tests put in their inputs.
// The tests run on Linux only (see the README); on Windows the functions
// exist so that the tests compile, and return an error.
package testfs
