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
		ArgsUsage: "LAYOUT[:TAG|@DIGEST]",
		Flags:     []cli.Flag{jsonFlag()},
		Action:    inspectAction,
	}
}

func inspectAction(c *cli.Context) error {
	ref, err := oneArg(c, "REFERENCE")
	if err != nil {
		return err
	}
	in, err := bundle.Inspect(c.Context, ref)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, in, func(w io.Writer) error { return bundle.WriteInspectText(w, in) })
}
