package signature

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// IndexSource is a Source made of what an index.json names: its referrers
// grouped by subject (a layout.ReferrerSet: the one referrer definition),
// the tags of its entries, and a function that reads a blob, checked
// against its descriptor. NewLayoutSource makes one of a layout directory;
// verify makes one of what it walked (a directory with broken entries, or
// an archive stream).
type IndexSource struct {
	set   *layout.ReferrerSet
	tags  map[string]ocispec.Descriptor
	fetch func(ctx context.Context, desc ocispec.Descriptor, limit int64) ([]byte, error)
}

// NewIndexSource returns the Source of set, the entries (index.json's
// manifests) and fetch.
func NewIndexSource(set *layout.ReferrerSet, entries []ocispec.Descriptor, fetch func(ctx context.Context, desc ocispec.Descriptor, limit int64) ([]byte, error)) *IndexSource {
	s := &IndexSource{set: set, tags: map[string]ocispec.Descriptor{}, fetch: fetch}
	for _, e := range entries {
		if tag := e.Annotations[ocispec.AnnotationRefName]; tag != "" {
			s.tags[tag] = e
		}
	}
	return s
}

// NewLayoutSource reads store's index.json and the documents it names
// (layout.Store.Referrers: an entry that cannot be read fails it); blobs
// are read verified (layout.Store.FetchAll). Inspect and Sign read
// through it.
func NewLayoutSource(ctx context.Context, store *layout.Store) (*IndexSource, error) {
	idx, err := store.ReadIndex(ctx)
	if err != nil {
		return nil, err
	}
	return layoutSource(ctx, store, idx.Manifests)
}

// layoutSource is the Source of store with index.json's entries as given.
func layoutSource(ctx context.Context, store *layout.Store, entries []ocispec.Descriptor) (*IndexSource, error) {
	set, err := store.Referrers(ctx, entries)
	if err != nil {
		return nil, err
	}
	return NewIndexSource(set, entries, store.FetchAll), nil
}

// Referrers returns the referrers of subject in the set.
func (s *IndexSource) Referrers(ctx context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	return s.set.Referrers(ctx, subject)
}

// Tagged returns the entry tagged name.
func (s *IndexSource) Tagged(name string) (ocispec.Descriptor, bool) {
	d, ok := s.tags[name]
	return d, ok
}

// Fetch reads a blob of at most limit bytes with the source's function.
func (s *IndexSource) Fetch(ctx context.Context, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	return s.fetch(ctx, desc, limit)
}
