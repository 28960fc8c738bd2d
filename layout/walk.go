package layout

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/profile"
)

// maxGraphDepth bounds the nesting of documents (an index of indexes of …),
// so that a hostile graph cannot exhaust the stack.
const maxGraphDepth = 32

// WalkOptions are the ways callers of a Walker differ. The zero value reads
// every document strictly (ParseDocument) and checks nothing else.
type WalkOptions struct {
	// Exists requires every blob of the graph, documents and leaves alike,
	// to be present with its descriptor's size before it is visited (errors
	// wrap ErrBlobNotFound, ErrSizeMismatch, or ErrBadDocument for a
	// negative size), so that a caller can know the graph is whole before it
	// writes anything.
	Exists bool
	// Lenient reads documents as strict JSON without ParseDocument's shape
	// rules, and reads a descriptor of an unknown media type in a document
	// position (a root, an entry of manifests, a subject) as a document if
	// it decodes as one, else as a leaf: what a collector needs to find
	// every blob a peer's graph may name.
	Lenient bool
	// Subjects follows each document's subject too. A missing subject is
	// skipped, since a referrer may arrive before its subject.
	Subjects bool
}

// Walker visits the blobs of manifest graphs, each digest once across all
// its walks. It is not safe for concurrent use.
type Walker struct {
	store   *Store
	opts    WalkOptions
	visited map[digest.Digest]bool
}

// NewWalker returns a Walker of the graphs in s.
func (s *Store) NewWalker(opts WalkOptions) *Walker {
	return &Walker{store: s, opts: opts, visited: map[digest.Digest]bool{}}
}

// Visited reports whether a walk has visited the blob d.
func (w *Walker) Visited(d digest.Digest) bool {
	return w.visited[d]
}

// Walk calls visit for every blob of the graph under root not visited
// before, in pre-order: a document, then its config, layers and blobs, then
// the graph of each of its manifests in turn (then of its subject, with
// Subjects). doc is the parsed document, nil for a leaf. A descriptor is read
// as a document when its media type is a document type (IsDocument) and it
// stands in a document position; config, layers and blobs are leaves.
// Every digest must be valid (ErrBadDigest); documents are read verified
// (ErrBlobNotFound, ErrDigestMismatch, …) and nested at most 32 deep
// (ErrBadDocument). Walk stops at the first error, from the graph or from
// visit, and returns it; a blob visited before the error stays visited.
func (w *Walker) Walk(ctx context.Context, root ocispec.Descriptor, visit func(desc ocispec.Descriptor, doc *Document) error) error {
	return w.walk(ctx, root, 0, false, visit)
}

func (w *Walker) walk(ctx context.Context, desc ocispec.Descriptor, depth int, subject bool, visit func(ocispec.Descriptor, *Document) error) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if depth > maxGraphDepth {
		return fmt.Errorf("%s: %w: documents nested deeper than %d", desc.Digest, ErrBadDocument, maxGraphDepth)
	}
	fresh, err := w.check(ctx, desc)
	var doc *Document
	if err == nil && fresh {
		doc, err = w.read(ctx, desc)
	}
	if subject && errors.Is(err, ErrBlobNotFound) {
		return nil
	}
	if err != nil || !fresh {
		return err
	}
	w.visited[desc.Digest] = true
	if err := visit(desc, doc); err != nil || doc == nil {
		return err
	}
	for _, l := range doc.Leaves() {
		fresh, err := w.check(ctx, l)
		if err != nil {
			return err
		}
		if fresh {
			w.visited[l.Digest] = true
			if err := visit(l, nil); err != nil {
				return err
			}
		}
	}
	for _, m := range doc.Manifests {
		if err := w.walk(ctx, m, depth+1, false, visit); err != nil {
			return err
		}
	}
	if w.opts.Subjects && doc.Subject != nil {
		return w.walk(ctx, *doc.Subject, depth+1, true, visit)
	}
	return nil
}

// check validates desc and reports whether it is yet to be visited; with
// Exists, a blob yet to be visited must be present with its size.
func (w *Walker) check(ctx context.Context, desc ocispec.Descriptor) (fresh bool, err error) {
	if err := ValidateDigest(desc.Digest); err != nil {
		return false, err
	}
	if w.opts.Exists && desc.Size < 0 {
		return false, fmt.Errorf("%s: %w: negative size", desc.Digest, ErrBadDocument)
	}
	if w.visited[desc.Digest] {
		return false, nil
	}
	if w.opts.Exists {
		ok, err := w.store.Exists(ctx, desc)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, fmt.Errorf("%s: %w", desc.Digest, ErrBlobNotFound)
		}
	}
	return true, nil
}

// read returns the document desc names, or nil if it is a leaf.
func (w *Walker) read(ctx context.Context, desc ocispec.Descriptor) (*Document, error) {
	known := profile.IsDocument(desc.MediaType)
	if !w.opts.Lenient {
		if !known {
			return nil, nil
		}
		doc, err := w.store.ReadDocument(ctx, desc)
		return &doc, err
	}
	if !known && desc.Size > MaxDocumentSize {
		return nil, nil // too large to be a document: a leaf
	}
	data, err := w.store.FetchAll(ctx, desc, MaxDocumentSize)
	if err != nil {
		return nil, err
	}
	var doc Document
	if err := DecodeStrict(data, &doc); err != nil {
		if !known {
			return nil, nil // not a document: a leaf
		}
		return nil, fmt.Errorf("%s: %w", desc.Digest, err)
	}
	return &doc, nil
}
