package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// diffCommand is `ocibundle diff`.
func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "compare two bundles: files added, removed and changed, layers, annotations; exit 1 when they differ",
		ArgsUsage: "REFERENCE REFERENCE (each a layout or an archive, with :TAG or @DIGEST; -; FILE.sha256; PARTS...)",
		Flags: []cli.Flag{
			boolFlag("mtime", "", "also compare the files' modification times"),
			stringFlag("platform", "", "", "the image to take from an index, on both sides: os/arch[/variant] (default: this machine's)"),
			boolFlag("skip-unknown", "", "skip layers of kinds extract does not handle instead of failing"),
			boolFlag("allow-outside-links", "", "compare symlinks whose targets leave the tree instead of refusing the bundle"),
			jsonFlag(),
		},
		Action: diffAction,
	}
}

func diffAction(c *cli.Context) error {
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	stdin := 0
	for _, a := range c.Args().Slice() {
		if isStdinRef(a) {
			stdin++
		}
	}
	if stdin > 1 {
		return usagef("diff: standard input holds one archive: name - once")
	}
	from, rest, err := openSource(c, c.Args().Slice())
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		from.done(nil)
		return usagef("diff: name two REFERENCEs")
	}
	to, rest, err := openSource(c, rest)
	if err != nil {
		from.done(nil)
		return err
	}
	if len(rest) > 0 {
		from.done(nil)
		to.done(nil)
		return usagef("diff: want two REFERENCEs, got also %q", rest)
	}
	res, err := bundle.Diff(c.Context, from.Source, to.Source, bundle.DiffOptions{
		Platform: c.String("platform"), SkipUnknown: c.Bool("skip-unknown"),
		AllowOutsideLinks: c.Bool("allow-outside-links"), Mtime: c.Bool("mtime"), Progress: progress,
	})
	err = from.done(err)
	if err = to.done(err); err != nil {
		return cmdErr(c, err)
	}
	if err := emit(c, c.App.Writer, res, func(w io.Writer) error { return bundle.WriteDiffText(w, res) }); err != nil {
		return err
	}
	if res.Equal {
		return nil
	}
	// As diff(1): 1 when they differ, the differences printed above.
	return markedError{cmdErr(c, fmt.Errorf("%s and %s: %w", res.From.Reference, res.To.Reference, bundle.ErrDiffer)), errShown}
}
