//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dockerImages builds, in a local registry (crane registry serve), two
// Docker schema 2 images (crane append's default media types) of one layer
// each, linux/amd64 holding etc/which = "amd64" and linux/arm64/v8 holding
// "arm64", and a Docker manifest list of both; it returns the registry's
// address. The list is REG/docker:list, the images REG/docker:amd64 and
// REG/docker:arm64.
func dockerImages(t *testing.T) string {
	t.Helper()
	crane := requireTool(t, "crane")
	reg := startRegistry(t, crane)
	work := t.TempDir()
	for _, p := range []struct{ arch, platform string }{{"amd64", "linux/amd64"}, {"arm64", "linux/arm64/v8"}} {
		root := filepath.Join(work, p.arch)
		mkdir(t, filepath.Join(root, "etc"), 0o755)
		writeFile(t, filepath.Join(root, "etc", "which"), []byte(p.arch), 0o644)
		layer := filepath.Join(work, p.arch+".tar")
		writeTar(t, layer, root)
		ref := reg + "/docker:" + p.arch
		interopPeer(t, "crane", "append", "-f", layer, "-t", ref)
		interopPeer(t, "crane", "mutate", "--set-platform", p.platform, ref, "-t", ref)
	}
	interopPeer(t, "crane", "index", "append", "--docker-empty-base", "-m", reg+"/docker:amd64", "-m", reg+"/docker:arm64", "-t", reg+"/docker:list")
	r := interopPeer(t, "crane", "manifest", reg+"/docker:list")
	if !strings.Contains(r.stdout, "manifest.list.v2+json") || !strings.Contains(r.stdout, "distribution.manifest.v2+json") {
		t.Fatalf("crane built no Docker manifest list: %s", r.stdout)
	}
	return reg
}

// dockerLayouts copies the Docker images of dockerImages into OCI layouts
// the way users do: `crane pull --format oci` (the list's images in an OCI
// index), `regctl image copy … ocidir://` and `ocibundle pull` (the
// manifest list itself).
func dockerLayouts(t *testing.T, reg string) map[string]string {
	t.Helper()
	requireTool(t, "regctl")
	work := t.TempDir()
	out := map[string]string{"crane": filepath.Join(work, "crane"), "regctl": filepath.Join(work, "regctl"), "ocibundle": filepath.Join(work, "ocibundle")}
	interopPeer(t, "crane", "pull", "--format", "oci", reg+"/docker:list", out["crane"])
	interopPeer(t, "regctl", "--host", "reg="+reg+",tls=disabled", "image", "copy", reg+"/docker:list", "ocidir://"+out["regctl"]+":list")
	mustRun(t, "", nil, "pull", "--plain-http", "-o", out["ocibundle"], reg+"/docker:list")
	return out
}

// TestDockerSchema2Peers: Docker schema 2 images and manifest lists, as
// crane, regctl and ocibundle pull copy them into OCI layouts, verify --deep clean, extract
// (the host's platform, or --platform's; one the list lacks is exit 1
// naming those it has), and go through export and import like OCI images.
func TestDockerSchema2Peers(t *testing.T) {
	reg := dockerImages(t)
	for peer, lay := range dockerLayouts(t, reg) {
		t.Run(peer, func(t *testing.T) {
			mustRun(t, "", nil, "verify", "--deep", lay)
			out := filepath.Join(t.TempDir(), "x")
			mustRun(t, "", nil, "extract", "-o", out, lay)
			if data, err := os.ReadFile(filepath.Join(out, "etc", "which")); err != nil || string(data) != "amd64" {
				t.Errorf("extract %s: etc/which = %q, %v; want the linux/amd64 image's", peer, data, err)
			}
			out = filepath.Join(t.TempDir(), "arm")
			mustRun(t, "", nil, "extract", "--platform", "linux/arm64/v8", "-o", out, lay)
			if data, err := os.ReadFile(filepath.Join(out, "etc", "which")); err != nil || string(data) != "arm64" {
				t.Errorf("extract --platform linux/arm64/v8 %s: etc/which = %q, %v; want the arm64 image's", peer, data, err)
			}
			r := run(t, "", nil, "extract", "--platform", "linux/s390x", "-o", filepath.Join(t.TempDir(), "none"), lay)
			if r.code != 1 {
				t.Errorf("extract --platform linux/s390x: exit %d, want 1\n%s", r.code, r.stderr)
			}
			oneLine(t, "extract --platform linux/s390x", r.stderr, "linux/s390x", "offers linux/amd64, linux/arm64/v8")
			if r := run(t, "", nil, "extract", "--platform", "linux/", "-o", filepath.Join(t.TempDir(), "bad"), lay); r.code != 2 {
				t.Errorf("extract --platform linux/: exit %d, want 2 (usage)\n%s", r.code, r.stderr)
			}
			arc := filepath.Join(t.TempDir(), "docker.tar")
			mustRun(t, "", nil, "export", "-o", arc, lay)
			mustRun(t, "", nil, "verify", "--deep", arc)
			imported := filepath.Join(t.TempDir(), "imported")
			mustRun(t, "", nil, "import", "-o", imported, arc)
			mustRun(t, "", nil, "verify", "--deep", imported)
			for _, from := range []string{imported, arc} {
				out := filepath.Join(t.TempDir(), "x")
				mustRun(t, "", nil, "extract", "-o", out, from)
				if data, err := os.ReadFile(filepath.Join(out, "etc", "which")); err != nil || string(data) != "amd64" {
					t.Errorf("extract %s: etc/which = %q, %v", from, data, err)
				}
			}
		})
	}
}
