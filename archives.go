package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/layout"
)

// The archive arguments of import and verify (ARCHIVE | - | PART... |
// FILE.sha256) are read here, once, so that the two commands agree on what
// a command line names and on how a mistake in it is reported.

// isSplitArchive reports whether args name a split archive: several parts
// in order, or one FILE.sha256 (unless that is a directory: a layout may
// have any name).
func isSplitArchive(args []string) bool {
	if len(args) != 1 {
		return len(args) > 1
	}
	if !strings.HasSuffix(args[0], ".sha256") {
		return false
	}
	fi, err := os.Stat(args[0])
	return err != nil || !fi.IsDir()
}

// openSplitArchive returns a reader of the split archive args name and its
// size in bytes (0 when unknown; for progress only): FILE.sha256 alone, or
// the parts in order, checked against FILE.sha256 beside them when it lists
// exactly them (bundle.PartsFromArgs). A part or list that is missing is
// operational, named as every command names a missing path; standard input
// among several parts, or a directory, is a usage error.
func openSplitArchive(c *cli.Context, args []string) (*bundle.PartsReader, int64, error) {
	for _, a := range args {
		if a == "-" {
			return nil, 0, usagef("%s: - (standard input) cannot be one of several parts", c.Command.Name)
		}
		if err := checkArchiveFile(c, a); err != nil {
			return nil, 0, err
		}
	}
	var (
		parts []bundle.Part
		whole digest.Digest
		err   error
	)
	if len(args) == 1 {
		parts, whole, err = bundle.ReadChecksumFile(args[0])
	} else {
		parts, whole, err = bundle.PartsFromArgs(args)
	}
	if err != nil {
		return nil, 0, cmdErr(c, err)
	}
	return bundle.NewPartsReader(parts, whole), partsSize(parts), nil
}

// checkArchiveFile refuses an archive argument that is not there (3, "NAME:
// no such file or directory", as every command says it) or is a directory
// (2: a layout is read by naming it, not as an archive).
func checkArchiveFile(c *cli.Context, name string) error {
	fi, err := os.Stat(name)
	if err != nil {
		return cmdErr(c, layout.PathErr(name, err))
	}
	if fi.IsDir() {
		return usagef("%s: %s is a directory, not an archive (to copy a layout, export it first)", c.Command.Name, name)
	}
	return nil
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

// openTarget reads the arguments of a command that takes a layout or an
// archive as verify does (LAYOUT[:TAG|@DIGEST] | ARCHIVE | - | PART... |
// FILE.sha256): it returns the name to report and, for a split archive or
// standard input, the reader of the archive (nil: the name is read by path).
// close releases the parts; it is never nil.
func openTarget(c *cli.Context, args []string) (name string, r io.Reader, close func(), err error) {
	name, close = strings.Join(args, " "), func() {}
	switch {
	case isSplitArchive(args):
		parts, _, err := openSplitArchive(c, args)
		if err != nil {
			return "", nil, close, err
		}
		return name, parts, func() { parts.Close() }, nil
	case args[0] == "-":
		r, err := archiveStdin(c, args[0])
		return name, r, close, err
	}
	return name, nil, close, nil
}

// openBase reads export --since BASE: an inventory file, an archive (its
// parts' FILE.sha256) or a layout reference (bundle.OpenBase).
func openBase(c *cli.Context, base string) (bundle.Base, error) {
	name, r, close, err := openTarget(c, []string{base})
	if err != nil {
		return bundle.Base{}, err
	}
	defer close()
	progress, err := newProgress(c)
	if err != nil {
		return bundle.Base{}, err
	}
	b, err := bundle.OpenBase(c.Context, name, r, progress)
	if parts, ok := r.(*bundle.PartsReader); ok {
		err = parts.Explain(err)
	}
	if err != nil {
		return bundle.Base{}, cmdErr(c, fmt.Errorf("--since: %w", err))
	}
	return b, nil
}
