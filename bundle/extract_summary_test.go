package bundle

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExtractSummary: the summary counts the tree Entries lists (files,
// their bytes, directories, symlinks), and SummaryOnly keeps the counts
// without the entries (the text output of a tree of 300,000 files needs
// no 40 MB list); Hash still lists.
func TestExtractSummary(t *testing.T) {
	src := t.TempDir()
	paths := roundTripTree(t, src, 1<<20)
	dir := filepath.Join(t.TempDir(), "L")
	_, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}})
	must(t, err)
	t.Cleanup(func() { os.Chmod(filepath.Join(src, "app/ro-dir"), 0o755) }) // for TempDir's removal
	extract := func(opts ExtractOptions) ExtractResult {
		t.Helper()
		out := filepath.Join(t.TempDir(), "out")
		t.Cleanup(func() { os.Chmod(filepath.Join(out, "app/ro-dir"), 0o755) })
		res, err := Extract(ctx, dir+":v1", out, opts)
		must(t, err)
		return res
	}
	full := extract(ExtractOptions{})
	var want ExtractSummary
	for _, e := range full.Entries {
		switch e.Type {
		case "file":
			want.Files++
			want.Bytes += e.Size
		case "dir":
			want.Dirs++
		case "symlink":
			want.Symlinks++
		}
	}
	if want.Files == 0 || want.Dirs == 0 || want.Symlinks == 0 || full.Summary != want {
		t.Fatalf("Extract().Summary = %+v, want %+v (counted from its %d entries)", full.Summary, want, len(full.Entries))
	}
	if res := extract(ExtractOptions{SummaryOnly: true}); len(res.Entries) != 0 || res.Summary != want {
		t.Errorf("Extract(SummaryOnly) = %d entries, summary %+v; want none, %+v", len(res.Entries), res.Summary, want)
	}
	if res := extract(ExtractOptions{SummaryOnly: true, Hash: true}); len(res.Entries) != len(full.Entries) || res.Summary != want {
		t.Errorf("Extract(SummaryOnly, Hash) = %d entries, summary %+v; want %d, %+v", len(res.Entries), res.Summary, len(full.Entries), want)
	}
}
