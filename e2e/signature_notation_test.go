//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/internal/testpki"
)

// notationHome is a notation configuration made by the test: an
// XDG_CONFIG_HOME whose notation/ holds the signing key leaf (as
// signingkeys.json names local keys), a trust store "release" with ca, and
// a trust policy for scope. It returns the environment that points
// notation at it (experimental features on, for --oci-layout).
func notationHome(t *testing.T, work string, leaf *testpki.Leaf, ca *testpki.CA, scope string) []string {
	t.Helper()
	home := filepath.Join(work, "config")
	conf := filepath.Join(home, "notation")
	keys := filepath.Join(conf, "localkeys")
	store := filepath.Join(conf, "truststore", "x509", "ca", "release")
	for _, d := range []string{keys, store} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if leaf != nil {
		key := leaf.WriteKey(t, keys, "signer.key", "")
		chain := leaf.WriteChain(t, keys, "signer.crt")
		sk, _ := json.Marshal(map[string]any{"default": "signer", "keys": []map[string]string{{"name": "signer", "keyPath": key, "certPath": chain}}})
		writeFile(t, filepath.Join(conf, "signingkeys.json"), sk, 0o600)
	}
	ca.WriteCA(t, store, "ca.pem")
	policy := `{"version":"1.0","trustPolicies":[{"name":"release","registryScopes":["` + scope + `"],` +
		`"signatureVerification":{"level":"strict","override":{"revocation":"skip"}},"trustStores":["ca:release"],"trustedIdentities":["*"]}]}`
	writeFile(t, filepath.Join(conf, "trustpolicy.json"), []byte(policy), 0o600)
	return []string{"XDG_CONFIG_HOME=" + home, "HOME=" + work, "NOTATION_EXPERIMENTAL=1"}
}

// packSigned packs one file into work/NAME tagged v1.
func packSigned(t *testing.T, work, name string) (lay string, bundle digest.Digest) {
	t.Helper()
	src := filepath.Join(work, name+"-src")
	writeFile(t, filepath.Join(src, "app.txt"), []byte("app "+name+"\n"), 0o644)
	lay = filepath.Join(work, name)
	return lay, digestOut(t, mustRun(t, work, nil, "pack", "-o", lay, "-t", "v1", src))
}

// TestNotationSignsOcibundleVerifies: notation sign --oci-layout (JWS and
// COSE) on our layout, then ocibundle verify --cert with the CA passes for
// the layout and for its export archive; with another CA, or after a byte
// of the signature's envelope is flipped, it exits 1 naming the signature.
func TestNotationSignsOcibundleVerifies(t *testing.T) {
	notation := requireTool(t, "notation")
	work := t.TempDir()
	ca, other := testpki.NewCA(t, "release root"), testpki.NewCA(t, "other root")
	env := notationHome(t, work, ca.Valid(t, "release signer"), ca, "registry.example/app")
	caFile, otherFile := ca.WriteCA(t, work, "ca.pem"), other.WriteCA(t, work, "other.pem")
	for _, format := range []string{"jws", "cose"} {
		lay, _ := packSigned(t, work, format)
		if r := runCmd(t, work, env, notation, "sign", "--oci-layout", lay+":v1", "--signature-format", format); r.code != 0 {
			t.Fatalf("notation sign: exit %d\n%s", r.code, r.stderr)
		}
		out := mustRun(t, work, nil, "verify", "--cert", caFile, lay+":v1")
		if !strings.Contains(out, "SIGNATURE_VALID") || !strings.Contains(out, "notation "+format+" signature") || !strings.Contains(out, "CN=release signer") {
			t.Errorf("verify --cert of notation's %s signature:\n%s\nwant SIGNATURE_VALID naming the envelope and the signer", format, out)
		}
		archive := filepath.Join(work, format+".tar")
		mustRun(t, work, nil, "export", "-o", archive, lay+":v1")
		if out := mustRun(t, work, nil, "verify", "--cert", caFile, archive); !strings.Contains(out, "SIGNATURE_VALID") {
			t.Errorf("verify --cert of the archive:\n%s\nwant SIGNATURE_VALID", out)
		}
		r := run(t, work, nil, "verify", "--cert", otherFile, lay+":v1")
		if r.code != 1 || !strings.Contains(r.stdout, "SIGNATURE_UNTRUSTED") {
			t.Errorf("verify --cert other.pem: exit %d\n%s\nwant exit 1 and SIGNATURE_UNTRUSTED", r.code, r.stdout)
		}
		sig := onlySignature(t, lay)
		flipEnvelopeByte(t, lay, sig)
		r = run(t, work, nil, "verify", "--cert", caFile, lay+":v1")
		if r.code != 1 || !strings.Contains(r.stdout, "SIGNATURE_INVALID blobs/sha256/"+sig.Encoded()) {
			t.Errorf("verify --cert after a flipped byte: exit %d\n%s\nwant exit 1 and SIGNATURE_INVALID naming %s", r.code, r.stdout, sig)
		}
	}
}

// TestNotationExpiredCertificate: a signature notation made with a
// certificate that has expired since gives exit 1 and SIGNATURE_EXPIRED.
func TestNotationExpiredCertificate(t *testing.T) {
	notation := requireTool(t, "notation")
	work := t.TempDir()
	ca := testpki.NewCA(t, "release root")
	expires := time.Now().Add(3 * time.Second)
	env := notationHome(t, work, ca.Issue(t, "short-lived signer", time.Now().Add(-time.Hour), expires), ca, "*")
	lay, _ := packSigned(t, work, "short")
	if r := runCmd(t, work, env, notation, "sign", "--oci-layout", lay+":v1"); r.code != 0 {
		t.Fatalf("notation sign: exit %d\n%s", r.code, r.stderr)
	}
	time.Sleep(time.Until(expires) + time.Second)
	r := run(t, work, nil, "verify", "--cert", ca.WriteCA(t, work, "ca.pem"), lay+":v1")
	if r.code != 1 || !strings.Contains(r.stdout, "SIGNATURE_EXPIRED blobs/sha256/"+onlySignature(t, lay).Encoded()) {
		t.Errorf("verify --cert of an expired signature: exit %d\n%s\nwant exit 1 and SIGNATURE_EXPIRED naming it", r.code, r.stdout)
	}
}

// TestOcibundleSignsNotationVerifies: ocibundle sign (JWS and COSE, the key
// encrypted PKCS#8 with its passphrase in OCIBUNDLE_KEY_PASSPHRASE), then
// notation verify --oci-layout with a trust policy for the layout's scope
// passes, in the layout and after export and import; signing again with
// the same --created adds nothing.
func TestOcibundleSignsNotationVerifies(t *testing.T) {
	notation := requireTool(t, "notation")
	work := t.TempDir()
	ca := testpki.NewCA(t, "release root")
	leaf := ca.Valid(t, "release signer")
	env := notationHome(t, work, nil, ca, "local/app")
	key := leaf.WriteKey(t, work, "signer.key", "correct horse")
	chain := leaf.WriteChain(t, work, "chain.pem")
	pass := []string{"OCIBUNDLE_KEY_PASSPHRASE=correct horse"}
	created := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for _, format := range []string{"jws", "cose"} {
		lay, _ := packSigned(t, work, "o-"+format)
		args := []string{"sign", lay + ":v1", "--key", key, "--cert", chain, "--envelope", format, "--created", created}
		first := mustRun(t, work, pass, args...)
		if again := mustRun(t, work, pass, args...); again != first {
			t.Errorf("sign twice with --created %s: %q then %q, want the same signature", created, first, again)
		}
		if onlySignature(t, lay).String() != strings.TrimSpace(first) {
			t.Errorf("the layout's signature is not the one sign printed (%s)", first)
		}
		if r := runCmd(t, work, env, notation, "verify", "--oci-layout", lay+":v1", "--scope", "local/app"); r.code != 0 {
			t.Errorf("notation verify of ocibundle's %s signature: exit %d\n%s", format, r.code, r.stderr)
		}
		archive := filepath.Join(work, "o-"+format+".tar")
		mustRun(t, work, nil, "export", "-o", archive, lay+":v1")
		imported := filepath.Join(work, "o-"+format+"-imported")
		mustRun(t, work, nil, "import", "-o", imported, archive)
		if r := runCmd(t, work, env, notation, "verify", "--oci-layout", imported+":v1", "--scope", "local/app"); r.code != 0 {
			t.Errorf("notation verify after export and import: exit %d\n%s", r.code, r.stderr)
		}
	}
	if strings.Contains(readAll(t, work), "correct horse") {
		t.Errorf("the passphrase was written into a file under %s", work)
	}
}

// TestSignInputs: the passphrase of an encrypted key read from stdin; a
// wrong one, a key that is not the certificate's, and a missing --cert are
// refused with one line and exit 2, leaving index.json as it was; verify
// --json carries the signature findings.
func TestSignInputs(t *testing.T) {
	work := t.TempDir()
	ca := testpki.NewCA(t, "release root")
	leaf, stranger := ca.Valid(t, "release signer"), ca.Valid(t, "someone else")
	lay, _ := packSigned(t, work, "inputs")
	key := leaf.WriteKey(t, work, "signer.key", "from stdin")
	chain := leaf.WriteChain(t, work, "chain.pem")
	before, err := os.ReadFile(filepath.Join(lay, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, stdin string
		args        []string
	}{
		{"a wrong passphrase", "not it\n", []string{"--key", key, "--cert", chain}},
		{"another signer's key", "", []string{"--key", stranger.WriteKey(t, work, "stranger.key", ""), "--cert", chain}},
		{"no --cert", "", []string{"--key", key}},
	} {
		r := regRun(t, nil, tc.stdin, append([]string{"sign", lay + ":v1"}, tc.args...)...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "from stdin") {
			t.Errorf("sign with %s: exit %d, stderr %q; want exit 2 and one line", tc.what, r.code, r.stderr)
		}
		if after, _ := os.ReadFile(filepath.Join(lay, "index.json")); string(after) != string(before) {
			t.Errorf("sign with %s changed index.json", tc.what)
		}
	}
	r := regRun(t, nil, "from stdin\n", "sign", lay+":v1", "--key", key, "--cert", chain)
	if r.code != 0 {
		t.Fatalf("sign with the passphrase on stdin: exit %d\n%s", r.code, r.stderr)
	}
	var rep struct {
		OK       bool `json:"ok"`
		Findings []struct {
			Code, Severity, Location, Message string
		} `json:"findings"`
	}
	regJSON(t, mustRun(t, work, nil, "verify", "--json", "--cert", ca.WriteCA(t, work, "ca.pem"), lay), &rep)
	if !rep.OK || len(rep.Findings) != 1 || rep.Findings[0].Code != "SIGNATURE_VALID" || rep.Findings[0].Severity != "info" ||
		rep.Findings[0].Location != "blobs/sha256/"+onlySignature(t, lay).Encoded() || !strings.Contains(rep.Findings[0].Message, "CN=release signer") {
		t.Errorf("verify --json --cert: %+v, want OK and one SIGNATURE_VALID info at the signature naming the signer", rep)
	}
}

// onlySignature returns the digest of the one referrer index.json names
// besides the bundle tagged v1.
func onlySignature(t *testing.T, lay string) digest.Digest {
	t.Helper()
	var idx struct {
		Manifests []struct {
			Digest      digest.Digest     `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(lay, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	var sigs []digest.Digest
	for _, m := range idx.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] == "" {
			sigs = append(sigs, m.Digest)
		}
	}
	if len(sigs) != 1 {
		t.Fatalf("%s: %d untagged entries, want one signature", lay, len(sigs))
	}
	return sigs[0]
}

// flipEnvelopeByte flips a byte in the middle of the envelope blob of the
// signature manifest sig.
func flipEnvelopeByte(t *testing.T, lay string, sig digest.Digest) {
	t.Helper()
	var m struct {
		Layers []struct {
			Digest digest.Digest `json:"digest"`
		} `json:"layers"`
	}
	data, err := os.ReadFile(filepath.Join(lay, "blobs", "sha256", sig.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("signature manifest %s: %v", sig, err)
	}
	path := filepath.Join(lay, "blobs", "sha256", m.Layers[0].Digest.Encoded())
	env, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env[len(env)/2] ^= 1
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, env, 0o644)
}

// readAll returns the contents of every regular file below root, joined.
func readAll(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
