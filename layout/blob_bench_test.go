package layout_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

const benchBlobSize = 64 << 20

func benchBlob() []byte {
	data := make([]byte, benchBlobSize)
	rng := rand.New(rand.NewPCG(6, 6))
	for i := 0; i < len(data); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	return data
}

// BenchmarkPut stores a 64 MiB blob of known digest (verify on ingest,
// fsync, rename) into a new layout each iteration.
func BenchmarkPut(b *testing.B) {
	data := benchBlob()
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(data), Size: int64(len(data))}
	ctx := context.Background()
	root := b.TempDir()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s, err := layout.Create(context.Background(), filepath.Join(root, fmt.Sprintf("l%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Put(ctx, desc, bytes.NewReader(data)); err != nil {
			b.Fatalf("Put() = %v", err)
		}
	}
}

// BenchmarkWriterCommit streams a 64 MiB blob of unknown digest through a
// Writer and commits it into a new layout each iteration.
func BenchmarkWriterCommit(b *testing.B) {
	data := benchBlob()
	ctx := context.Background()
	root := b.TempDir()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s, err := layout.Create(context.Background(), filepath.Join(root, fmt.Sprintf("l%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		w, err := s.NewWriter(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(data); off += 1 << 20 {
			if _, err := w.Write(data[off : off+1<<20]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx, ocispec.MediaTypeImageLayer); err != nil {
			b.Fatalf("Commit() = %v", err)
		}
	}
}
