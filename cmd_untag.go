package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// untagCommand is `ocibundle untag`.
func untagCommand() *cli.Command {
	return &cli.Command{
		Name:      "untag",
		Usage:     "remove a tag (the manifest stays until gc); prints the digest it named",
		ArgsUsage: "LAYOUT:TAG",
		Flags:     []cli.Flag{boolFlag("json", "", "print the result as JSON")},
		Action: func(c *cli.Context) error {
			ref, err := oneArg(c, "LAYOUT:TAG")
			if err != nil {
				return err
			}
			res, err := bundle.Untag(c.Context, ref)
			if err != nil {
				return cmdErr(c, err)
			}
			return emit(c, c.App.Writer, res, func(w io.Writer) error { return printDigest(w, res.Digest) })
		},
	}
}
