package verify

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestBundleCountIsIndexEntries: the bundle count is the index.json entries
// verified, as ls lists them and docs/json.md defines bundles: an entry
// that is an index of two manifests is one bundle (it was counted as the
// two manifests reached: "2 bundles" where ls lists 1).
func TestBundleCountIsIndexEntries(t *testing.T) {
	f := newFx(t)
	a := f.std(nil)
	b := f.std(func(m map[string]any) { m["annotations"] = map[string]any{"org.example": "b"} })
	list := f.putJSON(idx(a, b), ocispec.MediaTypeImageIndex)
	f.index(tagged(list, "v1"))
	for _, target := range []string{f.dir, f.dir + ":v1", f.dir + "@" + list["digest"].(string)} {
		if rep := run(t, target, Options{}); rep.Summary.Bundles != 1 {
			t.Errorf("%s: %d bundles, want 1 (the index.json entry); findings %v", target, rep.Summary.Bundles, rep.Findings)
		}
	}
	f.index(tagged(list, "v1"), tagged(a, "a"))
	if rep := run(t, f.dir, Options{}); rep.Summary.Bundles != 2 {
		t.Errorf("two entries: %d bundles, want 2", rep.Summary.Bundles)
	}
	if rep := run(t, f.dir+"@"+b["digest"].(string), Options{}); rep.Summary.Bundles != 1 {
		t.Errorf("a nested manifest by digest: %d bundles, want 1", rep.Summary.Bundles)
	}
}
