package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// inspectCommand is `ocibundle inspect`.
func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe one bundle: manifest, annotations, layers",
		ArgsUsage: "LAYOUT[:TAG|@DIGEST] | ARCHIVE[:TAG|@DIGEST] | - | FILE.sha256 | PARTS...",
		Flags:     []cli.Flag{jsonFlag()},
		Action:    inspectAction,
	}
}

func inspectAction(c *cli.Context) error {
	src, err := openOneSource(c)
	if err != nil {
		return err
	}
	in, err := bundle.InspectFrom(c.Context, src.Source)
	if err = src.done(err); err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, in, func(w io.Writer) error { return bundle.WriteInspectText(w, in) })
}
