package bundle

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
)

// cancelProgress cancels a context once the bytes reported reach at (or,
// with fromEnd set, the total given to Start less fromEnd), and counts the
// bytes reported after that: the work done past the cancellation.
type cancelProgress struct {
	cancel  context.CancelFunc
	at      int64
	fromEnd int64
	total   atomic.Int64
	after   atomic.Int64
}

func (p *cancelProgress) Start(_ string, total int64) {
	if p.fromEnd > 0 {
		p.at = total - p.fromEnd
	}
}

func (p *cancelProgress) Add(n int64) {
	t := p.total.Add(n)
	if t-n >= p.at {
		p.after.Add(n)
	}
	if t >= p.at {
		p.cancel()
	}
}

func (p *cancelProgress) Finish() {}

// bigFileLayout packs one file of size bytes, uncompressed, so that its
// layer blob is as big, into a new layout.
func bigFileLayout(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	must(t, os.WriteFile(src, bytes.Repeat([]byte("0123456789abcdef"), size/16), 0o644))
	out := filepath.Join(dir, "layout")
	if _, err := Pack(ctx, out, []string{src}, PackOptions{Tags: []string{"v1"}, Compression: compress.None}); err != nil {
		t.Fatal(err)
	}
	return out
}

// names lists the entries of dir, recursively, relative to it.
func names(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// TestPackStopsAtCancel: a cancellation while a big file is copied stops
// the copy within one buffer (pack used to read and compress the whole
// file first), and nothing is committed.
func TestPackStopsAtCancel(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "big.bin")
	must(t, os.WriteFile(src, bytes.Repeat([]byte("0123456789abcdef"), 2<<20), 0o644)) // 32 MiB
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &cancelProgress{cancel: cancel, at: 1}
	out := filepath.Join(dir, "layout")
	_, err := Pack(cctx, out, []string{src}, PackOptions{Tags: []string{"v1"}, Progress: p})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Pack(cancelled) = %v, want context.Canceled", err)
	}
	if after := p.after.Load(); after > 2<<20 {
		t.Errorf("Pack went on for %d bytes after the cancellation, want at most one 1 MiB buffer", after)
	}
	for _, name := range names(t, out) {
		if strings.HasPrefix(name, layout.IngestDir+string(filepath.Separator)) {
			t.Errorf("Pack(cancelled) left %s", name)
		}
	}
	if store, err := layout.Open(out); err == nil {
		if idx, err := store.ReadIndex(ctx); err != nil || len(idx.Manifests) != 0 {
			t.Errorf("index.json after a cancelled pack: %d entries, %v; want none", len(idx.Manifests), err)
		}
	}
}

// TestExportFileCancelledLate: a cancellation while the last blob is
// copied fails the export, and no archive, part, list or temporary file is
// left (export used to finish and publish the whole archive).
func TestExportFileCancelledLate(t *testing.T) {
	src := bigFileLayout(t, 8<<20)
	for _, split := range []int64{0, 1 << 20} {
		out := t.TempDir()
		cctx, cancel := context.WithCancel(ctx)
		p := &cancelProgress{cancel: cancel, fromEnd: 2 << 20}
		file := filepath.Join(out, "bundle.tar")
		_, err := ExportFile(cctx, file, []string{src + ":v1"}, ExportOptions{Split: split, Progress: p})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ExportFile(split %d, cancelled in the last blob) = %v, want context.Canceled", split, err)
		}
		if left := names(t, out); len(left) != 0 {
			t.Errorf("ExportFile(split %d, cancelled) left %v, want nothing", split, left)
		}
	}
}

// TestImportStopsAtCancel: a cancellation in the middle of a big blob
// member stops the import within the archive reader's buffer (import used
// to read and hash the whole member first), and leaves no ingest file.
func TestImportStopsAtCancel(t *testing.T) {
	src := bigFileLayout(t, 16<<20)
	var archive bytes.Buffer
	if _, err := Export(ctx, &archive, []string{src + ":v1"}, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "layout")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &cancelProgress{cancel: cancel, at: 4 << 20}
	_, err := Import(cctx, dst, bytes.NewReader(archive.Bytes()), ImportOptions{Progress: p})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Import(cancelled) = %v, want context.Canceled", err)
	}
	if after := p.after.Load(); after > 2<<20 {
		t.Errorf("Import read %d bytes after the cancellation, want at most its 1 MiB buffer", after)
	}
	if left := names(t, filepath.Join(dst, layout.IngestDir)); len(left) != 0 {
		t.Errorf("Import(cancelled) left %v in ingest/", left)
	}
}
