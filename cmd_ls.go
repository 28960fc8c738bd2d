package main

import (
	"fmt"
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
	var delta string
	if err == nil {
		delta, err = src.DeltaBase(c.Context)
	}
	if err = src.done(err); err != nil {
		return cmdErr(c, err)
	}
	result := lsResult{Layout: src.Name, Bundles: entries, Delta: delta}
	return emit(c, c.App.Writer, result, func(w io.Writer) error {
		if err := bundle.WriteListText(w, entries); err != nil || delta == "" {
			return err
		}
		_, err := fmt.Fprintf(w, "a delta of the base %s: the blobs of that base are left out\n", delta)
		return err
	})
}

// lsResult is ls's JSON (docs/json.md): one object, as every command prints.
type lsResult struct {
	Layout  string             `json:"layout"`
	Bundles []bundle.ListEntry `json:"bundles"`
	Delta   string             `json:"delta,omitempty"` // the base digest of a delta archive
}
