//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestVerifyUncheckableAndStray: verify exits 1 for a layout that
// references a blob by an md5 digest (it cannot be checked), and 0 with a
// warning for a crashed writer's blobs/sha256/.tmp-123, which import of a
// tarred copy of the layout skips.
func TestVerifyUncheckableAndStray(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join(work, "f.txt")
	writeFile(t, src, []byte("payload"), 0o644)
	lay := filepath.Join(work, "L")
	mustRun(t, "", nil, "pack", "-o", lay, "-t", "v1", src)

	writeFile(t, filepath.Join(lay, "blobs", "sha256", ".tmp-123"), []byte("partial"), 0o644)
	r := run(t, "", nil, "verify", lay)
	if r.code != 0 || !strings.Contains(r.stdout, "W BAD_BLOB_NAME blobs/sha256/.tmp-123") {
		t.Errorf("verify with a stray .tmp-123: exit %d, want 0 with a BAD_BLOB_NAME warning\n%s%s", r.code, r.stdout, r.stderr)
	}
	arc := filepath.Join(work, "tarred.tar")
	runCmd(t, lay, nil, "tar", "-cf", arc, ".")
	r = run(t, "", nil, "import", "-o", filepath.Join(work, "imported"), arc)
	if r.code != 0 || !strings.Contains(r.stderr, ".tmp-123") {
		t.Errorf("import of a layout tarred with a stray .tmp-123: exit %d, want 0 with a warning\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "imported", "blobs", "sha256", ".tmp-123")); !os.IsNotExist(err) {
		t.Errorf("import wrote the stray file: %v", err)
	}

	data, err := os.ReadFile(filepath.Join(lay, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]any
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	idx["manifests"] = append(idx["manifests"].([]any), map[string]any{
		"mediaType": ocispec.MediaTypeImageManifest, "digest": "md5:" + strings.Repeat("0", 32), "size": 2,
	})
	data, _ = json.Marshal(idx)
	writeFile(t, filepath.Join(lay, "index.json"), data, 0o644)
	r = run(t, "", nil, "verify", lay)
	if r.code != 1 || !strings.Contains(r.stdout, "E UNKNOWN_ALGORITHM") {
		t.Errorf("verify with an md5 descriptor: exit %d, want 1 with an UNKNOWN_ALGORITHM error\n%s%s", r.code, r.stdout, r.stderr)
	}
}
