package bundle

import (
	"context"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// graphWalk collects the blobs under some roots, each once, parents before
// children (layout.Walker's pre-order), every blob present with its size,
// and the documents among them.
type graphWalk struct {
	store  *layout.Store
	walker *layout.Walker
	order  []ocispec.Descriptor
	docs   []ocispec.Descriptor
	// configs are the blobs manifests walked name as their config.
	configs map[digest.Digest]bool
	found   *layout.ReferrerSet // index.json's referrers, once referrers has run
}

func newGraphWalk(store *layout.Store) *graphWalk {
	return &graphWalk{store: store, walker: store.NewWalker(layout.WalkOptions{Exists: true}), configs: map[digest.Digest]bool{}}
}

// walk adds the graph under desc. Documents are read verified and parsed
// strictly; every blob must be present with its descriptor's size (the
// error wraps layout.ErrBlobNotFound or layout.ErrSizeMismatch and names
// it), so that nothing is written before the graph is known to be whole.
func (g *graphWalk) walk(ctx context.Context, desc ocispec.Descriptor) error {
	_, err := g.take(ctx, desc)
	return err
}

// take is walk returning the documents it added, as
// layout.CollectReferrers wants.
func (g *graphWalk) take(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	n := len(g.docs)
	err := g.walker.Walk(ctx, desc, func(d ocispec.Descriptor, doc *layout.Document) error {
		g.order = append(g.order, d)
		if doc != nil {
			g.docs = append(g.docs, d)
			if doc.Config != nil {
				g.configs[doc.Config.Digest] = true
			}
		}
		return nil
	})
	return g.docs[n:], err
}

// referrers adds the referrers that entries (index.json's) name of every
// document walked so far, and theirs in turn, with their graphs, and returns
// them as entries holds them (export and push).
func (g *graphWalk) referrers(ctx context.Context, entries []ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	set, err := g.store.Referrers(ctx, entries)
	var refs []ocispec.Descriptor
	if err == nil {
		g.found = set
		refs, err = layout.CollectReferrers(ctx, g.docs, set, g.take)
	}
	if err != nil {
		return nil, &ReferrersError{Where: layout.IndexFile, Err: err}
	}
	return refs, nil
}

// walkedReferrers returns the referrers found by referrers (index.json's)
// whose subject is a document walked, each once, in the order walked.
func (g *graphWalk) walkedReferrers(ctx context.Context) []ocispec.Descriptor {
	var out []ocispec.Descriptor
	seen := map[digest.Digest]bool{}
	for _, d := range g.docs {
		refs, _ := g.found.Referrers(ctx, d) // a ReferrerSet never fails
		for _, r := range refs {
			if !seen[r.Digest] {
				seen[r.Digest] = true
				out = append(out, r)
			}
		}
	}
	return out
}
