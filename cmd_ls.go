package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// lsCommand is `ocibundle ls`.
func lsCommand() *cli.Command {
	return &cli.Command{
		Name:      "ls",
		Usage:     "list the bundles in a layout or an archive",
		ArgsUsage: "LAYOUT | ARCHIVE | - | FILE.sha256 | PARTS...",
		Flags:     []cli.Flag{jsonFlag()},
		Action:    lsAction,
	}
}

func lsAction(c *cli.Context) error {
	src, err := openOneSource(c)
	if err != nil {
		return err
	}
	entries, err := bundle.ListFrom(c.Context, src.Source)
	if err = src.done(err); err != nil {
		return cmdErr(c, err)
	}
	result := lsResult{Layout: src.Name, Bundles: entries}
	return emit(c, c.App.Writer, result, func(w io.Writer) error { return bundle.WriteListText(w, entries) })
}

// lsResult is ls's JSON (docs/json.md): one object, as every command prints.
type lsResult struct {
	Layout  string             `json:"layout"`
	Bundles []bundle.ListEntry `json:"bundles"`
}
