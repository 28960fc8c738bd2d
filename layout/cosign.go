package layout

import (
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Cosign's tag form: cosign stores what it attaches to a manifest or index
// not as a referrer (its subject field is not set) but as a manifest tagged
// after the digest it is attached to: "<algorithm>-<hex>.sig" (signatures),
// ".att" (attestations) and ".sbom" (SBOMs) (cosign's tag-based discovery;
// sigstore/cosign specs/SIGNATURE_SPEC.md). They are "cosign tag-form
// companions" of that digest, and this file is their one definition: pull
// fetches them beside a manifest's referrers, export and push carry the
// index.json entries carrying these tags with their subject, verify reads
// the ".sig" one.

// Cosign companion kinds: the suffix of the tag.
const (
	CosignSignature   = ".sig"
	CosignAttestation = ".att"
	CosignSBOM        = ".sbom"
)

// CosignKinds are the companion kinds, in the order they are looked for.
var CosignKinds = []string{CosignSignature, CosignAttestation, CosignSBOM}

// CosignTag returns the tag of the companion of kind (CosignSignature, ...)
// of the manifest or index d names: "sha256-<hex>.sig" for a sha256 digest.
func CosignTag(d digest.Digest, kind string) string {
	return d.Algorithm().String() + "-" + d.Encoded() + kind
}

// CosignTags returns the tags of every companion kind of d, in CosignKinds'
// order.
func CosignTags(d digest.Digest) []string {
	tags := make([]string, 0, len(CosignKinds))
	for _, k := range CosignKinds {
		tags = append(tags, CosignTag(d, k))
	}
	return tags
}

// CosignSubject reports whether tag is a cosign companion tag, and of which
// digest and kind. The digest is valid (ValidateDigest) when ok is true.
func CosignSubject(tag string) (d digest.Digest, kind string, ok bool) {
	for _, k := range CosignKinds {
		base, found := strings.CutSuffix(tag, k)
		if !found {
			continue
		}
		alg, hex, found := strings.Cut(base, "-")
		if !found {
			return "", "", false
		}
		d = digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
		if ValidateDigest(d) != nil {
			return "", "", false
		}
		return d, k, true
	}
	return "", "", false
}

// CosignCompanions returns the entries of entries (index.json's) whose
// ref.name is a cosign companion tag of the digest of one of subjects, each
// entry once, in entries' order. It reads nothing: what the companion
// manifest holds is the reader's to check.
func CosignCompanions(entries, subjects []ocispec.Descriptor) []ocispec.Descriptor {
	want := map[digest.Digest]bool{}
	for _, s := range subjects {
		want[s.Digest] = true
	}
	var out []ocispec.Descriptor
	seen := map[string]bool{}
	for _, e := range entries {
		tag := e.Annotations[ocispec.AnnotationRefName]
		if d, _, ok := CosignSubject(tag); ok && want[d] && !seen[tag] {
			seen[tag] = true // a tag names one entry (the tag rule)
			out = append(out, e)
		}
	}
	return out
}
