//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayerSizeCapBinary: an image layer (umoci's: no declared uncompressed
// size) of 8 MiB of zeros, a few KiB of gzip, is stopped by extract and
// verify --deep with --max-layer-size 1MiB: exit 1 naming the layer, DIR
// not created; with the default cap it extracts and verifies.
func TestLayerSizeCapBinary(t *testing.T) {
	umoci := requireTool(t, "umoci")
	work := t.TempDir()
	img := filepath.Join(work, "img")
	for _, args := range [][]string{{"init", "--layout", img}, {"new", "--image", img + ":base"}, {"unpack", "--image", img + ":base", "b"}} {
		if r := runCmd(t, work, nil, umoci, args...); r.code != 0 {
			t.Fatalf("umoci %s: %s", strings.Join(args, " "), r.stderr)
		}
	}
	writeFile(t, filepath.Join(work, "b", "rootfs", "zeros"), make([]byte, 8<<20), 0o644)
	if r := runCmd(t, work, nil, umoci, "repack", "--image", img+":v1", "b"); r.code != 0 {
		t.Fatalf("umoci repack: %s", r.stderr)
	}
	// The layer is the largest blob.
	blobs, _ := os.ReadDir(filepath.Join(img, "blobs", "sha256"))
	var layer string
	var largest int64
	for _, b := range blobs {
		if fi, err := b.Info(); err == nil && fi.Size() > largest {
			layer, largest = b.Name(), fi.Size()
		}
	}
	out := filepath.Join(work, "out")
	for _, args := range [][]string{
		{"extract", "--max-layer-size", "1MiB", "-o", out, img + ":v1"},
		{"verify", "--deep", "--max-layer-size", "1MiB", img + ":v1"},
	} {
		r := run(t, work, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "1048576") || !strings.Contains(r.stderr, layer) {
			t.Errorf("ocibundle %s: exit %d, want 1 naming the layer and the cap\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		if args[0] == "verify" && !strings.Contains(r.stdout, "LAYER_TOO_LARGE") {
			t.Errorf("verify --deep: no LAYER_TOO_LARGE\n%s", r.stdout)
		}
	}
	if _, err := os.Lstat(out); !os.IsNotExist(err) {
		t.Errorf("DIR after a refused extract: %v", err)
	}
	mustRun(t, work, nil, "verify", "--deep", img+":v1")
	mustRun(t, work, nil, "extract", "-o", out, img+":v1")
	if fi, err := os.Stat(filepath.Join(out, "zeros")); err != nil || fi.Size() != 8<<20 {
		t.Errorf("extract with the default cap: %v, %v", fi, err)
	}
}
