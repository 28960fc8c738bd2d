package verify

import (
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestCosignSignatureImage: cosign's tag-form signature (an image manifest
// whose one layer is a simple-signing payload, its config naming no
// architecture or os, as cosign v2.6.5 writes it) passes verify and verify
// --deep without an error; an image config without an os over a tar layer
// is still BAD_CONFIG.
func TestCosignSignatureImage(t *testing.T) {
	f := newFx(t)
	subject := f.imageStd(nil)
	payload := []byte(`{"critical":{"identity":{"docker-reference":"localhost/site"},"image":{"docker-manifest-digest":"` +
		subject["digest"].(string) + `"},"type":"cosign container image signature"},"optional":null}`)
	l := with(f.put(payload, "application/vnd.dev.cosign.simplesigning.v1+json"), "annotations", map[string]any{"dev.cosignproject.cosign/signature": "MEUCIQ=="})
	cfg := f.putJSON(map[string]any{
		"architecture": "", "created": "0001-01-01T00:00:00Z", "history": []any{map[string]any{"created": "0001-01-01T00:00:00Z"}},
		"os": "", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest.FromBytes(payload).String()}}, "config": map[string]any{},
	}, ocispec.MediaTypeImageConfig)
	sig := f.putJSON(map[string]any{"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageManifest, "config": cfg, "layers": []any{l}}, ocispec.MediaTypeImageManifest)
	f.index(tagged(subject, "img"), tagged(sig, "sha256-"+digest.Digest(subject["digest"].(string)).Encoded()+".sig"))
	for _, deep := range []bool{false, true} {
		rep := run(t, f.dir, Options{Deep: deep})
		for _, fd := range rep.Findings {
			if fd.Severity == Error {
				t.Errorf("deep %v: %s", deep, dump(rep))
				break
			}
		}
	}
}
