package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
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
// archive file in place of LAYOUT (a regular file is an archive, read in
// place; a named pipe an archive read as a stream), or "-" (also "-:TAG",
// "-@DIGEST"): the archive read from stdin. Errors: those
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
	case statErr == nil && fi.Mode()&(fs.ModeNamedPipe|fs.ModeCharDevice) != 0:
		// A pipe by name (mkfifo, <(cat …)): read as standard input is.
		store, err = openNamedStream(ctx, r.Path)
	default:
		store, err = layout.Open(r.Path)
	}
	if err != nil {
		return nil, err
	}
	return &Source{Store: store, Ref: r, Name: ref}, nil
}

// openNamedStream opens the pipe name and reads it as an archive stream;
// the Store's Close closes it.
func openNamedStream(ctx context.Context, name string) (*layout.Store, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, layout.PathErr(name, err)
	}
	store, err := layout.OpenArchiveStream(ctx, f, name)
	if err != nil {
		f.Close()
		return nil, err
	}
	store.CloseWith(f)
	return store, nil
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

// Finish judges the rest of an archive read as a stream
// (layout.Store.ReadToEnd): a command reading s calls it before it reports
// success, so that a stream cut short, with data after its end or with a
// refused member past what it read fails as import fails it. Errors: those
// of layout.Store.ReadToEnd.
func (s *Source) Finish(ctx context.Context) error { return s.Store.ReadToEnd(ctx) }

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

// DeltaBase returns the base digest the archive's index.json names
// (profile.AnnotationDeltaBase): the archive is a delta that leaves out the
// blobs of that base. It is "" for a full archive and for a layout (a
// layout holds its blobs, whatever its index.json says). Errors are
// ReadIndex's.
func (s *Source) DeltaBase(ctx context.Context) (string, error) {
	if !s.Store.IsArchive() {
		return "", nil
	}
	idx, err := s.Store.ReadIndex(ctx)
	if err != nil {
		return "", err
	}
	return idx.Annotations[profile.AnnotationDeltaBase], nil
}

// explainDelta turns err, when it is a blob missing from a delta archive,
// into ErrDeltaBase naming the base the archive needs (extract and files
// need a full archive, or the delta imported where its base is).
func (s *Source) explainDelta(ctx context.Context, err error) error {
	if !errors.Is(err, layout.ErrBlobNotFound) {
		return err
	}
	if base, _ := s.DeltaBase(ctx); base != "" {
		return fmt.Errorf("%w: %s is a delta of the base %s: import it into the layout that holds the base, or use a full archive: %w", ErrDeltaBase, s.Name, base, err)
	}
	return err
}
