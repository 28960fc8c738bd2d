package main

import (
	"errors"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
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
	case len(args) == 1 && strings.HasSuffix(args[0], ".sha256"):
		list, whole, err := bundle.ReadChecksumFile(args[0])
		if err != nil {
			return cmdErr(c, err)
		}
		parts = bundle.NewPartsReader(list, whole)
		size = partsSize(list)
	case len(args) == 1:
		f, err := os.Open(args[0])
		if err != nil {
			return cmdErr(c, err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			if fi.IsDir() {
				return usagef("import: %s is a directory, not an archive (to copy a layout, export it first)", args[0])
			}
			size = fi.Size()
		}
		src = f
	default:
		for _, a := range args {
			if a == "-" {
				return usagef("import: - (standard input) cannot be one of several parts")
			}
		}
		list, whole, err := bundle.PartsFromArgs(args)
		if err != nil {
			return cmdErr(c, err)
		}
		parts = bundle.NewPartsReader(list, whole)
		size = partsSize(list)
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
	if err != nil {
		return cmdErr(c, err)
	}
	res.Archive.Path = strings.Join(args, " ")
	return emit(c, c.App.Writer, res, func(w io.Writer) error { return bundle.WriteImportText(w, res) })
}

// partsSize adds up the sizes of the parts that can be stat'ed (for the
// progress bar only).
func partsSize(parts []bundle.Part) int64 {
	var n int64
	for _, p := range parts {
		fi, err := os.Stat(p.Name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return 0
		}
		n += fi.Size()
	}
	return n
}
