package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// pullCommand is `ocibundle pull`.
func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "copy a manifest and its blobs from a registry into a layout, verified; index.json is updated last",
		ArgsUsage: "REGISTRY/REPO:TAG | REGISTRY/REPO@DIGEST",
		Flags: append([]cli.Flag{
			stringFlag("output", "o", "", "the layout to pull into (created if missing)"),
			sliceFlag("tag", "t", "tag the manifest in the layout (repeatable; default: the registry tag)"),
			boolFlag("force", "", "move tags that already name another manifest in the layout"),
		}, registryFlags()...),
		Action: pullAction,
	}
}

func pullAction(c *cli.Context) error {
	out := c.String("output")
	if out == "" {
		return usagef("pull: -o LAYOUT is required")
	}
	src, err := oneArg(c, "REGISTRY/REPO:TAG or REGISTRY/REPO@DIGEST")
	if err != nil {
		return err
	}
	opts, err := registryOptions(c)
	if err != nil {
		return err
	}
	opts.Force = c.Bool("force")
	res, err := bundle.Pull(c.Context, src, out, c.StringSlice("tag"), opts)
	warn(c, res.Warnings)
	reportMoves(c, res.Moved)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, res, func(w io.Writer) error { return bundle.WritePullText(w, res) })
}
