package main

import (
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/verify"
)

// verifyCommand is `ocibundle verify`.
func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "audit a layout or archive offline: structure, every blob's size and digest, the graph",
		ArgsUsage: "LAYOUT[:TAG|@DIGEST] | ARCHIVE | - | FILE.sha256 | PARTS...",
		Flags: []cli.Flag{
			boolFlag("deep", "", "also decompress every tar layer: uncompressed digests, diff_ids, tar entry safety"),
			boolFlag("strict", "", "unknown digest algorithms are errors, unreferenced blobs warnings"),
			stringFlag("digest", "", "", "the bundle must have this manifest digest"),
			boolFlag("allow-missing", "", "a referenced blob that is missing is a warning, not an error"),
			boolFlag("allow-outside-links", "", "with --deep, a symlink that leaves its layer is a warning, not an error"),
			jsonFlag(),
		},
		Action: verifyAction,
	}
}

func verifyAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usagef("verify: name a TARGET")
	}
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	opts := verify.Options{
		Strict:            c.Bool("strict"),
		AllowMissing:      c.Bool("allow-missing"),
		Deep:              c.Bool("deep"),
		AllowOutsideLinks: c.Bool("allow-outside-links"),
		Digest:            c.String("digest"),
		Progress:          progress,
	}
	target := c.Args().First()
	var rep *verify.Report
	switch {
	case c.NArg() > 1 || (strings.HasSuffix(target, ".sha256") && isRegularFile(target)):
		// A split archive: its parts in order, or the checksum list that
		// names them (each part and the whole are then checked as read).
		rep, err = verifyParts(c, opts)
	default:
		if opts.Stdin, err = archiveStdin(c, target); err != nil {
			return err
		}
		rep, err = verify.Verify(c.Context, target, opts)
	}
	if err != nil {
		return cmdErr(c, err)
	}
	if c.Bool("json") {
		err = rep.WriteJSON(c.App.Writer)
	} else {
		err = rep.WriteText(c.App.Writer)
	}
	if err != nil {
		return err
	}
	if err := rep.Err(); err != nil && c.Bool("json") {
		return markedError{cmdErr(c, err), errShown}
	}
	return cmdErr(c, rep.Err())
}

func isRegularFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// verifyParts verifies the split archive the arguments name: FILE.sha256,
// or the parts FILE.000 FILE.001 … in order.
func verifyParts(c *cli.Context, opts verify.Options) (*verify.Report, error) {
	args := c.Args().Slice()
	for _, a := range args {
		if !isRegularFile(a) {
			return nil, usagef("verify: %s: several arguments are the parts of a split archive, and this is not a file", a)
		}
	}
	var parts []bundle.Part
	var whole digest.Digest
	if len(args) == 1 {
		var err error
		if parts, whole, err = bundle.ReadChecksumFile(args[0]); err != nil {
			return nil, err
		}
	} else {
		for _, a := range args {
			parts = append(parts, bundle.Part{Name: a})
		}
	}
	r := bundle.NewPartsReader(parts, whole)
	defer r.Close()
	rep, err := verify.VerifyArchive(c.Context, r, strings.Join(args, " "), opts)
	return rep, r.Explain(err)
}
