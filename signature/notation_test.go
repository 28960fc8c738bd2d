package signature_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/internal/testpki"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/signature"
	"github.com/ocibundle/ocibundle/verify"
)

// packed packs one small file into dir/layout tagged v1 and returns the
// layout and the reference LAYOUT:v1.
func packed(t *testing.T, dir string) (string, string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(src, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lay := filepath.Join(dir, "layout")
	if _, err := bundle.Pack(context.Background(), lay, []string{src}, bundle.PackOptions{Tags: []string{"v1"}}); err != nil {
		t.Fatal(err)
	}
	return lay, lay + ":v1"
}

func sign(t *testing.T, ref string, leaf *testpki.Leaf, mediaType string, at time.Time) bundle.SignResult {
	t.Helper()
	res, err := bundle.Sign(context.Background(), ref, signature.SignOptions{
		Key: leaf.Key, Chain: leaf.Chain(), MediaType: mediaType, SigningTime: at,
	})
	if err != nil {
		t.Fatalf("Sign(%s) = %v", ref, err)
	}
	return res
}

// check verifies target with trust and returns its report and the codes
// of its findings.
func check(t *testing.T, target string, trust signature.Trust) (*verify.Report, []verify.Code) {
	t.Helper()
	rep, err := verify.Verify(context.Background(), target, verify.Options{Trust: trust})
	if err != nil {
		t.Fatalf("Verify(%s) = %v", target, err)
	}
	var out []verify.Code
	for _, f := range rep.Findings {
		out = append(out, f.Code)
	}
	return rep, out
}

func wantCodes(t *testing.T, what string, rep *verify.Report, got []verify.Code, ok bool, want ...verify.Code) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: findings %v, want %s among them", what, got, w)
		}
	}
	if rep.OK() != ok {
		t.Errorf("%s: report OK = %v, want %v (%v)", what, rep.OK(), ok, rep.Err())
	}
}

// TestNotationSignAndCheck signs a bundle with Sign in both envelopes and
// judges it through verify, for the layout and for its export archive:
// valid with the issuing CA, seen without trust, untrusted with another
// CA (exit 1: ErrFailed), and valid under a trust policy and trust store
// in notation's formats.
func TestNotationSignAndCheck(t *testing.T) {
	ca := testpki.NewCA(t, "test root")
	other := testpki.NewCA(t, "other root")
	for _, env := range []string{signature.MediaTypeJWS, signature.MediaTypeCOSE} {
		t.Run(env, func(t *testing.T) {
			dir := t.TempDir()
			caFile := ca.WriteCA(t, dir, "ca.pem")
			otherFile := other.WriteCA(t, dir, "other.pem")
			lay, ref := packed(t, dir)
			signed := sign(t, ref, ca.Valid(t, "release signer"), env, time.Time{})
			in, err := bundle.Inspect(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			short := map[string]string{signature.MediaTypeJWS: "jws", signature.MediaTypeCOSE: "cose"}[env]
			if len(in.Signatures) != 1 || in.Signatures[0].Digest != signed.Signature || in.Signatures[0].Envelope != short ||
				in.Signatures[0].Format != signature.FormatNotation || !strings.Contains(in.Signatures[0].Signer, "CN=release signer") {
				t.Errorf("Inspect(%s).Signatures = %+v, want the one notation %s signature by CN=release signer", ref, in.Signatures, short)
			}
			archive := filepath.Join(dir, "out.tar")
			if _, err := bundle.ExportFile(context.Background(), archive, []string{ref}, bundle.ExportOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, target := range []string{lay, ref, archive} {
				rep, got := check(t, target, signature.Trust{CACerts: []string{caFile}})
				wantCodes(t, target+" --cert ca.pem", rep, got, true, verify.SignatureValid)
				rep, got = check(t, target, signature.Trust{})
				wantCodes(t, target+" without trust", rep, got, true, verify.SignatureSeen)
				rep, got = check(t, target, signature.Trust{CACerts: []string{otherFile}})
				wantCodes(t, target+" --cert other.pem", rep, got, false, verify.SignatureUntrusted, verify.SignatureMissing)
				if !errors.Is(rep.Err(), verify.ErrFailed) {
					t.Errorf("%s --cert other.pem: %v, want ErrFailed", target, rep.Err())
				}
			}
			// Small blobs kept from the stream for the signature checks
			// are still decompressed and checked by --deep.
			deep, err := verify.Verify(context.Background(), archive, verify.Options{Deep: true, Trust: signature.Trust{CACerts: []string{caFile}}})
			if err != nil || !deep.OK() || len(deep.Findings) != 1 || deep.Findings[0].Code != verify.SignatureValid {
				t.Errorf("verify --deep --cert of the archive: %v, %+v; want OK and only SIGNATURE_VALID", err, deep.Findings)
			}
			policy, store := notationTrust(t, dir, caFile, "registry.example/app")
			rep, got := check(t, lay, signature.Trust{TrustPolicy: policy, TrustStore: store, Scope: "registry.example/app"})
			wantCodes(t, "--trust-policy --trust-store --scope", rep, got, true, verify.SignatureValid)
			_, err = verify.Verify(context.Background(), lay, verify.Options{Trust: signature.Trust{TrustPolicy: policy, TrustStore: store}})
			if !errors.Is(err, signature.ErrBadTrust) || !errors.Is(err, verify.ErrBadOption) {
				t.Errorf("a policy with no statement for the default scope: Verify() = %v, want ErrBadTrust and ErrBadOption", err)
			}
		})
	}
}

// notationTrust writes a trust policy of one statement for scope and a
// trust store (notation's layout: x509/ca/NAME/*.pem) holding caFile.
func notationTrust(t *testing.T, dir, caFile, scope string) (policy, store string) {
	t.Helper()
	store = filepath.Join(dir, "truststore")
	named := filepath.Join(store, "x509", "ca", "release")
	if err := os.MkdirAll(named, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(named, "ca.pem"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	policy = filepath.Join(dir, "trustpolicy.json")
	doc := `{"version":"1.0","trustPolicies":[{"name":"release","registryScopes":["` + scope + `"],` +
		`"signatureVerification":{"level":"strict","override":{"revocation":"skip"}},"trustStores":["ca:release"],"trustedIdentities":["*"]}]}`
	if err := os.WriteFile(policy, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return policy, store
}

// TestNotationExpiredAndBroken: a signature made while its certificate was
// valid is SIGNATURE_EXPIRED once it has expired; a flipped byte in the
// envelope blob makes it SIGNATURE_INVALID (next to the DIGEST_MISMATCH).
func TestNotationExpiredAndBroken(t *testing.T) {
	ca := testpki.NewCA(t, "test root")
	dir := t.TempDir()
	caFile := ca.WriteCA(t, dir, "ca.pem")
	trust := signature.Trust{CACerts: []string{caFile}}

	lay, ref := packed(t, filepath.Join(dir, "expired"))
	past := time.Now().AddDate(0, 0, -10)
	expired := ca.Issue(t, "old signer", past.Add(-time.Hour), past.Add(24*time.Hour))
	sign(t, ref, expired, signature.MediaTypeJWS, past)
	rep, got := check(t, lay, trust)
	wantCodes(t, "expired", rep, got, false, verify.SignatureExpired, verify.SignatureMissing)

	lay, ref = packed(t, filepath.Join(dir, "flipped"))
	res := sign(t, ref, ca.Valid(t, "signer"), signature.MediaTypeJWS, time.Time{})
	env := envelopeOf(t, lay, res.Signature)
	path := filepath.Join(lay, "blobs", "sha256", env.Encoded())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, got = check(t, lay, trust)
	wantCodes(t, "flipped byte", rep, got, false, verify.SignatureInvalid, verify.SignatureMissing, verify.DigestMismatch)
	for _, f := range rep.Findings {
		if f.Code == verify.SignatureInvalid && !strings.Contains(f.Location, res.Signature.Encoded()) {
			t.Errorf("SIGNATURE_INVALID at %s, want the signature manifest %s named", f.Location, res.Signature)
		}
	}
}

// envelopeOf returns the digest of the envelope blob of the signature
// manifest sig.
func envelopeOf(t *testing.T, lay string, sig digest.Digest) digest.Digest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(lay, "blobs", "sha256", sig.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("signature manifest %s: %v, %d layers", sig, err, len(m.Layers))
	}
	if m.Config.MediaType != signature.ArtifactTypeNotation || m.Subject == nil {
		t.Errorf("signature manifest: config %s, subject %v; want notation's config and a subject", m.Config.MediaType, m.Subject)
	}
	return m.Layers[0].Digest
}

// TestNotationSignTwice: the same key, certificate and signing time add no
// second signature; another signing time does.
func TestNotationSignTwice(t *testing.T) {
	ca := testpki.NewCA(t, "test root")
	leaf := ca.Valid(t, "signer")
	lay, ref := packed(t, t.TempDir())
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	first := sign(t, ref, leaf, signature.MediaTypeJWS, at)
	again := sign(t, ref, leaf, signature.MediaTypeJWS, at)
	if !first.Added || again.Added || again.Signature != first.Signature {
		t.Errorf("Sign twice at %v: %+v then %+v, want the second to add nothing and name the first", at, first, again)
	}
	later := sign(t, ref, leaf, signature.MediaTypeJWS, at.Add(time.Minute))
	if !later.Added || later.Signature == first.Signature {
		t.Errorf("Sign at another time: %+v, want a second signature", later)
	}
	idx, err := layout.Open(lay)
	if err != nil {
		t.Fatal(err)
	}
	index, err := idx.ReadIndex(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(index.Manifests); n != 3 {
		t.Errorf("index.json has %d entries, want 3 (the bundle and two signatures)", n)
	}
}

// TestReadKey reads a plain and an encrypted PKCS#8 key; a wrong
// passphrase and a certificate given as the key wrap ErrBadTrust.
func TestReadKey(t *testing.T) {
	dir := t.TempDir()
	leaf := testpki.NewCA(t, "root").Valid(t, "signer")
	plain := leaf.WriteKey(t, dir, "plain.key", "")
	enc := leaf.WriteKey(t, dir, "enc.key", "s3cret")
	pass := func(p string) func() ([]byte, error) { return func() ([]byte, error) { return []byte(p), nil } }
	if _, err := signature.ReadKey(plain, nil); err != nil {
		t.Errorf("ReadKey(plain) = %v", err)
	}
	if _, err := signature.ReadKey(enc, pass("s3cret")); err != nil {
		t.Errorf("ReadKey(encrypted, right passphrase) = %v", err)
	}
	if _, err := signature.ReadKey(enc, pass("wrong")); !errors.Is(err, signature.ErrBadTrust) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("ReadKey(encrypted, wrong passphrase) = %v, want ErrBadTrust", err)
	}
	chain := leaf.WriteChain(t, dir, "chain.pem")
	if _, err := signature.ReadKey(chain, nil); !errors.Is(err, signature.ErrBadTrust) {
		t.Errorf("ReadKey(a certificate) = %v, want ErrBadTrust", err)
	}
}

// TestNotationMissing: trust given and a bundle with no signature at all is
// SIGNATURE_MISSING (exit 1); a CA file that is not a certificate is
// ErrBadTrust, a usage error, before anything is judged.
func TestNotationMissing(t *testing.T) {
	dir := t.TempDir()
	caFile := testpki.NewCA(t, "root").WriteCA(t, dir, "ca.pem")
	lay, _ := packed(t, dir)
	rep, got := check(t, lay, signature.Trust{CACerts: []string{caFile}})
	wantCodes(t, "unsigned bundle --cert ca.pem", rep, got, false, verify.SignatureMissing)
	bad := filepath.Join(dir, "not-a-cert.pem")
	if err := os.WriteFile(bad, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := verify.Verify(context.Background(), lay, verify.Options{Trust: signature.Trust{CACerts: []string{bad}}})
	if !errors.Is(err, signature.ErrBadTrust) || !strings.Contains(err.Error(), bad) {
		t.Errorf("Verify(--cert %s) = %v, want ErrBadTrust naming the file", bad, err)
	}
}
