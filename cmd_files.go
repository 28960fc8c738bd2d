package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// filesCommand is `ocibundle files`.
func filesCommand() *cli.Command {
	return &cli.Command{
		Name:      "files",
		Usage:     "list the files of a bundle without extracting them: path, type, mode, size, mtime, link, sha256",
		ArgsUsage: "LAYOUT[:TAG|@DIGEST] | ARCHIVE[:TAG|@DIGEST] | - | FILE.sha256 | PARTS...",
		Flags: []cli.Flag{
			sliceFlag("layer", "", "list only the layer with this title or digest (repeatable)"),
			enumFlag("format", "", "table", "the text output: table, or sha256sum (lines that sha256sum -c checks in the extracted directory)", filesFormats, parseFilesFormat),
			stringFlag("platform", "", "", "the image to take from an index: os/arch[/variant] (default: this machine's)"),
			boolFlag("skip-unknown", "", "skip layers of kinds extract does not handle instead of failing"),
			boolFlag("allow-outside-links", "", "list symlinks whose targets leave the tree instead of refusing the bundle"),
			maxLayerSizeFlag(),
			jsonFlag(),
		},
		Action: filesAction,
	}
}

// filesFormats are the values of files --format.
var filesFormats = []string{"table", "sha256sum"}

func parseFilesFormat(s string) error {
	if !slices.Contains(filesFormats, s) {
		return fmt.Errorf("%q: want table or sha256sum", s)
	}
	return nil
}

func filesAction(c *cli.Context) error {
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	maxLayer, err := maxLayerSize(c)
	if err != nil {
		return err
	}
	src, err := openOneSource(c)
	if err != nil {
		return err
	}
	res, err := bundle.FilesFrom(c.Context, src.Source, bundle.FilesOptions{
		Layers: c.StringSlice("layer"), SkipUnknown: c.Bool("skip-unknown"),
		AllowOutsideLinks: c.Bool("allow-outside-links"), Platform: c.String("platform"), Progress: progress, MaxLayerSize: maxLayer,
	})
	if err = src.done(err); err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, res, func(w io.Writer) error {
		if c.String("format") == "sha256sum" {
			return bundle.WriteSHA256Sums(w, res)
		}
		return bundle.WriteFilesText(w, res)
	})
}
