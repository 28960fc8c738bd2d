package layout

import (
	"strings"

	"github.com/opencontainers/go-digest"
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
