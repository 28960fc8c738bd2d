//go:build linux

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/bcrypt"
)

// regHtpasswd writes an htpasswd file with one bcrypt entry.
func regHtpasswd(t *testing.T, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, []byte(user+":"+string(hash)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRegistryAuth: basic auth with --username and --password-stdin, and
// with the Docker config file; a wrong or missing password is exit 1 with
// a clear one-line message that never shows the password.
func TestRegistryAuth(t *testing.T) {
	const user, password, wrong = "ci", "right-Pa55word", "wrong-S3cret-xyz"
	reg := startDistribution(t, regHtpasswd(t, user, password))
	work := t.TempDir()
	_, lay, d := regPack(t, work)
	repo := reg.addr + "/private/release"
	env := noDockerConfig(t)

	for _, tc := range []struct {
		name     string
		stdin    string
		args     []string
		want     int
		contains string
	}{
		{"no credentials", "", nil, 3, "registry refused access"},
		{"wrong password", wrong + "\n", []string{"-u", user, "--password-stdin"}, 3, "registry refused access"},
		{"unknown user", password + "\n", []string{"-u", "nobody", "--password-stdin"}, 3, "registry refused access"},
		{"password without user", password, []string{"--password-stdin"}, 2, "--password-stdin needs --username"},
		{"user without password", "", []string{"-u", user}, 2, "needs --password-stdin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, args := range [][]string{
				append(append([]string{"push", "--plain-http"}, tc.args...), lay+":1.0", repo),
				append(append([]string{"pull", "--plain-http", "-o", filepath.Join(t.TempDir(), "l")}, tc.args...), repo+":1.0"),
			} {
				r := regRun(t, env, tc.stdin, args...)
				if r.code != tc.want || !strings.Contains(r.stderr, tc.contains) {
					t.Errorf("ocibundle %s: exit %d, want %d with %q\n%s", args[0], r.code, tc.want, tc.contains, r.stderr)
				}
				regOneLine(t, args[0], r)
				if strings.Contains(r.stderr+r.stdout, wrong) || strings.Contains(r.stderr+r.stdout, password) {
					t.Errorf("ocibundle %s: the password is in the output:\n%s%s", args[0], r.stdout, r.stderr)
				}
			}
		})
	}

	r := regRun(t, env, password+"\n", "push", "--plain-http", "--json", "-u", user, "--password-stdin", lay+":1.0", repo)
	if r.code != 0 {
		t.Fatalf("push with the right password: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, password) {
		t.Errorf("push --json shows the password:\n%s%s", r.stdout, r.stderr)
	}
	pulled := filepath.Join(work, "pulled")
	r = regRun(t, env, password, "pull", "--plain-http", "-u", user, "--password-stdin", "-o", pulled, repo+":1.0")
	if r.code != 0 {
		t.Fatalf("pull with the right password: exit %d\n%s", r.code, r.stderr)
	}
	arcVerify(t, pulled)

	// The Docker config file (DOCKER_CONFIG), as `docker login` writes it.
	cfgDir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	writeFile(t, filepath.Join(cfgDir, "config.json"), []byte(`{"auths":{"`+reg.addr+`":{"auth":"`+auth+`"}}}`), 0o600)
	var pull regPullJSON
	regJSON(t, mustRun(t, work, []string{"DOCKER_CONFIG=" + cfgDir}, "pull", "--plain-http", "--json", "-o", filepath.Join(work, "cfg"), repo+":1.0"), &pull)
	if pull.Digest != d {
		t.Errorf("pull with the Docker config: digest %s, want %s", pull.Digest, d)
	}
	wrongAuth := base64.StdEncoding.EncodeToString([]byte(user + ":" + wrong))
	writeFile(t, filepath.Join(cfgDir, "config.json"), []byte(`{"auths":{"`+reg.addr+`":{"auth":"`+wrongAuth+`"}}}`), 0o600)
	r = run(t, work, []string{"DOCKER_CONFIG=" + cfgDir}, "push", "--plain-http", lay+":1.0", repo+":2.0")
	if r.code != 3 || !strings.Contains(r.stderr, "registry refused access") || strings.Contains(r.stderr, wrong) {
		t.Errorf("push with a wrong password in the Docker config: exit %d, want 3\n%s", r.code, r.stderr)
	}
}

// TestRegistryErrors: an unknown host is exit 3, a missing tag or
// repository exit 1, a blob the registry serves with other bytes exit 1
// (and the layout keeps its index.json), each one line.
func TestRegistryErrors(t *testing.T) {
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	_, lay, d := regPack(t, work)
	repo := reg.addr + "/site/errors"
	mustRun(t, work, env, "push", "--plain-http", lay+":1.0", repo)

	notLayout := filepath.Join(work, "not-a-layout")
	writeFile(t, filepath.Join(notLayout, "file.txt"), []byte("mine\n"), 0o644)
	for _, tc := range []struct {
		name     string
		args     []string
		want     int
		contains string
	}{
		{"pull into a directory that is not a layout", []string{"pull", "--plain-http", "-o", notLayout, repo + ":1.0"}, 1, "not an OCI image layout"},
		{"unknown host push", []string{"push", lay + ":1.0", "registry.invalid/x:1"}, 3, "unknown host"},
		{"unknown host pull", []string{"pull", "-o", filepath.Join(work, "u"), "registry.invalid/x:1"}, 3, "unknown host"},
		{"missing tag", []string{"pull", "--plain-http", "-o", filepath.Join(work, "m"), repo + ":nope"}, 3, "not found in the registry"},
		{"missing repository", []string{"pull", "--plain-http", "-o", filepath.Join(work, "m"), reg.addr + "/no/such:1.0"}, 3, "not found in the registry"},
		{"missing digest", []string{"pull", "--plain-http", "-o", filepath.Join(work, "m"), repo + "@" + digest.FromString("x").String()}, 3, "not found in the registry"},
		{"no tag or digest", []string{"pull", "--plain-http", "-o", filepath.Join(work, "m"), repo}, 2, "name a tag"},
		{"push to a digest", []string{"push", "--plain-http", lay + ":1.0", repo + "@" + d.String()}, 2, "REGISTRY/REPO[:TAG]"},
		{"missing local tag", []string{"push", "--plain-http", lay + ":2.0", repo}, 3, "tag not found"},
		{"bad concurrency", []string{"push", "--plain-http", "--concurrency", "0", lay + ":1.0", repo}, 2, "--concurrency"},
		{"https to a plain registry", []string{"pull", "-o", filepath.Join(work, "h"), repo + ":1.0"}, 3, "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, work, env, tc.args...)
			if r.code != tc.want || !strings.Contains(r.stderr, tc.contains) {
				t.Errorf("ocibundle %s: exit %d, want %d with %q\n%s", strings.Join(tc.args, " "), r.code, tc.want, tc.contains, r.stderr)
			}
			regOneLine(t, tc.name, r)
		})
	}

	// The registry serves a layer with one byte changed: the pull stops
	// with a digest mismatch, commits nothing bad, and leaves index.json
	// as it was.
	manifest := readFile(t, filepath.Join(lay, "blobs", "sha256", d.Encoded()))
	var m ocispec.Manifest
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	layer := m.Layers[len(m.Layers)-1].Digest
	data := reg.blobData()[layer.Encoded()]
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(work, "bad")
	r := run(t, work, env, "pull", "--plain-http", "-o", bad, repo+":1.0")
	if r.code != 1 || !strings.Contains(r.stderr, "digest mismatch") || !strings.Contains(r.stderr, layer.String()) {
		t.Errorf("pull of a damaged layer: exit %d, want 1 with digest mismatch naming %s\n%s", r.code, layer, r.stderr)
	}
	regOneLine(t, "damaged layer", r)
	if idx := xtComplete(t, bad); len(idx.Manifests) != 0 {
		t.Errorf("after a failed pull, index.json has %d entries, want 0", len(idx.Manifests))
	}
	if _, err := os.Stat(filepath.Join(bad, "blobs", "sha256", layer.Encoded())); err == nil {
		t.Errorf("the damaged layer %s was committed", layer)
	}
	arcVerify(t, bad)
}

// TestRegistryMultiPlatform: a two-platform image index that crane built in
// the registry is pulled whole (index, both manifests, their configs and
// layers), verifies clean, and pushed back to another repository under the
// same digest, as crane sees it.
func TestRegistryMultiPlatform(t *testing.T) {
	crane := requireTool(t, "crane")
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "rootfs", "etc", "motd"), []byte("multi\n"), 0o644)
	layer := filepath.Join(work, "layer.tar")
	writeTar(t, layer, filepath.Join(work, "rootfs"))
	repo := reg.addr + "/peer/multi"
	craneRun := func(args ...string) string {
		t.Helper()
		r := runCmd(t, work, env, crane, append(args, "--insecure")...)
		if r.code != 0 {
			t.Fatalf("crane %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		return r.stdout
	}
	for _, plat := range []string{"linux/amd64", "linux/arm64"} {
		tag := repo + ":" + strings.ReplaceAll(plat, "/", "-")
		craneRun("append", "--oci-empty-base", "-f", layer, "-t", tag)
		craneRun("mutate", "--set-platform", plat, "-t", tag, tag)
	}
	craneRun("index", "append", "-m", repo+":linux-amd64", "-m", repo+":linux-arm64", "-t", repo+":index")
	want := digest.Digest(strings.TrimSpace(craneRun("digest", repo+":index")))

	pulled := filepath.Join(work, "pulled")
	var pull regPullJSON
	regJSON(t, mustRun(t, work, env, "pull", "--plain-http", "--json", "-o", pulled, repo+":index"), &pull)
	// The index, two manifests, two configs, and the layer both share.
	if pull.Digest != want || pull.Blobs != 6 {
		t.Errorf("pull of the index = %+v, want %s and 6 blobs", pull, want)
	}
	arcVerify(t, pulled)
	mustRun(t, work, env, "push", "--plain-http", pulled+":index", reg.addr+"/copy/multi")
	if got := digest.Digest(strings.TrimSpace(craneRun("digest", reg.addr+"/copy/multi:index"))); got != want {
		t.Errorf("crane digest of our push = %s, want %s", got, want)
	}
	for _, plat := range []string{"linux/amd64", "linux/arm64"} {
		a := craneRun("manifest", "--platform", plat, repo+":index")
		b := craneRun("manifest", "--platform", plat, reg.addr+"/copy/multi:index")
		if a != b {
			t.Errorf("%s manifest differs after pull and push:\n%s\n%s", plat, a, b)
		}
	}
}
