//go:build linux

package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// regServer is Debian's docker-registry (distribution) on a free loopback
// port with its storage in a temporary directory, started by the test and
// stopped when it ends.
type regServer struct {
	t       *testing.T
	addr    string // host:port
	storage string
	config  string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	tls     bool
}

// startDistribution starts a registry; with an htpasswd file it requires basic
// auth (distribution accepts bcrypt entries only).
func startDistribution(t *testing.T, htpasswd string) *regServer {
	t.Helper()
	return startDistributionWith(t, htpasswd, "", "")
}

// startDistributionWith starts a registry, serving HTTPS with the PEM files
// cert and key when they are set.
func startDistributionWith(t *testing.T, htpasswd, cert, key string) *regServer {
	t.Helper()
	bin := requireTool(t, "docker-registry")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r := &regServer{t: t, addr: addr, storage: filepath.Join(dir, "storage"), config: filepath.Join(dir, "config.yml"), tls: cert != ""}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, r.storage, addr)
	if cert != "" {
		cfg += fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", cert, key)
	}
	if htpasswd != "" {
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: ocibundle-test\n    path: %s\n", htpasswd)
	}
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r.start(bin)
	t.Cleanup(r.stop)
	return r
}

// start runs the registry with the same configuration (address, storage)
// and waits until /v2/ answers.
func (r *regServer) start(bin string) {
	r.t.Helper()
	r.log = &bytes.Buffer{}
	r.cmd = exec.Command(bin, "serve", r.config)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("docker-registry serve: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	client, scheme := &http.Client{}, "http"
	if r.tls {
		// Only "is it up"; the tests judge the certificate.
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
		scheme = "https"
	}
	for {
		resp, err := client.Get(scheme + "://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			r.stop()
			r.t.Fatalf("docker-registry on %s: not answering after 20s: %v\n%s", r.addr, err, r.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill stops the registry at once (SIGKILL), as a crash would.
func (r *regServer) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// blobData lists the committed blobs in the registry's storage (digest hex
// → path of its data file).
func (r *regServer) blobData() map[string]string {
	out := map[string]string{}
	root := filepath.Join(r.storage, "docker", "registry", "v2", "blobs", "sha256")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "data" && !d.IsDir() {
			out[filepath.Base(filepath.Dir(p))] = p
		}
		return nil
	})
	return out
}

// linked lists the blobs the registry has linked into repository name
// (digest hex): those it answers HEAD for, and so those a push skips. A
// link counts once it holds the blob's digest: distribution 2.8 writes it
// in place, created empty and then written, and a registry killed between
// the two answers HEAD for that blob with a 500 for good (an empty link is
// "invalid checksum digest format"), so push sends it again.
func (r *regServer) linked(name string) map[string]bool {
	out := map[string]bool{}
	dir := filepath.Join(r.storage, "docker", "registry", "v2", "repositories", filepath.FromSlash(name), "_layers", "sha256")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "link"))
		if err == nil && string(b) == "sha256:"+e.Name() {
			out[e.Name()] = true
		}
	}
	return out
}

// regPack packs a small tree into a new layout tagged 1.0 and returns the
// source directory, the layout and the manifest digest. The bundle has 3
// blobs: manifest, config and one layer.
func regPack(t *testing.T, work string) (src, lay string, d digest.Digest) {
	t.Helper()
	src = filepath.Join(work, "release")
	writeFile(t, filepath.Join(src, "README.md"), []byte("release notes\n"), 0o644)
	writeFile(t, filepath.Join(src, "bin", "app.sh"), []byte("#!/bin/sh\necho app\n"), 0o755)
	writeFile(t, filepath.Join(src, "data", "big.txt"), bigText(2<<20), 0o644)
	stamp(t, src, time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC))
	lay = filepath.Join(work, "layout")
	d = digestOut(t, mustRun(t, work, nil, "pack", "-o", lay, "-t", "1.0", src))
	return src, lay, d
}

type regPushJSON struct {
	Reference string        `json:"reference"`
	Digest    digest.Digest `json:"digest"`
	Blobs     int           `json:"blobs"`
	Sent      int           `json:"sent"`
	Skipped   int           `json:"skipped"`
	Bytes     int64         `json:"bytes"`
	Referrers []struct {
		Digest digest.Digest `json:"digest"`
	} `json:"referrers"`
}

type regPullJSON struct {
	Digest    digest.Digest `json:"digest"`
	Blobs     int           `json:"blobs"`
	Written   int           `json:"written"`
	Bytes     int64         `json:"bytes"`
	Referrers []struct {
		Digest digest.Digest `json:"digest"`
	} `json:"referrers"`
}

func regJSON(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
}

// regRun runs ocibundle with stdin.
func regRun(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("ocibundle %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// regOneLine fails unless stderr is exactly one "ocibundle: …" line.
func regOneLine(t *testing.T, what string, r result) {
	t.Helper()
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "ocibundle: ") {
		t.Errorf("%s: stderr is not one line:\n%s", what, r.stderr)
	}
}

// noDockerConfig points DOCKER_CONFIG at an empty directory, so that the
// user's credentials never take part.
func noDockerConfig(t *testing.T) []string {
	return []string{"DOCKER_CONFIG=" + t.TempDir()}
}

// TestRegistryRoundTrip: pack → push → pull into a fresh layout → verify →
// extract equals the source; the manifest digest is the same in the layout,
// the registry (as oras and crane see it) and the pulled layout; crane's
// pull of our push has the same blobs as our pull; a second push sends
// nothing and a second pull writes nothing.
func TestRegistryRoundTrip(t *testing.T) {
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	src, lay, d := regPack(t, work)
	repo := reg.addr + "/site/release"

	var push regPushJSON
	regJSON(t, mustRun(t, work, env, "push", "--plain-http", "--json", lay+":1.0", repo), &push)
	if push.Digest != d || push.Reference != repo+":1.0" || push.Sent != push.Blobs || push.Blobs != 3 {
		t.Errorf("push = %+v, want digest %s to %s:1.0 with 3 blobs sent", push, d, repo)
	}

	pulled := filepath.Join(work, "pulled")
	var pull regPullJSON
	regJSON(t, mustRun(t, work, env, "pull", "--plain-http", "--json", "-o", pulled, repo+":1.0"), &pull)
	if pull.Digest != d || pull.Written != 3 || pull.Blobs != 3 {
		t.Errorf("pull = %+v, want digest %s, 3 blobs written", pull, d)
	}
	arcVerify(t, pulled)
	if got := xtTags(xtComplete(t, pulled)); got["1.0"] != d.String() {
		t.Errorf("pulled index.json tags = %v, want 1.0 → %s", got, d)
	}
	if a, b := readFile(t, filepath.Join(lay, "index.json")), readFile(t, filepath.Join(pulled, "index.json")); a != b {
		t.Errorf("pulled index.json differs from the packed one:\n%s\n%s", b, a)
	}
	out := filepath.Join(work, "out")
	mustRun(t, work, nil, "extract", "-o", out, pulled+":1.0")
	xtCompare(t, "extract of the pulled bundle", xtTree(t, filepath.Join(out, "release")), xtTree(t, src), "mode", "data", "link", "mtime")

	// Peers read the registry.
	oras := requireTool(t, "oras")
	r := runCmd(t, work, env, oras, "manifest", "fetch", "--plain-http", repo+":1.0")
	if r.code != 0 || digest.FromString(r.stdout) != d {
		t.Errorf("oras manifest fetch: exit %d, digest %s, want %s\n%s", r.code, digest.FromString(r.stdout), d, r.stderr)
	}
	crane := requireTool(t, "crane")
	r = runCmd(t, work, env, crane, "manifest", "--insecure", repo+":1.0")
	if r.code != 0 || digest.FromString(r.stdout) != d {
		t.Errorf("crane manifest: exit %d, digest %s, want %s\n%s", r.code, digest.FromString(r.stdout), d, r.stderr)
	}
	craneDir := filepath.Join(work, "crane")
	if r = runCmd(t, work, env, crane, "pull", "--insecure", "--format", "oci", repo+":1.0", craneDir); r.code != 0 {
		t.Fatalf("crane pull: exit %d\n%s", r.code, r.stderr)
	}
	if got, want := arcBlobs(t, craneDir), arcBlobs(t, pulled); !mapsEqual(got, want) {
		t.Errorf("crane pull has blobs %v, our pull %v", keys(got), keys(want))
	}

	// Again: the registry has everything, the layout has everything.
	regJSON(t, mustRun(t, work, env, "push", "--plain-http", "--json", lay+":1.0", repo), &push)
	if push.Sent != 0 || push.Skipped != 3 || push.Bytes != 0 {
		t.Errorf("second push = %+v, want 0 sent, 3 skipped", push)
	}
	regJSON(t, mustRun(t, work, env, "pull", "--plain-http", "--json", "-o", pulled, repo+":1.0"), &pull)
	if pull.Written != 0 || pull.Digest != d {
		t.Errorf("second pull = %+v, want nothing written", pull)
	}

	// By digest, with another local tag; and push of an untagged reference
	// under an explicit tag.
	byDigest := filepath.Join(work, "by-digest")
	mustRun(t, work, env, "pull", "--plain-http", "-o", byDigest, "-t", "site-1.0", repo+"@"+d.String())
	if got := xtTags(xtComplete(t, byDigest)); len(got) != 1 || got["site-1.0"] != d.String() {
		t.Errorf("pull by digest -t site-1.0: tags %v", got)
	}
	mustRun(t, work, env, "push", "--plain-http", lay+"@"+d.String(), repo+":copy")
	if r = runCmd(t, work, env, oras, "manifest", "fetch", "--plain-http", repo+":copy"); digest.FromString(r.stdout) != d {
		t.Errorf("push LAYOUT@DIGEST REPO:copy: the registry's copy is %s, want %s", digest.FromString(r.stdout), d)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRegistryReferrersByDefault: an SBOM attached in the layout (by oras)
// travels with push and pull by default, as with export, and stays behind
// with --no-referrers, for the three alike; --include-referrers is still
// accepted and changes nothing. Export, push and pull name the referrers
// they carried under the same key with the same elements. (Before, push and
// pull carried referrers only with --include-referrers, and export's JSON
// did not describe them.)
func TestRegistryReferrersByDefault(t *testing.T) {
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	oras := requireTool(t, "oras")
	work := t.TempDir()
	_, lay, d := regPack(t, work)
	writeFile(t, filepath.Join(work, "sbom.json"), []byte(`{"sbom":true}`), 0o644)
	const sbomType = "application/vnd.example.sbom"
	if r := runCmd(t, work, env, oras, "attach", "--oci-layout", lay+":1.0", "--artifact-type", sbomType, "sbom.json"); r.code != 0 {
		t.Fatalf("oras attach: exit %d\n%s", r.code, r.stderr)
	}
	// discover is what `oras discover` lists as attached to ref.
	discover := func(ref string) string {
		t.Helper()
		r := runCmd(t, work, env, oras, "discover", "--plain-http", "--format", "json", ref)
		if r.code != 0 {
			t.Fatalf("oras discover %s: exit %d\n%s%s", ref, r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}

	// push: by default the SBOM goes along.
	signed := reg.addr + "/site/signed"
	out := mustRun(t, work, env, "push", "--plain-http", "--json", lay+":1.0", signed)
	var push regPushJSON
	regJSON(t, out, &push)
	if len(push.Referrers) != 1 || push.Digest != d {
		t.Fatalf("push = %+v, want one referrer by default", push)
	}
	sbom := push.Referrers[0].Digest
	pushRefs := refsJSON(t, out)
	if !strings.Contains(discover(signed+":1.0"), sbom.String()) {
		t.Errorf("after a push, oras discover does not list the referrer %s", sbom)
	}
	// push --no-referrers: the bundle alone.
	bare := reg.addr + "/site/bare"
	if refs := refsJSON(t, mustRun(t, work, env, "push", "--plain-http", "--no-referrers", "--json", lay+":1.0", bare)); len(refs) != 0 {
		t.Errorf("push --no-referrers: referrers %v, want none", refs)
	}
	if got := discover(bare + ":1.0"); strings.Contains(got, sbomType) {
		t.Errorf("after push --no-referrers, oras discover lists the referrer:\n%s", got)
	}
	// push --include-referrers: accepted, as the default.
	alias := reg.addr + "/site/alias"
	if refs := refsJSON(t, mustRun(t, work, env, "push", "--plain-http", "--include-referrers", "--json", lay+":1.0", alias)); len(refs) != 1 {
		t.Errorf("push --include-referrers: referrers %v, want the SBOM", refs)
	}

	// pull: by default the SBOM comes along, as an untagged entry.
	pulled := filepath.Join(work, "pulled")
	out = mustRun(t, work, env, "pull", "--plain-http", "--json", "-o", pulled, signed+":1.0")
	var pull regPullJSON
	regJSON(t, out, &pull)
	if len(pull.Referrers) != 1 || pull.Referrers[0].Digest != sbom || pull.Blobs != 3+2 {
		// The SBOM adds its manifest and layer; its empty config is ours.
		t.Errorf("pull = %+v, want referrer %s and 5 blobs", pull, sbom)
	}
	pullRefs := refsJSON(t, out)
	found := false
	for _, m := range xtComplete(t, pulled).Manifests {
		if m.Digest == sbom && m.Annotations[ocispec.AnnotationRefName] == "" {
			found = true
		}
	}
	if !found {
		t.Errorf("pulled index.json has no untagged entry for the referrer %s", sbom)
	}
	arcVerify(t, pulled)
	// pull --no-referrers: the bundle alone, though the registry has more.
	plain := filepath.Join(work, "plain")
	if refs := refsJSON(t, mustRun(t, work, env, "pull", "--plain-http", "--no-referrers", "--json", "-o", plain, signed+":1.0")); len(refs) != 0 {
		t.Errorf("pull --no-referrers: referrers %v, want none", refs)
	}
	if idx := xtComplete(t, plain); len(idx.Manifests) != 1 {
		t.Errorf("pull --no-referrers: index.json has %d entries, want 1", len(idx.Manifests))
	}
	// pull --include-referrers: accepted, as the default.
	aliased := filepath.Join(work, "aliased")
	if refs := refsJSON(t, mustRun(t, work, env, "pull", "--plain-http", "--include-referrers", "--json", "-o", aliased, signed+":1.0")); len(refs) != 1 {
		t.Errorf("pull --include-referrers: referrers %v, want the SBOM", refs)
	}

	// export, as push and pull: the same referrers key, the same element.
	exportRefs := refsJSON(t, mustRun(t, work, env, "export", "--json", "-o", filepath.Join(work, "x.tar"), lay+":1.0"))
	if refs := refsJSON(t, mustRun(t, work, env, "export", "--no-referrers", "--json", "-o", filepath.Join(work, "y.tar"), lay+":1.0")); len(refs) != 0 {
		t.Errorf("export --no-referrers: referrers %v, want none", refs)
	}
	if len(exportRefs) != 1 || exportRefs[0]["digest"] != sbom.String() || exportRefs[0]["artifactType"] != sbomType {
		t.Fatalf("export: referrers %v, want the SBOM %s", exportRefs, sbom)
	}
	if !reflect.DeepEqual(pushRefs, exportRefs) || !reflect.DeepEqual(pullRefs, exportRefs) {
		t.Errorf("referrers differ:\nexport %v\npush   %v\npull   %v", exportRefs, pushRefs, pullRefs)
	}
}

// refsJSON is the "referrers" array of a command's --json output, each
// element as JSON has it.
func refsJSON(t *testing.T, out string) []map[string]any {
	t.Helper()
	var v struct {
		Referrers []map[string]any `json:"referrers"`
	}
	regJSON(t, out, &v)
	if v.Referrers == nil {
		t.Fatalf("--json output has no referrers array:\n%s", out)
	}
	return v.Referrers
}
