//go:build linux

// Registry transfers that fail or are cut: a killed push or pull, a half
// linked blob, TLS, and a pull holding off gc.

package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// regBigBundle packs n incompressible files of size bytes each as n layers
// (no compression), so that a transfer takes long enough to be cut.
func regBigBundle(t *testing.T, work string, n, size int) (string, digest.Digest) {
	t.Helper()
	var paths []string
	for i := 0; i < n; i++ {
		p := filepath.Join(work, "src", fmt.Sprintf("part%d.bin", i))
		buf := make([]byte, size)
		seed := sha256.Sum256([]byte{byte(i)})
		for off := 0; off < size; off += len(seed) {
			seed = sha256.Sum256(seed[:])
			copy(buf[off:], seed[:])
		}
		writeFile(t, p, buf, 0o644)
		paths = append(paths, p)
	}
	lay := filepath.Join(work, "layout")
	args := append([]string{"pack", "-c", "none", "-o", lay, "-t", "big"}, paths...)
	return lay, digestOut(t, mustRun(t, work, nil, args...))
}

// regCut starts ocibundle with args, kills the registry as soon as ready()
// says a transfer is under way, and returns the command's result.
func regCut(t *testing.T, reg *regServer, env []string, ready func() bool, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	var err error
wait:
	for {
		select {
		case err = <-done:
			t.Fatalf("ocibundle %s finished (%v) before the registry could be killed; make the bundle bigger", args[0], err)
		default:
		}
		if ready() {
			reg.stop()
			err = <-done
			break wait
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			t.Fatalf("ocibundle %s: no transfer seen in 60s", args[0])
		}
		time.Sleep(2 * time.Millisecond)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// TestRegistryKilled: the registry killed mid-push is exit 3; started
// again, the same push completes and skips the blobs it has. Killed
// mid-pull, exit 3 and a valid layout with index.json untouched; the same
// pull then completes and skips the blobs already committed.
func TestRegistryKilled(t *testing.T) {
	const parts, size = 8, 24 << 20
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	lay, d := regBigBundle(t, work, parts, size)
	repo := reg.addr + "/site/big"
	bin := requireTool(t, "docker-registry")

	// One big blob committed in the registry and linked into the
	// repository, and not all of them.
	r := regCut(t, reg, env, func() bool {
		data := reg.blobData()
		for hex := range reg.linked("site/big") {
			if fi, err := os.Stat(data[hex]); err == nil && fi.Size() >= size {
				return true
			}
		}
		return false
	}, "push", "--plain-http", "--concurrency", "1", "--json", lay+":big", repo)
	if r.code != 3 {
		t.Fatalf("push to a registry killed mid-push: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	regOneLine(t, "killed mid-push", r)
	t.Logf("killed mid-push: %s", strings.TrimSpace(r.stderr))
	reg.start(bin)
	var push regPushJSON
	regJSON(t, mustRun(t, work, env, "push", "--plain-http", "--concurrency", "1", "--json", lay+":big", repo), &push)
	if push.Digest != d || push.Skipped < 1 || push.Sent >= push.Blobs || push.Bytes >= int64(parts*size) {
		t.Errorf("push after the restart = %+v, want some of the %d blobs skipped", push, push.Blobs)
	}

	pulled := filepath.Join(work, "pulled")
	r = regCut(t, reg, env, func() bool {
		entries, _ := os.ReadDir(filepath.Join(pulled, "blobs", "sha256"))
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && fi.Size() >= size {
				return true
			}
		}
		return false
	}, "pull", "--plain-http", "--concurrency", "1", "-o", pulled, repo+":big")
	if r.code != 3 {
		t.Fatalf("pull from a registry killed mid-pull: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	regOneLine(t, "killed mid-pull", r)
	t.Logf("killed mid-pull: %s", strings.TrimSpace(r.stderr))
	if idx := xtComplete(t, pulled); len(idx.Manifests) != 0 {
		t.Errorf("after an interrupted pull, index.json has %d entries, want 0", len(idx.Manifests))
	}
	arcVerify(t, pulled)
	reg.start(bin)
	var pull regPullJSON
	regJSON(t, mustRun(t, work, env, "pull", "--plain-http", "--json", "-o", pulled, repo+":big"), &pull)
	if pull.Digest != d || pull.Written >= pull.Blobs || pull.Bytes >= int64(parts*size) {
		t.Errorf("pull after the restart = %+v, want fewer than %d blobs written", pull, pull.Blobs)
	}
	arcVerify(t, pulled)
}

// TestRegistryHalfLinkedBlob: the state a registry killed inside its link
// write leaves (TestRegistryKilled's kill can land there): the layer is
// stored and its link in the repository is empty. The registry answers HEAD
// for it with a 500 and linked does not count it; push sends it again,
// which links it, and completes.
func TestRegistryHalfLinkedBlob(t *testing.T) {
	oras := requireTool(t, "oras")
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	_, lay, d := regPack(t, work)
	var m ocispec.Manifest
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(lay, "blobs", "sha256", d.Encoded()))), &m); err != nil {
		t.Fatal(err)
	}
	layer := m.Layers[0]
	repo := reg.addr + "/site/app"
	if r := runCmd(t, work, env, oras, "blob", "push", "--plain-http", repo+"@"+layer.Digest.String(), filepath.Join(lay, "blobs", "sha256", layer.Digest.Encoded())); r.code != 0 {
		t.Fatalf("oras blob push: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	reg.stop()
	link := filepath.Join(reg.storage, "docker", "registry", "v2", "repositories", "site", "app", "_layers", "sha256", layer.Digest.Encoded(), "link")
	if err := os.Truncate(link, 0); err != nil {
		t.Fatal(err)
	}
	if reg.linked("site/app")[layer.Digest.Encoded()] {
		t.Errorf("linked counts the empty link of %s", layer.Digest)
	}
	reg.start(requireTool(t, "docker-registry"))
	resp, err := http.Head("http://" + reg.addr + "/v2/site/app/blobs/" + layer.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("HEAD of a blob with an empty link: %s, want 500", resp.Status)
	}

	var push regPushJSON
	regJSON(t, mustRun(t, work, env, "push", "--plain-http", "--json", lay+":1.0", repo), &push)
	if push.Digest != d || push.Sent != push.Blobs {
		t.Errorf("push over an empty link = %+v, want all %d blobs sent", push, push.Blobs)
	}
	if !reg.linked("site/app")[layer.Digest.Encoded()] {
		t.Errorf("after the push, %s is not linked", layer.Digest)
	}
}

// regCert writes a self-signed certificate for 127.0.0.1 (its own CA) and
// its key, and returns their paths.
func regCert(t *testing.T) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ocibundle test registry"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{netip.MustParseAddr("127.0.0.1").AsSlice()},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	writeFile(t, key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return cert, key
}

// TestRegistryTLS: a registry with a self-signed certificate and htpasswd
// auth is refused (exit 3, naming --ca-file and --insecure) until the
// certificate is trusted with --ca-file or the check skipped with
// --insecure; then push and pull work over HTTPS with the password.
func TestRegistryTLS(t *testing.T) {
	const user, password = "ci", "tls-Pa55word"
	cert, key := regCert(t)
	reg := startDistributionWith(t, regHtpasswd(t, user, password), cert, key)
	env := noDockerConfig(t)
	work := t.TempDir()
	_, lay, d := regPack(t, work)
	repo := reg.addr + "/tls/release"
	login := []string{"-u", user, "--password-stdin"}

	r := regRun(t, env, password, append(append([]string{"push"}, login...), lay+":1.0", repo)...)
	if r.code != 3 || !strings.Contains(r.stderr, "certificate") || !strings.Contains(r.stderr, "--ca-file") {
		t.Errorf("push to an untrusted certificate: exit %d, want 3 naming the certificate and --ca-file\n%s", r.code, r.stderr)
	}
	regOneLine(t, "untrusted certificate", r)
	t.Logf("untrusted certificate: %s", strings.TrimSpace(r.stderr))
	var push regPushJSON
	r = regRun(t, env, password, append(append([]string{"push", "--json", "--ca-file", cert}, login...), lay+":1.0", repo)...)
	if r.code != 0 {
		t.Fatalf("push --ca-file: exit %d\n%s", r.code, r.stderr)
	}
	regJSON(t, r.stdout, &push)
	if push.Digest != d || push.Sent != push.Blobs {
		t.Errorf("push --ca-file = %+v, want %s sent", push, d)
	}
	pulled := filepath.Join(work, "pulled")
	r = regRun(t, env, password, append(append([]string{"pull", "--insecure", "-o", pulled}, login...), repo+":1.0")...)
	if r.code != 0 {
		t.Fatalf("pull --insecure: exit %d\n%s", r.code, r.stderr)
	}
	arcVerify(t, pulled)
	if got := xtTags(xtComplete(t, pulled)); got["1.0"] != d.String() {
		t.Errorf("pull --insecure: tags %v, want 1.0 → %s", got, d)
	}
}

// TestRegistryPullHoldsOffGC: a gc started while a pull has committed blobs
// that index.json does not name yet waits for the pull (the blob lock)
// instead of collecting them; the pull completes whole.
func TestRegistryPullHoldsOffGC(t *testing.T) {
	const parts, size = 6, 24 << 20
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	lay, d := regBigBundle(t, work, parts, size)
	repo := reg.addr + "/site/gc"
	mustRun(t, work, env, "push", "--plain-http", lay+":big", repo)

	pulled := filepath.Join(work, "pulled")
	cmd := exec.Command(bin, "pull", "--plain-http", "--concurrency", "1", "-o", pulled, repo+":big")
	cmd.Env = append(os.Environ(), env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pullDone := make(chan struct{})
	go func() {
		if err := cmd.Wait(); err != nil {
			t.Errorf("pull: %v\n%s", err, errb.String())
		}
		close(pullDone)
	}()
	// Wait for a committed blob that index.json does not name yet.
	deadline := time.Now().Add(60 * time.Second)
	for {
		entries, _ := os.ReadDir(filepath.Join(pulled, "blobs", "sha256"))
		if len(entries) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pull: no blob committed in 60s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	gc := run(t, work, nil, "gc", pulled)
	if gc.code != 0 {
		t.Fatalf("gc during a pull: exit %d\n%s", gc.code, gc.stderr)
	}
	// The pull holds the blob lock until index.json names the bundle, so
	// a gc that waited for it finds the tag there when it is done.
	idx, err := os.ReadFile(filepath.Join(pulled, "index.json"))
	if err != nil || !strings.Contains(string(idx), d.String()) {
		t.Errorf("gc finished before the pull named its bundle (gc did not wait): index.json %s, %v", idx, err)
	}
	<-pullDone
	if got := xtTags(xtComplete(t, pulled)); got["big"] != d.String() {
		t.Errorf("after a pull and a gc: tags %v, want big → %s", got, d)
	}
	arcVerify(t, pulled)
}
