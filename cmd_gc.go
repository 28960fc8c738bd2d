package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// gcCommand is `ocibundle gc`.
func gcCommand() *cli.Command {
	return &cli.Command{
		Name:      "gc",
		Usage:     "remove blobs not reachable from index.json and leftover ingest/ files",
		ArgsUsage: "LAYOUT",
		Flags: []cli.Flag{
			boolFlag("dry-run", "n", "list what would be removed, remove nothing"),
			boolFlag("json", "", "print the result as JSON"),
		},
		Action: func(c *cli.Context) error {
			dir, err := oneArg(c, "LAYOUT")
			if err != nil {
				return err
			}
			res, err := bundle.GC(c.Context, dir, bundle.GCOptions{DryRun: c.Bool("dry-run")})
			if err != nil {
				return cmdErr(c, err)
			}
			return emit(c, c.App.Writer, res, func(w io.Writer) error { return bundle.WriteGCText(w, res) })
		},
	}
}
