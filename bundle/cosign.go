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
// registry for those tags (pullCompanions: its tag list, or one HEAD per
// tag). They keep their tags.

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
// index.json entries, tagged. Which tags the registry has comes from
// listed, its tag list (registryTags: one request for every document and
// kind), or, when that is nil (unknown), from one HEAD per tag. Errors:
// the registry's, through registryError, and the walk's.
func pullCompanions(ctx context.Context, src string, repo *remote.Repository, dst *pullTarget, g *graphWalk, listed map[string]bool, copyOpts oras.CopyGraphOptions, warnings *[]string) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	for _, d := range append([]ocispec.Descriptor(nil), g.docs...) {
		for _, tag := range layout.CosignTags(d.Digest) {
			if listed != nil && !listed[tag] {
				continue
			}
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

// errTagPages stops registryTags' listing at its second page.
var errTagPages = errors.New("the tag list has more than one page")

// registryTags returns the tags of repo's repository when the registry
// gives them all in one answer (GET /v2/<name>/tags/list), or nil when it
// does not: it refuses the listing (some registries allow pulls but not
// listings), fails, or pages it (a second page is fetched only to be
// dropped: a repository with many tags costs two requests, not one per
// page). nil means "unknown": ask for each tag.
func registryTags(ctx context.Context, repo *remote.Repository) map[string]bool {
	tags := map[string]bool{}
	pages := 0
	err := repo.Tags(ctx, "", func(page []string) error {
		if pages++; pages > 1 {
			return errTagPages
		}
		for _, t := range page {
			tags[t] = true
		}
		return nil
	})
	if err != nil {
		return nil
	}
	return tags
}
