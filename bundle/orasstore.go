package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"

	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
)

// orasStore adapts a layout.Store to oras-go's content interfaces
// (content.Storage, content.Resolver), so that oras.Copy and CopyGraph
// read from and write into a layout through the
// store's own rules: Push is layout.Store.Put (verified while written,
// committed atomically, a no-op for a blob already present), Fetch is
// layout.Store.Fetch (a reader that fails instead of returning io.EOF when
// the bytes do not match the descriptor).
//
// It never touches index.json: Tag is refused, and the push and pull
// workflows name what they copied in index.json themselves, last, under the
// blob lock. Bytes read by Fetch and written by Push are reported to
// progress.
type orasStore struct {
	store    *layout.Store
	progress progress.Progress
	// recheckManifests makes Exists report manifests and indexes as missing,
	// so that a copy into the layout always walks below them: an
	// interrupted import (which commits parents first) may have left a
	// manifest whose layers are not there, and oras.Copy skips the whole
	// graph under a node that exists. Put of a present blob reads nothing.
	recheckManifests bool
	// hashed names blobs the caller has just checked against their digests
	// (push verifies what it sends first): Fetch reads them with
	// layout.Store.FetchHashed, not hashing them twice.
	hashed map[digest.Digest]bool
}

// Fetch opens the blob desc names through the store's verifying reader
// (unless hashed names it: then a sentBlob, which a connection may send
// with sendfile).
// A missing blob wraps both layout.ErrBlobNotFound and errdef.ErrNotFound.
func (o *orasStore) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	fetch := o.store.Fetch
	if o.hashed[desc.Digest] {
		fetch = o.store.FetchHashed
	}
	rc, err := fetch(ctx, desc)
	if errors.Is(err, layout.ErrBlobNotFound) {
		return nil, fmt.Errorf("%w (%w)", err, errdef.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if hb, ok := rc.(*layout.HashedBlob); ok {
		return &sentBlob{blob: hb, progress: o.progress}, nil // sendfile's way
	}
	return struct {
		io.Reader
		io.Closer
	}{countio.NewReader(rc, countio.WithProgress(o.progress)), rc}, nil
}

// Push stores r as the blob desc names with layout.Store.Put: verified on
// ingest, atomic, idempotent (a present blob is not read again).
func (o *orasStore) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	return o.store.Put(ctx, desc, countio.NewReader(r, countio.WithProgress(o.progress)))
}

// Exists reports whether the layout has the blob desc names (see
// recheckManifests for manifests).
func (o *orasStore) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	if o.recheckManifests && profile.IsDocument(desc.MediaType) {
		return false, nil
	}
	return o.store.Exists(ctx, desc)
}

// Resolve finds the index.json entry a tag names, or the manifest a digest
// names ("sha256:…"). A name that resolves to nothing wraps errdef.ErrNotFound.
func (o *orasStore) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	r := layout.Reference{Path: o.store.Root()}
	if d, err := digest.Parse(ref); err == nil {
		r.Digest = d
	} else {
		r.Tag = ref
	}
	desc, err := o.store.Resolve(ctx, r)
	if errors.Is(err, layout.ErrTagNotFound) || errors.Is(err, layout.ErrBlobNotFound) {
		return desc, fmt.Errorf("%w (%w)", err, errdef.ErrNotFound)
	}
	return desc, err
}

// Tag is refused: index.json changes only through the workflows' own
// update, made last (see Pull).
func (o *orasStore) Tag(ctx context.Context, desc ocispec.Descriptor, ref string) error {
	return fmt.Errorf("tag %s in %s: %w: index.json is updated by the workflow", ref, o.store.Root(), errdef.ErrUnsupported)
}
