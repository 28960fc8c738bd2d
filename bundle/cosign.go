package bundle

import (
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
)

// Cosign's tag-form companions (layout.CosignTags: "sha256-<hex>.sig",
// ".att", ".sbom") travel with their subject wherever its referrers do:
// export and push take the index.json entries carrying those tags for
// every document of the graph (graphWalk.companions), pull asks the
// registry for those tags (pullCompanions). They keep their tags.

// companions walks the cosign companions that entries (index.json's) name
// of every document g has walked, and returns their entries, tagged. Errors
// are the walk's (a companion whose graph is not whole).
func (g *graphWalk) companions(ctx context.Context, entries []ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	found := layout.CosignCompanions(entries, g.docs)
	for _, c := range found {
		if _, err := g.take(ctx, c); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// pullCompanions copies from repo into dst, with its graph, the manifest
// under each cosign companion tag of every document g has walked (the
// tags the registry does not have are skipped; one that is not a manifest
// or index is left out with a line in *warnings) and returns their
// index.json entries, tagged. Errors: the registry's, through
// registryError, and the walk's.
func pullCompanions(ctx context.Context, src string, repo *remote.Repository, dst *pullTarget, g *graphWalk, copyOpts oras.CopyGraphOptions, warnings *[]string) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	for _, d := range append([]ocispec.Descriptor(nil), g.docs...) {
		for _, tag := range layout.CosignTags(d.Digest) {
			desc, err := repo.Resolve(ctx, tag)
			if errors.Is(err, errdef.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, registryError(src, err)
			}
			if !profile.IsDocument(desc.MediaType) || layout.ValidateDigest(desc.Digest) != nil {
				*warnings = append(*warnings, fmt.Sprintf("%s: the registry's tag %s names a %q, not a manifest; ignored", src, tag, desc.MediaType))
				continue
			}
			if err := oras.CopyGraph(ctx, repo, dst, referrerDescriptor(desc), copyOpts); err != nil {
				return nil, registryError(src, err)
			}
			if _, err := g.take(ctx, desc); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", src, tag, err)
			}
			out = append(out, layout.Entry(referrerDescriptor(desc), tag, nil))
		}
	}
	return out, nil
}
