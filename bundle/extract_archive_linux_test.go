//go:build linux

package bundle

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/compress"
)

// rchar returns the bytes this process has read through read(2) and its
// kin (/proc/self/io), whatever the page cache holds.
func rchar(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/io")
	must(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			must(t, err)
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}

func fileSize(t *testing.T, name string) int64 {
	fi, err := os.Stat(name)
	must(t, err)
	return fi.Size()
}

// TestExtractLayerReadsOnlyThatLayer: extract --layer of a small layer from
// an archive with a big one reads the archive's headers, documents and
// that layer, not the big layer (issue 13: it used to import the whole
// archive first); files --layer the same.
func TestExtractLayerReadsOnlyThatLayer(t *testing.T) {
	src := t.TempDir()
	big := make([]byte, 48<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(big); i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			big[i+k] = byte(v >> (8 * k))
		}
	}
	must(t, os.WriteFile(filepath.Join(src, "big"), big, 0o644))
	must(t, os.WriteFile(filepath.Join(src, "small"), bytes.Repeat([]byte("small\n"), 1000), 0o644))
	work := t.TempDir()
	lay := filepath.Join(work, "L")
	_, err := Pack(ctx, lay, []string{filepath.Join(src, "big"), filepath.Join(src, "small")}, PackOptions{Tags: []string{"v1"}, Compression: compress.None})
	must(t, err)
	archive := filepath.Join(work, "a.tar")
	_, err = ExportFile(ctx, archive, []string{lay + ":v1"}, ExportOptions{})
	must(t, err)

	before := rchar(t)
	res, err := Extract(ctx, archive+":v1", filepath.Join(work, "out"), ExtractOptions{Layers: []string{"small"}})
	must(t, err)
	read := rchar(t) - before
	t.Logf("extract --layer small of a %d-byte archive read %d bytes", fileSize(t, archive), read)
	if len(res.Entries) != 1 || res.Entries[0].Path != "small" {
		t.Errorf("Extract(--layer small) wrote %+v, want small only", res.Entries)
	}
	if read > 1<<20 {
		t.Errorf("Extract(--layer small) of a %d MiB archive read %d bytes, want the headers, documents and the small layer only (< 1 MiB)", len(big)>>20, read)
	}

	before = rchar(t)
	files, err := Files(ctx, archive+":v1", FilesOptions{Layers: []string{"small"}})
	must(t, err)
	if read := rchar(t) - before; read > 1<<20 || len(files.Files) != 1 {
		t.Errorf("Files(--layer small) read %d bytes and listed %d files, want < 1 MiB and 1", read, len(files.Files))
	}
}
