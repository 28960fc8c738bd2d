// Package bundle holds ocibundle's workflows (pack, list, inspect, …) on top
// of the layout store. It never prints or exits: results are returned as
// values (with text and JSON renderings written to an io.Writer the caller
// hands in) and progress goes through the progress.Progress interface.
package bundle
