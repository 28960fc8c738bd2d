//go:build unix

package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// applyOne applies a layer of one regular file "f" whose content is
// size bytes of content, streamed, and returns the file's path.
func applyOne(t *testing.T, content io.Reader, size int64) string {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Size: size})
		if err == nil {
			_, err = io.CopyN(tw, content, size)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	a := NewApplier(root, ApplyOptions{})
	defer a.Close()
	if err := a.Apply(context.Background(), pr, "", -1); err != nil {
		t.Fatalf("Apply() = %v", err)
	}
	return filepath.Join(dir, "f")
}

// allocated returns the bytes of disk p takes (st_blocks are 512 bytes).
func allocated(t *testing.T, p string) (size, alloc int64) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size(), fi.Sys().(*syscall.Stat_t).Blocks * 512
}

// TestApplySparseZeros: a 2 GiB file of zeros extracts into a few KiB of
// allocated disk, with its full length (issue 13 item 6).
func TestApplySparseZeros(t *testing.T) {
	const size = 2 << 30
	p := applyOne(t, zeros{}, size)
	gotSize, alloc := allocated(t, p)
	if gotSize != size || alloc > 64<<10 {
		t.Errorf("a 2 GiB file of zeros extracted: size %d, %d bytes allocated; want size %d, at most 64 KiB allocated", gotSize, alloc, size)
	}
}

// TestApplySparseContent: holes are made only of whole aligned blocks of
// zeros; what is read back is byte for byte what the layer holds, data at
// any offset, a hole at the end included.
func TestApplySparseContent(t *testing.T) {
	data := func(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }
	zero := func(n int) []byte { return make([]byte, n) }
	for _, c := range []struct {
		name     string
		parts    [][]byte
		maxAlloc int64 // -1: no bound (no hole expected)
	}{
		{"data, holes at odd offsets", [][]byte{data(100), zero(10 << 10), data(5000), zero(1 << 20), data(3)}, 64 << 10},
		{"a hole at the end", [][]byte{data(4096), zero(1 << 20)}, 64 << 10},
		{"a hole at the start", [][]byte{zero(1 << 20), data(1)}, 64 << 10},
		{"zeros shorter than a block", [][]byte{zero(100)}, -1},
		{"zeros not a whole number of blocks", [][]byte{zero(3*holeBlock + 17)}, 64 << 10},
		{"a zero block across the buffer's end", [][]byte{data(copyBufSize - 100), zero(8 << 10), data(1)}, -1},
		{"zero bytes", nil, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := bytes.Join(c.parts, nil)
			p := applyOne(t, bytes.NewReader(want), int64(len(want)))
			got, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("extracted content: %d bytes, %v; want the layer's %d bytes, equal", len(got), err, len(want))
			}
			if _, alloc := allocated(t, p); c.maxAlloc >= 0 && alloc > c.maxAlloc {
				t.Errorf("%d bytes allocated for %d bytes with runs of zeros; want at most %d", alloc, len(want), c.maxAlloc)
			}
		})
	}
}
