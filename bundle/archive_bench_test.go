package bundle_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/bundle"
)

// benchBundle packs three 16 MiB files (Go-like text, log-like text and
// random bytes, one layer each) into a layout tagged "b" and returns it with
// the bytes packed.
func benchBundle(b *testing.B) (string, int64) {
	b.Helper()
	src := b.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	const size = 16 << 20
	var paths []string
	for i, kind := range []string{"src", "log", "random"} {
		var data []byte
		switch kind {
		case "src":
			data = []byte(strings.Repeat("func f(x int) int {\n\treturn x * 2 // a line of source\n}\n", size/55+1))[:size]
		case "log":
			var sb strings.Builder
			for j := 0; sb.Len() < size; j++ {
				fmt.Fprintf(&sb, "2026-11-%02d 12:00:%02d INFO worker=%d req=%08x took=%dms\n", j%28+1, j%60, rng.IntN(16), rng.Uint32(), rng.IntN(900))
			}
			data = []byte(sb.String())[:size]
		default:
			data = make([]byte, size)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		}
		p := filepath.Join(src, fmt.Sprintf("%d-%s", i, kind))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	dir := filepath.Join(b.TempDir(), "L")
	if _, err := bundle.Pack(context.Background(), dir, paths, bundle.PackOptions{Tags: []string{"b"}}); err != nil {
		b.Fatal(err)
	}
	return dir, 3 * size
}

// BenchmarkExport writes the archive of a 48 MiB bundle (about 20 MiB of
// blobs) to io.Discard: every blob re-hashed, the archive hashed.
func BenchmarkExport(b *testing.B) {
	dir, _ := benchBundle(b)
	res, err := bundle.Export(context.Background(), io.Discard, []string{dir + ":b"}, bundle.ExportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(res.Archive.Size)
	for b.Loop() {
		if _, err := bundle.Export(context.Background(), io.Discard, []string{dir + ":b"}, bundle.ExportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImport imports that archive into a new layout each time: blobs
// hashed and fsynced, the graph verified.
func BenchmarkImport(b *testing.B) {
	dir, _ := benchBundle(b)
	var archive bytes.Buffer
	if _, err := bundle.Export(context.Background(), &archive, []string{dir + ":b"}, bundle.ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	b.SetBytes(int64(archive.Len()))
	for i := 0; b.Loop(); i++ {
		dst := filepath.Join(out, fmt.Sprintf("l%d", i))
		if _, err := bundle.Import(context.Background(), dst, bytes.NewReader(archive.Bytes()), bundle.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtract extracts the 48 MiB bundle into a new directory each
// time: blobs and contents hashed, layers decompressed, files written.
func BenchmarkExtract(b *testing.B) {
	dir, packed := benchBundle(b)
	out := b.TempDir()
	b.SetBytes(packed)
	for i := 0; b.Loop(); i++ {
		dst := filepath.Join(out, fmt.Sprintf("e%d", i))
		if _, err := bundle.Extract(context.Background(), dir+":b", dst, bundle.ExtractOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
