package main

import (
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/units"
)

// exportCommand is `ocibundle export`.
func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write bundles (or a whole layout) as one deterministic tar archive; prints its sha256, size and bundles",
		ArgsUsage: "LAYOUT[:TAG|@DIGEST]...",
		Flags: append([]cli.Flag{
			stringFlag("output", "o", "", "the archive file to write, or - for standard output"),
			stringFlag("since", "", "", "write a delta: leave out the blobs BASE holds (an inventory file, an earlier archive or its FILE.sha256, a layout)"),
			stringFlag("split", "", "", "cut the archive into parts FILE.000, FILE.001, … of at most SIZE (with its unit: 700M, 4.7G, 1GiB) plus FILE.sha256"),
			boolFlag("json", "", "print the result as JSON"),
		}, referrerFlags()...),
		Action: exportAction,
	}
}

func exportAction(c *cli.Context) error {
	out := c.String("output")
	if out == "" {
		return usagef("export: -o FILE (or -o - for standard output) is required")
	}
	if c.NArg() == 0 {
		return usagef("export: name at least one LAYOUT, LAYOUT:TAG or LAYOUT@DIGEST")
	}
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	opts := bundle.ExportOptions{NoReferrers: noReferrers(c), Progress: progress}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() && c.String("split") == "" {
		return usagef("export: %s is a directory: -o names the archive FILE to write", out)
	}
	if s := c.String("split"); s != "" {
		if out == "-" {
			return usagef("export: --split needs -o FILE, not standard output")
		}
		if opts.Split, err = units.ParseBytes(s); err != nil {
			return usagef("export: --split: %v", err)
		}
	}
	if base := c.String("since"); base != "" {
		b, err := openBase(c, base)
		if err != nil {
			return err
		}
		opts.Since = &b
	}
	epoch, err := sourceDateEpoch(c)
	if err != nil {
		return err
	}
	if epoch != nil {
		opts.ModTime = *epoch
	}
	var res bundle.ExportResult
	report := c.App.Writer
	if out == "-" && term.IsTerminal(int(os.Stdout.Fd())) {
		return usagef("export: -o - would write the archive to a terminal; redirect it to a file or a pipe")
	}
	if out == "-" {
		// The archive is standard output; the report goes to stderr.
		report = c.App.ErrWriter
		res, err = bundle.Export(c.Context, os.Stdout, c.Args().Slice(), opts)
		res.Archive.Path = "-"
	} else {
		res, err = bundle.ExportFile(c.Context, out, c.Args().Slice(), opts)
	}
	warn(c, res.Warnings)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, report, res, func(w io.Writer) error { return bundle.WriteExportText(w, res) })
}
