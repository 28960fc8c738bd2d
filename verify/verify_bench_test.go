package verify_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/verify"
)

// benchLayout packs four 16 MiB random files, uncompressed, as four layers.
func benchLayout(b *testing.B) (dir string, size int64) {
	src := b.TempDir()
	rng := rand.New(rand.NewPCG(6, 6))
	var paths []string
	for _, name := range []string{"a", "b", "c", "d"} {
		data := make([]byte, 16<<20)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
		size += int64(len(data))
	}
	dir = filepath.Join(b.TempDir(), "layout")
	if _, err := bundle.Pack(context.Background(), dir, paths, bundle.PackOptions{Tags: []string{"bench"}, Compression: compress.None}); err != nil {
		b.Fatal(err)
	}
	return dir, size
}

func benchVerify(b *testing.B, opts verify.Options) {
	dir, size := benchLayout(b)
	ctx := context.Background()
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		rep, err := verify.Verify(ctx, dir, opts)
		if err != nil {
			b.Fatalf("Verify() = %v", err)
		}
		if !rep.OK() {
			b.Fatalf("Verify() report not OK: %v", rep.Err())
		}
	}
}

// BenchmarkVerify verifies a layout of four 16 MiB layers (structure, every
// blob's size and digest, the graph).
func BenchmarkVerify(b *testing.B) { benchVerify(b, verify.Options{}) }

// BenchmarkVerifyDeep also reads every tar layer.
func BenchmarkVerifyDeep(b *testing.B) { benchVerify(b, verify.Options{Deep: true}) }
