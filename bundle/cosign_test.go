package bundle

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// cosignCompanion stores a manifest without a subject, tagged as cosign
// tags what it attaches to subject (layout.CosignTag of kind).
func cosignCompanion(t *testing.T, store *layout.Store, subject ocispec.Descriptor, kind string) ocispec.Descriptor {
	t.Helper()
	// As cosign v2.6.5 writes it: an image config naming no platform.
	payload, err := store.PutBytes(ctx, "application/vnd.dev.cosign.simplesigning.v1+json", []byte(`{"critical":{"image":{"docker-manifest-digest":"`+subject.Digest.String()+`"}}}`+kind))
	must(t, err)
	cfg, err := store.PutBytes(ctx, ocispec.MediaTypeImageConfig, []byte(`{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":["`+payload.Digest.String()+`"]},"config":{}}`))
	must(t, err)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{payload}}
	m.SchemaVersion = 2
	data, err := json.Marshal(m)
	must(t, err)
	desc, err := store.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	must(t, err)
	must(t, store.UpdateIndex(ctx, func(idx *ocispec.Index) error {
		return layout.SetTag(idx, desc, layout.CosignTag(subject.Digest, kind))
	}))
	return desc
}

// TestExportImportCosignCompanions: exporting a tag takes cosign's
// tag-form companions of its manifest (.sig, .att, .sbom) with their tags,
// not those of another manifest, not with NoReferrers; importing the
// archive gives them their tags in the receiving layout.
func TestExportImportCosignCompanions(t *testing.T) {
	dir, v1 := packedLayout(t, "v1")
	store, err := layout.Open(dir)
	must(t, err)
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: v1.Digest, Size: v1.Size}
	want := map[string]bool{}
	for _, kind := range layout.CosignKinds {
		cosignCompanion(t, store, subject, kind)
		want[layout.CosignTag(v1.Digest, kind)] = true
	}
	// A companion of another manifest stays home.
	cosignCompanion(t, store, ocispec.Descriptor{Digest: digest.FromString("another manifest")}, layout.CosignSignature)

	data, res := exportBytes(t, []string{dir + ":v1"}, ExportOptions{})
	idx, err := layout.ParseIndex(archiveMember(t, data, "index.json"))
	must(t, err)
	got := map[string]bool{}
	for _, m := range idx.Manifests {
		if tag := m.Annotations[ocispec.AnnotationRefName]; tag != "v1" {
			got[tag] = true
		}
	}
	if len(got) != len(want) {
		t.Fatalf("archive's tags besides v1: %v, want %v", got, want)
	}
	for tag := range want {
		if !got[tag] {
			t.Errorf("%s not exported", tag)
		}
	}
	marked := 0
	for _, b := range res.Bundles {
		if b.Referrer {
			marked++
		}
	}
	if marked != len(want) {
		t.Errorf("Bundles marked as travelling with their subject: %d, want %d: %+v", marked, len(want), res.Bundles)
	}

	data, _ = exportBytes(t, []string{dir + ":v1"}, ExportOptions{NoReferrers: true})
	idx, err = layout.ParseIndex(archiveMember(t, data, "index.json"))
	must(t, err)
	if len(idx.Manifests) != 1 {
		t.Errorf("NoReferrers: %d entries, want 1", len(idx.Manifests))
	}

	data, _ = exportBytes(t, []string{dir + ":v1"}, ExportOptions{})
	into := filepath.Join(t.TempDir(), "site")
	if _, err := Import(ctx, into, bytes.NewReader(data), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	site, err := layout.Open(into)
	must(t, err)
	sidx, err := site.ReadIndex(ctx)
	must(t, err)
	if n := len(layout.CosignCompanions(sidx.Manifests, []ocispec.Descriptor{subject})); n != len(want) {
		t.Errorf("imported layout has %d companions of v1, want %d", n, len(want))
	}
}
