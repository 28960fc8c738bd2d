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
		Usage:     "list the bundles in a layout",
		ArgsUsage: "LAYOUT",
		Flags:     []cli.Flag{jsonFlag()},
		Action:    lsAction,
	}
}

func lsAction(c *cli.Context) error {
	dir, err := oneArg(c, "LAYOUT")
	if err != nil {
		return err
	}
	entries, err := bundle.List(c.Context, dir)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, entries, func(w io.Writer) error { return bundle.WriteListText(w, entries) })
}
