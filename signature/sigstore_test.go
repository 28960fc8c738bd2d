package signature

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// testLayout is a layout holding one image manifest tagged "v1", built by
// the test.
type testLayout struct {
	store   *layout.Store
	subject ocispec.Descriptor
}

func newTestLayout(t *testing.T) *testLayout {
	t.Helper()
	ctx := context.Background()
	store, err := layout.Create(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tl := &testLayout{store: store}
	layer := tl.put(t, "application/vnd.oci.image.layer.v1.tar", []byte("not really a tar, a blob"))
	tl.subject = tl.putManifest(t, ocispec.Manifest{Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{layer}, ArtifactType: "application/vnd.test"}, "v1")
	return tl
}

func (tl *testLayout) put(t *testing.T, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	d, err := tl.store.PutBytes(context.Background(), mediaType, data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// putManifest stores m (its config blob too) and gives it an index.json
// entry under tag (untagged when tag is "").
func (tl *testLayout) putManifest(t *testing.T, m ocispec.Manifest, tag string) ocispec.Descriptor {
	t.Helper()
	m.Versioned, m.MediaType = specs.Versioned{SchemaVersion: 2}, ocispec.MediaTypeImageManifest
	cfg := ocispec.DescriptorEmptyJSON.Data
	if m.Config.MediaType != ocispec.MediaTypeEmptyJSON {
		cfg = []byte("{}")
	}
	tl.put(t, m.Config.MediaType, cfg)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := tl.put(t, ocispec.MediaTypeImageManifest, data)
	err = tl.store.UpdateIndex(context.Background(), func(idx *ocispec.Index) error {
		if tag == "" {
			return layout.AddUntagged(idx, d)
		}
		return layout.SetTag(idx, d, tag)
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// check runs Check over the layout for its subject.
func (tl *testLayout) check(t *testing.T, trust Trust) []Result {
	t.Helper()
	src, err := NewLayoutSource(context.Background(), tl.store)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Check(context.Background(), src, tl.subject, trust)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// newKey makes an ECDSA P-256 key pair (cosign's default) and writes the
// public half to dir/name as PEM.
func newKey(t *testing.T, dir, name string) (*ecdsa.PrivateKey, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return k, path
}

// cosignSign stores a tag-form signature of signed made with key, the way
// cosign sign --key does: a simple-signing payload layer under the tag
// sha256-<hex>.sig of tl's subject.
func (tl *testLayout) cosignSign(t *testing.T, key *ecdsa.PrivateKey, signed digest.Digest) ocispec.Descriptor {
	t.Helper()
	payload := []byte(`{"critical":{"identity":{"docker-reference":"localhost/test"},"image":{"docker-manifest-digest":"` +
		signed.String() + `"},"type":"cosign container image signature"},"optional":null}`)
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	layer := tl.put(t, mediaTypeSimpleSigning, payload)
	layer.Annotations = map[string]string{annotationSignature: base64.StdEncoding.EncodeToString(sig)}
	m := ocispec.Manifest{Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig}, Layers: []ocispec.Descriptor{layer}}
	m.Config = tl.put(t, ocispec.MediaTypeImageConfig, []byte("{}"))
	return tl.putManifest(t, m, layout.CosignTag(tl.subject.Digest, layout.CosignSignature))
}

// one returns the only Result of rs.
func one(t *testing.T, rs []Result) Result {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("%d results, want 1: %+v", len(rs), rs)
	}
	return rs[0]
}

// TestCosignTagFormKey: a tag-form signature (sha256-<hex>.sig) made with
// a key verifies with that key's public half, is untrusted with another
// key, is listed unjudged without trust, and one whose payload names
// another manifest is invalid.
func TestCosignTagFormKey(t *testing.T) {
	dir := t.TempDir()
	key, pub := newKey(t, dir, "cosign.pub")
	_, other := newKey(t, dir, "other.pub")

	tl := newTestLayout(t)
	sig := tl.cosignSign(t, key, tl.subject.Digest)

	r := one(t, tl.check(t, Trust{Keys: []string{pub}}))
	if !r.Checked || r.Err != nil || r.Format != FormatSigstore || r.Envelope != envelopeSimpleSigning || r.Signature.Digest != sig.Digest {
		t.Fatalf("with the key: %+v", r)
	}
	if want := "cosign.pub (sha256:"; len(r.Signer) < len(want) || r.Signer[:len(want)] != want {
		t.Errorf("signer %q", r.Signer)
	}
	r = one(t, tl.check(t, Trust{Keys: []string{other}}))
	if !r.Checked || !errors.Is(r.Err, ErrUntrusted) {
		t.Fatalf("with another key: %+v", r)
	}
	r = one(t, tl.check(t, Trust{Keys: []string{other, pub}}))
	if r.Err != nil {
		t.Fatalf("with both keys: %v", r.Err)
	}
	r = one(t, tl.check(t, Trust{}))
	if r.Checked || r.Err != nil {
		t.Fatalf("without trust: %+v", r)
	}

	// A payload naming another manifest, under this subject's tag.
	tl2 := newTestLayout(t)
	tl2.cosignSign(t, key, digest.FromString("another manifest"))
	r = one(t, tl2.check(t, Trust{Keys: []string{pub}}))
	if !errors.Is(r.Err, ErrInvalid) {
		t.Fatalf("payload of another digest: %+v", r)
	}
}

// TestSigstoreBadTrust: trust options that cannot be used are ErrBadTrust
// naming the file.
func TestSigstoreBadTrust(t *testing.T) {
	tl := newTestLayout(t)
	src, err := NewLayoutSource(context.Background(), tl.store)
	if err != nil {
		t.Fatal(err)
	}
	notKey := filepath.Join(t.TempDir(), "not.pub")
	os.WriteFile(notKey, []byte("hello"), 0o644)
	for _, tr := range []Trust{
		{Keys: []string{notKey}},
		{Keys: []string{filepath.Join(t.TempDir(), "missing.pub")}},
		{TrustedRoot: notKey, CertificateIdentity: "a", CertOIDCIssuer: "b"},
		{TrustedRoot: "testdata/sigstore-go/public-good.json"}, // no identity
	} {
		if _, err := Check(context.Background(), src, tl.subject, tr); !errors.Is(err, ErrBadTrust) {
			t.Errorf("%+v: %v, want ErrBadTrust", tr, err)
		}
	}
}
