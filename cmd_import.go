package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/layout"
)

// importCommand is `ocibundle import`.
func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "read an archive (treated as hostile) into a layout, verified, and merge its index.json",
		ArgsUsage: "ARCHIVE | - | PART... | FILE.sha256",
		Flags: []cli.Flag{
			stringFlag("output", "o", "", "the layout to import into (created if missing)"),
			boolFlag("force", "", "move tags that already name another manifest in the layout"),
			boolFlag("json", "", "print the result as JSON"),
		},
		Action: importAction,
	}
}

func importAction(c *cli.Context) error {
	out := c.String("output")
	if out == "" {
		return usagef("import: -o LAYOUT is required")
	}
	if c.NArg() == 0 {
		return usagef("import: name an ARCHIVE, - (standard input), the PARTs in order, or FILE.sha256")
	}
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	args := c.Args().Slice()
	var (
		src   io.Reader
		parts *bundle.PartsReader
		size  int64
	)
	switch {
	case len(args) == 1 && args[0] == "-":
		if src, err = archiveStdin(c, args[0]); err != nil {
			return err
		}
	case isSplitArchive(args):
		if parts, size, err = openSplitArchive(c, args); err != nil {
			return err
		}
	default:
		if err := checkArchiveFile(c, args[0]); err != nil {
			return err
		}
		f, err := os.Open(args[0])
		if err != nil {
			return cmdErr(c, layout.PathErr(args[0], err))
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		src = f
	}
	if parts != nil {
		defer parts.Close()
		src = parts
	}
	res, err := bundle.Import(c.Context, out, src, bundle.ImportOptions{Force: c.Bool("force"), Size: size, Progress: progress})
	if parts != nil {
		err = parts.Explain(err)
	}
	warn(c, res.Warnings)
	reportMoves(c, res.Moved)
	name := strings.Join(args, " ")
	if errors.Is(err, layout.ErrDuplicateTag) {
		err = fmt.Errorf("%w; every manifest was imported, untagged: name one as %s@DIGEST, or --force gives the tag to the last", err, out)
	}
	if err != nil {
		// Named as verify and extract name the archive they read.
		return cmdErr(c, fmt.Errorf("%s: %w", name, err))
	}
	res.Archive.Path = name
	return emit(c, c.App.Writer, res, func(w io.Writer) error { return bundle.WriteImportText(w, res) })
}
