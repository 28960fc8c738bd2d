package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// tagCommand is `ocibundle tag`.
func tagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "point more tags at a bundle; prints its manifest digest",
		ArgsUsage: "LAYOUT[:TAG|@DIGEST] NEWTAG...",
		Flags:     []cli.Flag{boolFlag("json", "", "print the result as JSON")},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usagef("tag: want REFERENCE and at least one NEWTAG, got %d arguments", c.NArg())
			}
			res, err := bundle.Tag(c.Context, c.Args().First(), c.Args().Tail())
			if err != nil {
				return cmdErr(c, err)
			}
			reportMoves(c, res.Moved)
			return emit(c, c.App.Writer, res, func(w io.Writer) error { return printDigest(w, res.Digest) })
		},
	}
}
