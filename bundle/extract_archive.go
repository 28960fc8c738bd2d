package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ocibundle/ocibundle/layout"
)

// archiveRef reports whether ref names an archive rather than a layout:
// "-" (standard input), or FILE, FILE:TAG or FILE@DIGEST where FILE is a
// regular file. It returns the file ("-" for stdin) and the selector to
// append to a layout path (":TAG", "@DIGEST" or "").
func archiveRef(ref string) (file, selector string, ok bool) {
	if ref == "-" {
		return "-", "", true
	}
	r, err := layout.ParseReference(ref)
	if err != nil {
		return "", "", false
	}
	if fi, err := os.Stat(r.Path); err != nil || !fi.Mode().IsRegular() {
		return "", "", false
	}
	switch {
	case r.Tag != "":
		selector = ":" + r.Tag
	case r.Digest != "":
		selector = "@" + r.Digest.String()
	}
	return r.Path, selector, true
}

// extractArchive extracts from an archive by reading it once, as import
// does (hostile rules, every blob verified while written, the graph checked
// by verify), into a temporary layout beside dir, then extracting from that
// layout; the temporary layout is removed whatever happens. stdin is read
// when file is "-".
func extractArchive(ctx context.Context, ref, file, selector, dir string, stdin io.Reader, opts ExtractOptions) (ExtractResult, error) {
	r := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return ExtractResult{}, err
		}
		defer f.Close()
		r = f
	} else if r == nil {
		return ExtractResult{}, fmt.Errorf("%w: no standard input to read the archive from", ErrBadInput)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ExtractResult{}, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return ExtractResult{}, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".archive-*")
	if err != nil {
		return ExtractResult{}, err
	}
	defer os.RemoveAll(tmp)
	staged := filepath.Join(tmp, "layout")
	_, err = Import(ctx, staged, r, ImportOptions{Progress: opts.Progress})
	if errors.Is(err, layout.ErrDuplicateTag) {
		if strings.HasPrefix(selector, "@") {
			err = nil // every manifest is in, untagged; the digest names one
		} else {
			err = fmt.Errorf("%w; name one as %s@DIGEST", err, file)
		}
	}
	if err != nil {
		return ExtractResult{}, fmt.Errorf("%s: %w", file, renamedError{strings.ReplaceAll(err.Error(), staged, file), err})
	}
	res, err := Extract(ctx, staged+selector, dir, opts)
	if err != nil {
		// Name the archive, not the temporary layout.
		return ExtractResult{}, renamedError{strings.ReplaceAll(err.Error(), staged, file), err}
	}
	res.Reference = ref
	return res, nil
}

// renamedError is err with another message; errors.Is still sees err.
type renamedError struct {
	msg string
	err error
}

func (e renamedError) Error() string { return e.msg }
func (e renamedError) Unwrap() error { return e.err }
