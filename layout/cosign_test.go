package layout

import (
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestCosignTags: the companion tags of a digest are cosign's spelling,
// valid ref.names, and read back to the digest and kind; other tags are
// not companions.
func TestCosignTags(t *testing.T) {
	d := digest.FromString("manifest")
	tags := CosignTags(d)
	want := []string{"sha256-" + d.Encoded() + ".sig", "sha256-" + d.Encoded() + ".att", "sha256-" + d.Encoded() + ".sbom"}
	for i, tag := range tags {
		if tag != want[i] {
			t.Errorf("tag %d: %q, want %q", i, tag, want[i])
		}
		if err := ValidateTag(tag); err != nil {
			t.Errorf("%q: %v", tag, err)
		}
		got, kind, ok := CosignSubject(tag)
		if !ok || got != d || kind != CosignKinds[i] {
			t.Errorf("CosignSubject(%q) = %s %q %v", tag, got, kind, ok)
		}
	}
	for _, tag := range []string{"v1", "sha256-" + d.Encoded(), "sha256-abc.sig", "md5-" + d.Encoded() + ".sig", "x.sig", d.Encoded() + ".att"} {
		if _, _, ok := CosignSubject(tag); ok {
			t.Errorf("%q is taken for a companion", tag)
		}
	}
}
