package bundle

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/verify"
)

// Which image manifest of an index a command means: the one owner of that
// choice (extract, and whatever else resolves an index to one image).
// Platform strings and matching are containerd's (github.com/containerd/
// platforms), so that `--platform` means what it means to docker, nerdctl,
// crane and regctl.

// ParsePlatform parses a platform as `--platform` gives it, os/arch[/variant]
// (linux/amd64, linux/arm64/v8, linux/arm/v7), normalised as containerd does
// (aarch64 is arm64, x86_64 is amd64). "" is this machine's platform.
// Errors wrap ErrBadPlatform.
func ParsePlatform(s string) (ocispec.Platform, error) {
	if s == "" {
		return platforms.DefaultSpec(), nil
	}
	p, err := platforms.Parse(s)
	if err != nil {
		return ocispec.Platform{}, fmt.Errorf("%q: %w: want os/arch[/variant], as linux/amd64 or linux/arm64/v8", s, ErrBadPlatform)
	}
	return platforms.Normalize(p), nil
}

// candidate is an image manifest found below an index, with the platform
// its entry (or the nearest enclosing entry) names.
type candidate struct {
	desc     ocispec.Descriptor
	platform *ocispec.Platform
}

// selectManifest resolves desc to one image manifest for platform want: a
// manifest is itself; an index (OCI or a Docker manifest list) is searched,
// through nested indexes up to verify.MaxDepth deep, for the manifests whose
// platform matches want (containerd's platforms.Only: linux/amd64 also
// takes linux/386, linux/arm/v7 takes v6 and v5), and the best match is
// chosen. An index whose manifests name no platform (an index of artifacts)
// gives its only manifest. Entries of other media types are passed over.
//
// Errors: ErrNoPlatform when no manifest is for want (the message lists the
// platforms the index offers), ErrAmbiguous when several manifests are
// equally good, ErrUnsupported for a document that is neither manifest nor
// index, layout.ErrBadDocument for nesting deeper than verify.MaxDepth, and
// the store's errors reading an index. It only reads.
func selectManifest(ctx context.Context, store *layout.Store, desc ocispec.Descriptor, want ocispec.Platform) (ocispec.Descriptor, error) {
	switch {
	case profile.IsManifest(desc.MediaType):
		return desc, nil
	case !profile.IsIndex(desc.MediaType):
		return desc, fmt.Errorf("%s: %w: media type %q is not an image manifest or index", desc.Digest, ErrUnsupported, desc.MediaType)
	}
	var found []candidate
	if err := collectManifests(ctx, store, desc, nil, 0, map[digest.Digest]bool{}, &found); err != nil {
		return desc, err
	}
	var offered []candidate
	for _, c := range found {
		if c.platform != nil {
			offered = append(offered, c)
		}
	}
	if len(offered) == 0 {
		if len(found) != 1 {
			return desc, fmt.Errorf("%s: %w: an index of %d manifests without platforms; name one as LAYOUT@DIGEST", desc.Digest, ErrAmbiguous, len(found))
		}
		return found[0].desc, nil
	}
	match := platforms.Only(want)
	var best []candidate
	for _, c := range offered {
		switch {
		case !match.Match(*c.platform):
		case len(best) == 0 || match.Less(*c.platform, *best[0].platform):
			best = []candidate{c}
		case !match.Less(*best[0].platform, *c.platform) && c.desc.Digest != best[0].desc.Digest:
			best = append(best, c)
		}
	}
	switch len(best) {
	case 0:
		return desc, fmt.Errorf("%s: %w %s (--platform chooses): the index offers %s", desc.Digest, ErrNoPlatform, platforms.Format(want), offeredPlatforms(offered))
	case 1:
		return best[0].desc, nil
	}
	digests := make([]string, len(best))
	for i, c := range best {
		digests[i] = c.desc.Digest.String()
	}
	return desc, fmt.Errorf("%s: %w: %d manifests for %s (%s); name one as LAYOUT@DIGEST", desc.Digest, ErrAmbiguous, len(best), platforms.Format(want), strings.Join(digests, ", "))
}

// collectManifests appends to found the image manifests below the index
// desc, in entry order, each with its own platform or else inherited (the
// platform of the entry that led to it). seen holds the indexes already
// searched.
func collectManifests(ctx context.Context, store *layout.Store, desc ocispec.Descriptor, inherited *ocispec.Platform, depth int, seen map[digest.Digest]bool, found *[]candidate) error {
	if depth > verify.MaxDepth {
		return fmt.Errorf("%s: %w: indexes nested deeper than %d", desc.Digest, layout.ErrBadDocument, verify.MaxDepth)
	}
	if seen[desc.Digest] {
		return nil
	}
	seen[desc.Digest] = true
	ix, err := store.ReadIndexBlob(ctx, desc)
	if err != nil {
		return err
	}
	for _, e := range ix.Manifests {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := e.Platform
		if p == nil {
			p = inherited
		}
		switch {
		case profile.IsManifest(e.MediaType):
			*found = append(*found, candidate{desc: e, platform: p})
		case profile.IsIndex(e.MediaType):
			if err := collectManifests(ctx, store, e, p, depth+1, seen, found); err != nil {
				return err
			}
		}
	}
	return nil
}

// offeredPlatforms lists the distinct platforms of cs, sorted.
func offeredPlatforms(cs []candidate) string {
	var names []string
	for _, c := range cs {
		names = append(names, platforms.Format(*c.platform))
	}
	slices.Sort(names)
	return strings.Join(slices.Compact(names), ", ")
}
