package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// benchTar returns a tar of files of size bytes each, n of them, filled
// with random bytes (no run of zeros to skip), and the bytes they hold.
func benchTar(b *testing.B, n, size int) ([]byte, int64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755}))
	for i := range n {
		must(tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d/f%05d", i), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(size)}))
		_, err := tw.Write(data)
		must(err)
	}
	must(tw.Close())
	return buf.Bytes(), int64(n) * int64(size)
}

// BenchmarkApply writes an uncompressed layer of ordinary (non-zero) data
// into a new directory each time: the applier's own cost (judge, file
// creation, the copy), without decompression or hashing.
func BenchmarkApply(b *testing.B) {
	for _, c := range []struct {
		name    string
		n, size int
	}{{"500x4KiB", 500, 4 << 10}, {"1x64MiB", 1, 64 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			layer, bytesIn := benchTar(b, c.n, c.size)
			out := b.TempDir()
			b.SetBytes(bytesIn)
			for i := 0; b.Loop(); i++ {
				dst := filepath.Join(out, fmt.Sprint(i))
				if err := os.Mkdir(dst, 0o755); err != nil {
					b.Fatal(err)
				}
				root, err := os.OpenRoot(dst)
				if err != nil {
					b.Fatal(err)
				}
				a := NewApplier(root, ApplyOptions{})
				if err := a.Apply(context.Background(), bytes.NewReader(layer), "", -1); err != nil {
					b.Fatal(err)
				}
				a.Close()
				root.Close()
				b.StopTimer()
				os.RemoveAll(dst) // the disk, not the page cache, would fill otherwise
				b.StartTimer()
			}
		})
	}
}
