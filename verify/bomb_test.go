package verify

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/profile"
)

// TestDeepLayerLimit: --deep stops reading a layer that decompresses past
// its declared size, or, without one, past MaxLayerSize (a small zstd
// layer of 1 MiB of zeros here), in a layout and in an archive alike.
func TestDeepLayerLimit(t *testing.T) {
	content := tarOf(t, entry{name: "files/zeros", body: string(make([]byte, 1<<20))})
	blob := compressed(t, content, compress.Zstd)
	if len(blob) > 4<<10 {
		t.Fatalf("the zstd layer is %d bytes, want a small bomb", len(blob))
	}
	for _, c := range []struct {
		name     string
		declared string // io.ocibundle.content.size, "" for none
		max      int64
		code     Code
		message  string
	}{
		{"past its declared size", "4096", 0, ContentSizeMismatch, "decompresses to more than the 4096 bytes its io.ocibundle.content.size says: not read further"},
		{"past the cap", "", 64 << 10, LayerTooLarge, "decompresses to more than 65536 bytes, the --max-layer-size cap (64.0 KiB) on a layer without io.ocibundle.content.size: not read further"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t)
			deepLayer(content, blob, ocispec.MediaTypeImageLayerZstd, func(l map[string]any) {
				ann := l["annotations"].(map[string]any)
				delete(ann, profile.AnnotationContentSize)
				if c.declared != "" {
					ann[profile.AnnotationContentSize] = c.declared
				}
			})(f)
			opts := Options{Deep: true, MaxLayerSize: c.max}
			reports := map[string]*Report{"layout": run(t, f.dir, opts)}
			if c.declared == "" {
				// An archive's layers may come before their manifest: the
				// cap is all it knows.
				reports["archive"] = verifyBytes(t, tarMembers(t, membersOf(t, f.dir)), opts)
			}
			for mode, rep := range reports {
				got := find(rep, c.code)
				if len(got) != 1 || got[0].Severity != Error || !strings.Contains(got[0].Message, c.message) {
					t.Errorf("%s: Verify() %s findings = %+v, want one error %q; report:\n%s", mode, c.code, got, c.message, dump(rep))
				}
				if rep.Summary.Errors != 1 {
					t.Errorf("%s: Verify() = %d errors, want the one:\n%s", mode, rep.Summary.Errors, dump(rep))
				}
			}
		})
	}
	// With the cap raised, the layer is fine.
	f := newFx(t)
	deepLayer(content, blob, ocispec.MediaTypeImageLayerZstd, func(l map[string]any) {
		delete(l["annotations"].(map[string]any), profile.AnnotationContentSize)
	})(f)
	if rep := run(t, f.dir, Options{Deep: true, MaxLayerSize: 2 << 20}); rep.Summary.Errors != 0 {
		t.Errorf("Verify(MaxLayerSize 2 MiB) = errors:\n%s", dump(rep))
	}
}
