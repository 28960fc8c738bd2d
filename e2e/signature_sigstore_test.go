//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/ocibundle/ocibundle/internal/sigstoretest"
	"github.com/ocibundle/ocibundle/layout"
)

// TestSigstoreKeyless: a keyless Sigstore bundle (made offline by
// sigstore-go's test Sigstore: a Fulcio certificate, a Rekor entry, a
// timestamp) stored as a referrer of a packed bundle, the way cosign
// stores one. verify --trusted-root with the signer's identity and issuer
// passes on the layout and on its export archive (SIGNATURE_VALID naming
// the identity, in --json too); another identity is exit 1
// SIGNATURE_IDENTITY; another Sigstore's root is exit 1
// SIGNATURE_UNTRUSTED; a trusted root without an identity is exit 2.
func TestSigstoreKeyless(t *testing.T) {
	const id, issuer = "release@example.com", "https://accounts.example.com"
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "f.txt"), []byte("signed keyless\n"), 0o644)
	lay := filepath.Join(work, "layout")
	d := digestOut(t, mustRun(t, work, nil, "pack", "-o", lay, "-t", "1.0", "f.txt"))

	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	data, err := sigstoretest.KeylessBundle(vs, id, issuer, d, time.Now().Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := layout.Open(lay)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := store.Resolve(ctx, layout.Reference{Path: lay, Tag: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := store.PutBytes(ctx, sigstoretest.MediaTypeBundle, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutBytes(ctx, ocispec.MediaTypeEmptyJSON, ocispec.DescriptorEmptyJSON.Data); err != nil {
		t.Fatal(err)
	}
	s := ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: sigstoretest.MediaTypeBundle,
		Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{bundle}, Subject: &s}
	m.SchemaVersion = 2
	mdata, _ := json.Marshal(m)
	sig, err := store.PutBytes(ctx, ocispec.MediaTypeImageManifest, mdata)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.AddUntagged(idx, sig) }); err != nil {
		t.Fatal(err)
	}
	root, err := sigstoretest.TrustedRoot(vs)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "trusted_root.json"), root, 0o644)
	keyless := []string{"verify", "--trusted-root", "trusted_root.json", "--certificate-oidc-issuer", issuer}

	archive := filepath.Join(work, "a.tar")
	mustRun(t, work, nil, "export", "-o", archive, lay+":1.0")
	for _, target := range []string{lay, archive} {
		r := run(t, work, nil, append(keyless, "--certificate-identity", id, target)...)
		if r.code != 0 || !strings.Contains(r.stdout, "SIGNATURE_VALID") || !strings.Contains(r.stdout, "sigstore sigstore-bundle signature of "+d.String()+" by "+id) {
			t.Errorf("keyless verify of %s: exit %d\n%s%s", target, r.code, r.stdout, r.stderr)
		}
	}
	r := run(t, work, nil, append(keyless, "--json", "--certificate-identity", id, archive)...)
	if r.code != 0 || !strings.Contains(r.stdout, `"SIGNATURE_VALID"`) {
		t.Errorf("verify --json: exit %d\n%s", r.code, r.stdout)
	}
	r = run(t, work, nil, append(keyless, "--certificate-identity", "someone@example.com", archive)...)
	if r.code != 1 || !strings.Contains(r.stdout, "SIGNATURE_IDENTITY") {
		t.Errorf("another identity: exit %d, want 1 SIGNATURE_IDENTITY\n%s%s", r.code, r.stdout, r.stderr)
	}
	oneLine(t, "another identity", r.stderr, d.Encoded())

	vs2, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	root2, err := sigstoretest.TrustedRoot(vs2)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "other_root.json"), root2, 0o644)
	r = run(t, work, nil, "verify", "--trusted-root", "other_root.json", "--certificate-oidc-issuer", issuer, "--certificate-identity", id, lay)
	if r.code != 1 || !strings.Contains(r.stdout, "SIGNATURE_UNTRUSTED") {
		t.Errorf("another root: exit %d, want 1 SIGNATURE_UNTRUSTED\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, work, nil, "verify", "--trusted-root", "trusted_root.json", lay)
	if r.code != 2 {
		t.Errorf("trusted root without identity: exit %d, want 2\n%s", r.code, r.stderr)
	}
	oneLine(t, "trusted root without identity", r.stderr, "trusted_root.json")
}
