package bundle_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/bundle"
)

// BenchmarkPackSmallTree packs a tree of 200 small files (about 1.7 MiB,
// half text, half random) into a new layout with the default options.
func BenchmarkPackSmallTree(b *testing.B) {
	src := filepath.Join(b.TempDir(), "tree")
	rng := rand.New(rand.NewPCG(6, 6))
	var total int64
	for i := range 200 {
		dir := filepath.Join(src, fmt.Sprintf("d%02d", i%10))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		data := make([]byte, 8<<10)
		if i%2 == 0 {
			copy(data, strings.Repeat(fmt.Sprintf("line %d of a source-like file\n", i), 400))
		} else {
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
	}
	ctx := context.Background()
	out := b.TempDir()
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(out, fmt.Sprintf("l%d", i))
		if _, err := bundle.Pack(ctx, dir, []string{src}, bundle.PackOptions{}); err != nil {
			b.Fatalf("Pack() = %v", err)
		}
	}
}
