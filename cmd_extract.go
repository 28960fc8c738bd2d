package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// extractCommand is `ocibundle extract`.
func extractCommand() *cli.Command {
	return &cli.Command{
		Name:      "extract",
		Usage:     "write the files of a bundle (or an ORAS artifact, or an image's root filesystem) into a directory",
		ArgsUsage: "(LAYOUT[:TAG|@DIGEST] | ARCHIVE[:TAG|@DIGEST] | - | FILE.sha256 | PARTS...) [PATTERN...]",
		Flags: []cli.Flag{
			stringFlag("output", "o", "", "the directory to extract into (must be empty or missing unless --overwrite)"),
			boolFlag("overwrite", "", "merge into a directory that is not empty, replacing files of the same names"),
			sliceFlag("layer", "", "extract only the layer with this title or digest (repeatable)"),
			boolFlag("skip-unknown", "", "skip layers of kinds extract does not handle instead of failing"),
			boolFlag("preserve-permissions", "", "keep setuid, setgid and sticky bits and ignore the umask"),
			boolFlag("same-owner", "", "set the owners recorded in the layers (root only)"),
			boolFlag("allow-outside-links", "", "write symlinks whose targets leave DIR (as pack --keep-links stores them); nothing is written through them"),
			stringFlag("platform", "", "", "the image to take from an index: os/arch[/variant], as linux/arm64/v8 (default: this machine's)"),
			maxLayerSizeFlag(),
			boolFlag("json", "", "print what was written as JSON, with each file's sha256"),
		},
		Action: func(c *cli.Context) error {
			out := c.String("output")
			if out == "" {
				return usagef("extract: -o DIR is required")
			}
			if out == "-" {
				return usagef("extract: -o - is not supported: extract writes files into a directory (export writes an archive to standard output)")
			}
			progress, err := newProgress(c)
			if err != nil {
				return err
			}
			maxLayer, err := maxLayerSize(c)
			if err != nil {
				return err
			}
			src, patterns, err := openSource(c, c.Args().Slice())
			if err != nil {
				return err
			}
			opts := bundle.ExtractOptions{
				MaxLayerSize:        maxLayer,
				Overwrite:           c.Bool("overwrite"),
				Layers:              c.StringSlice("layer"),
				SkipUnknown:         c.Bool("skip-unknown"),
				PreservePermissions: c.Bool("preserve-permissions"),
				SameOwner:           c.Bool("same-owner"),
				AllowOutsideLinks:   c.Bool("allow-outside-links"),
				Progress:            progress,
				Platform:            c.String("platform"),
				Patterns:            patterns,
				Hash:                c.Bool("json"),
				SummaryOnly:         !c.Bool("json"), // the text is a summary
			}
			res, err := bundle.ExtractFrom(c.Context, src.Source, out, opts)
			if err = src.done(err); err != nil {
				return cmdErr(c, err)
			}
			return emit(c, c.App.Writer, res, func(w io.Writer) error { return bundle.WriteExtractText(w, res) })
		},
	}
}
