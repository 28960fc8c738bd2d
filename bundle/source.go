package bundle

import (
	"context"
	"fmt"
	"io"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// Source is what a reference names, opened for reading: a layout, or an
// archive read in place (layout.OpenArchive, layout.OpenArchiveStream).
// It is the one opener of everything ls, inspect, extract and files read.
// Close it when done.
type Source struct {
	Store *layout.Store
	// Ref is the reference: its Path names the layout or archive (as the
	// user wrote it), Tag or Digest the bundle in it.
	Ref layout.Reference
	// Name is the reference as the user wrote it, for messages and output.
	Name string
}

// Open opens ref: LAYOUT, LAYOUT:TAG, LAYOUT@DIGEST, or the same with an
// archive file in place of LAYOUT (a regular file is an archive), or "-"
// (also "-:TAG", "-@DIGEST"): the archive read from stdin. Errors: those
// of layout.ParseReference, layout.Open, layout.OpenArchive and
// layout.OpenArchiveStream; ErrBadInput for "-" without stdin.
func Open(ctx context.Context, ref string, stdin io.Reader) (*Source, error) {
	r, err := layout.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	var store *layout.Store
	switch fi, statErr := os.Stat(r.Path); {
	case r.Path == "-":
		if stdin == nil {
			return nil, fmt.Errorf("%w: no standard input to read the archive from", ErrBadInput)
		}
		store, err = layout.OpenArchiveStream(ctx, stdin, "-")
	case statErr == nil && fi.Mode().IsRegular():
		store, err = layout.OpenArchive(ctx, r.Path)
	default:
		store, err = layout.Open(r.Path)
	}
	if err != nil {
		return nil, err
	}
	return &Source{Store: store, Ref: r, Name: ref}, nil
}

// OpenStream opens the archive r (a split set's parts, read in order) as a
// Source named name; the bundle is its only one (or an error at resolve).
func OpenStream(ctx context.Context, r io.Reader, name string) (*Source, error) {
	store, err := layout.OpenArchiveStream(ctx, r, name)
	if err != nil {
		return nil, err
	}
	return &Source{Store: store, Ref: layout.Reference{Path: name}, Name: name}, nil
}

// Close releases the archive file, if any.
func (s *Source) Close() error { return s.Store.Close() }

// resolve finds the manifest (or index) the reference names: its tag or
// digest, or else the only entry of index.json (ErrAmbiguous otherwise).
func (s *Source) resolve(ctx context.Context) (ocispec.Descriptor, error) {
	if s.Ref.Tag != "" || s.Ref.Digest != "" {
		return s.Store.Resolve(ctx, s.Ref)
	}
	idx, err := s.Store.ReadIndex(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if len(idx.Manifests) != 1 {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w: %d bundles, name one as LAYOUT:TAG or LAYOUT@DIGEST", s.Name, ErrAmbiguous, len(idx.Manifests))
	}
	return idx.Manifests[0], nil
}
