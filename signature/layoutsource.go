package signature

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// LayoutSource is a Source over a layout directory: its referrers are those
// index.json names (layout.Store.Referrers, the one referrer definition),
// its tags index.json's ref.name annotations, its blobs the layout's,
// verified as read.
type LayoutSource struct {
	store *layout.Store
	index ocispec.Index
	refs  *layout.ReferrerSet
}

// NewLayoutSource reads index.json of store and the referrers among its
// entries once. Errors: ReadIndex's and Referrers' (a document index.json
// names that cannot be read). Reads only.
func NewLayoutSource(ctx context.Context, store *layout.Store) (*LayoutSource, error) {
	idx, err := store.ReadIndex(ctx)
	if err != nil {
		return nil, err
	}
	refs, err := store.Referrers(ctx, idx.Manifests)
	if err != nil {
		return nil, err
	}
	return &LayoutSource{store: store, index: idx, refs: refs}, nil
}

// Referrers returns the referrers of subject index.json names.
func (s *LayoutSource) Referrers(ctx context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	return s.refs.Referrers(ctx, subject)
}

// Tagged returns the index.json entry whose ref.name is name.
func (s *LayoutSource) Tagged(name string) (ocispec.Descriptor, bool) {
	for _, e := range s.index.Manifests {
		if e.Annotations[ocispec.AnnotationRefName] == name {
			return e, true
		}
	}
	return ocispec.Descriptor{}, false
}

// Fetch returns the blob desc names, verified against its digest and size;
// more than limit bytes fails with layout.ErrTooLarge.
func (s *LayoutSource) Fetch(ctx context.Context, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	return s.store.FetchAll(ctx, desc, limit)
}
