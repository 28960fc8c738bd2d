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

// The archive arguments of every command (ARCHIVE | - | PART... |
// FILE.sha256, and for the reading commands REFERENCE) are read here,
// once, so that the commands agree on what a command line names and on how
// a mistake in it is reported.

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

// openedSource is a bundle source a reading command opened from its
// arguments, and how to finish with it.
type openedSource struct {
	*bundle.Source
	parts *bundle.PartsReader // a split set's, or nil
}

// done explains err by the parts (a damaged part, bundle.ErrBadPart) and
// closes the source.
func (s *openedSource) done(err error) error {
	if s.parts != nil {
		err = s.parts.Explain(err)
		s.parts.Close()
	}
	s.Close()
	return err
}

// openSource opens what the arguments of ls, inspect, extract and files
// name, through bundle.Open and bundle.OpenStream, the one opener: a
// REFERENCE (a layout or an archive file, with :TAG or @DIGEST), - (an
// archive on standard input, -:TAG too), a split set's FILE.sha256 list
// or its parts FILE.000 FILE.001 … in order. It returns the arguments
// after those (extract's PATTERNs). Errors are the command's, ready to
// return.
func openSource(c *cli.Context, args []string) (*openedSource, []string, error) {
	if len(args) == 0 {
		return nil, nil, usagef("%s: name a REFERENCE: a layout, an archive, - (standard input), FILE.sha256 or the PARTs in order", c.Command.Name)
	}
	n := partArgs(args)
	if n > 1 || isSplitArchive(args[:1]) {
		parts, _, err := openSplitArchive(c, args[:n])
		if err != nil {
			return nil, nil, err
		}
		name := strings.Join(args[:n], " ")
		src, err := bundle.OpenStream(c.Context, parts, name)
		if err != nil {
			// Explain before Close: it reads the rest of the part being read.
			err = parts.Explain(err)
			parts.Close()
			return nil, nil, cmdErr(c, err)
		}
		return &openedSource{src, parts}, args[n:], nil
	}
	var stdin io.Reader
	if isStdinRef(args[0]) {
		var err error
		if stdin, err = archiveStdin(c, "-"); err != nil {
			return nil, nil, err
		}
	}
	src, err := bundle.Open(c.Context, args[0], stdin)
	if err != nil {
		return nil, nil, cmdErr(c, err)
	}
	return &openedSource{Source: src}, args[1:], nil
}

// openOneSource is openSource for a command that takes one REFERENCE
// (or one split set) and nothing after it.
func openOneSource(c *cli.Context) (*openedSource, error) {
	src, rest, err := openSource(c, c.Args().Slice())
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		src.done(nil)
		return nil, usagef("%s: want one REFERENCE (or the parts of one archive), got also %q", c.Command.Name, rest)
	}
	return src, nil
}

// isStdinRef reports whether arg names the archive on standard input: -,
// -:TAG or -@DIGEST.
func isStdinRef(arg string) bool {
	return arg == "-" || strings.HasPrefix(arg, "-:") || strings.HasPrefix(arg, "-@")
}

// partArgs returns how many leading arguments are parts of one split set,
// FILE.N, whatever their order: bundle.PartsFromArgs then judges them as
// import does (in order, none missing, those FILE.sha256 lists), so that
// parts given out of order are named as such, not read as one archive.
func partArgs(args []string) int {
	file, _, ok := bundle.PartOf(args[0])
	if !ok {
		return 1
	}
	n := 1
	for n < len(args) {
		f, _, ok := bundle.PartOf(args[n])
		if !ok || f != file {
			break
		}
		n++
	}
	return n
}
