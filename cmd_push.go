package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// pushCommand is `ocibundle push`.
func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "copy a bundle from a layout to a registry (blobs the registry has are skipped)",
		ArgsUsage: "LAYOUT[:TAG|@DIGEST] REGISTRY/REPO[:TAG]",
		Flags:     registryFlags(),
		Action:    pushAction,
	}
}

func pushAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("push: want LAYOUT[:TAG|@DIGEST] and REGISTRY/REPO[:TAG], got %d arguments", c.NArg())
	}
	opts, err := registryOptions(c)
	if err != nil {
		return err
	}
	res, err := bundle.Push(c.Context, c.Args().Get(0), c.Args().Get(1), opts)
	warn(c, res.Warnings)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, res, func(w io.Writer) error { return bundle.WritePushText(w, res) })
}
