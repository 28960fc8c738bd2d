package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/verify"
)

// attach stores a signature manifest whose subject is subject, with one
// payload layer, and names it in index.json untagged, as oras attach does.
// It returns the payload's descriptor.
func attach(t *testing.T, dir string, subject ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	s, err := layout.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.PutBytes(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := s.PutBytes(ctx, "application/vnd.example.signature", []byte("signature bytes"))
	if err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.signature",
		Config: cfg, Layers: []ocispec.Descriptor{payload}, Subject: &subject}
	m.SchemaVersion = 2
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := s.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.AddUntagged(idx, desc) }); err != nil {
		t.Fatal(err)
	}
	return payload
}

// TestVerifySelectionCoversReferrers: verify LAYOUT:TAG covers the
// referrers export and push send with the tag (layout.CollectReferrers), so
// a damaged signature of v1 fails `verify L:v1` (the old verify walked the
// tag's graph only, and said OK).
func TestVerifySelectionCoversReferrers(t *testing.T) {
	dir, v1 := pack(t, compress.Zstd, "v1")
	payload := attach(t, dir, ocispec.Descriptor{MediaType: v1.MediaType, Digest: v1.Digest, Size: v1.Size})
	if rep := runVerify(t, dir+":v1", verify.Options{}); rep.Err() != nil || rep.Summary.Blobs != 4+2 {
		t.Fatalf("Verify(L:v1 with a signature) = %v, %d blobs, want clean and 6 blobs (the signature's manifest and payload; the empty config is the bundle's):\n%s", rep.Err(), rep.Summary.Blobs, text(rep))
	}
	name, _ := layout.BlobPath(payload.Digest)
	flipByte(t, filepath.Join(dir, filepath.FromSlash(name)), 0)
	rep := runVerify(t, dir+":v1", verify.Options{})
	named := false
	for _, f := range rep.Findings {
		named = named || (f.Code == verify.DigestMismatch && f.Location == name)
	}
	if !errors.Is(rep.Err(), verify.ErrFailed) || !named {
		t.Errorf("Verify(L:v1) with its signature's payload damaged = %v, want DIGEST_MISMATCH on %s:\n%s", rep.Err(), name, text(rep))
	}
}
