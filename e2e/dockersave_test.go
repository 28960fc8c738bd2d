//go:build linux

package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerSaveLike exports two bundles and rewrites the archive as docker
// save 25+ writes one: both index.json entries named "latest", and docker's
// manifest.json and repositories at the top. It returns the archive and the
// two manifest digests in index.json order.
func dockerSaveLike(t *testing.T) (arc, first, second string) {
	t.Helper()
	work := t.TempDir()
	lay := filepath.Join(work, "L")
	for _, name := range []string{"alpha", "beta"} {
		src := filepath.Join(work, name)
		writeFile(t, src, []byte(name), 0o644)
		mustRun(t, "", nil, "pack", "-o", lay, "-t", name, src)
	}
	exported := filepath.Join(work, "export.tar")
	mustRun(t, "", nil, "export", "-o", exported, lay)
	data, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(bytes.NewReader(data))
	var digests []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == "index.json" {
			var idx ocispec.Index
			if err := json.Unmarshal(body, &idx); err != nil {
				t.Fatal(err)
			}
			for i := range idx.Manifests {
				idx.Manifests[i].Annotations[ocispec.AnnotationRefName] = "latest"
				digests = append(digests, idx.Manifests[i].Digest.String())
			}
			body, _ = json.Marshal(idx)
			hdr.Size = int64(len(body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	for name, body := range map[string]string{"manifest.json": `[{"RepoTags":["alpha:latest"]}]`, "repositories": `{"alpha":{"latest":"x"}}`} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	arc = filepath.Join(work, "save.tar")
	if err := os.WriteFile(arc, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(digests) != 2 {
		t.Fatalf("index.json has %d entries, want 2", len(digests))
	}
	return arc, digests[0], digests[1]
}

// TestDockerSaveDuplicateLatest: verify warns (exit 0); import exits 1 on
// one line naming both digests, keeping both manifests by digest; import
// --force says which one took the tag; extract ARCHIVE@DIGEST works and
// ARCHIVE:latest exits 1.
func TestDockerSaveDuplicateLatest(t *testing.T) {
	arc, alpha, beta := dockerSaveLike(t)
	r := run(t, "", nil, "verify", arc)
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "DUPLICATE_TAG") {
		t.Errorf("verify: exit %d, want 0 with a DUPLICATE_TAG warning\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	lay := filepath.Join(t.TempDir(), "L")
	r = run(t, "", nil, "import", "-o", lay, arc)
	if r.code != 1 {
		t.Errorf("import: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "ocibundle: import: "+arc+`: tag "latest": duplicate tag`) || !strings.Contains(r.stderr, alpha) || !strings.Contains(r.stderr, beta) {
		t.Errorf("import: stderr %q does not name the tag and both digests", r.stderr)
	}
	for digest, want := range map[string]string{alpha: "alpha", beta: "beta"} {
		for _, from := range []string{lay, arc} {
			out := filepath.Join(t.TempDir(), "x")
			mustRun(t, "", nil, "extract", "-o", out, from+"@"+digest)
			if data, err := os.ReadFile(filepath.Join(out, want)); err != nil || string(data) != want {
				t.Errorf("extract %s@%s: %s = %q, %v", from, digest, want, data, err)
			}
		}
	}
	r = run(t, "", nil, "extract", "-o", filepath.Join(t.TempDir(), "x"), arc+":latest")
	if r.code != 1 {
		t.Errorf("extract ARCHIVE:latest: exit %d, want 1\n%s", r.code, r.stderr)
	}
	oneLine(t, "extract ARCHIVE:latest", r.stderr, arc, alpha, beta)

	forced := filepath.Join(t.TempDir(), "F")
	r = run(t, "", nil, "import", "--force", "-o", forced, arc)
	if r.code != 0 || !strings.Contains(r.stderr, "gave it to "+beta) {
		t.Errorf("import --force: exit %d, stderr %q; want 0 saying %s took latest", r.code, r.stderr, beta)
	}
	if got := strings.TrimSpace(mustRun(t, "", nil, "inspect", "--json", forced+":latest")); !strings.Contains(got, beta) {
		t.Errorf("inspect F:latest = %s, want %s", got, beta)
	}
}
