package bundle

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocibundle/ocibundle/internal/testseed"
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
	want := countEntries(full.Entries)
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

// TestExtractSummaryCounted: the summary of SummaryOnly, which for an
// artifact is what the applier counted while writing (no walk), is the
// count of the tree a walk lists, for random artifacts and images (hard
// links, symlinks, implicit directories, whiteouts), whole or selected by
// a pattern.
func TestExtractSummaryCounted(t *testing.T) {
	r := rand.New(rand.NewPCG(testseed.Seed(t), 16))
	counted := 0
	for i := range 150 {
		image := i%3 == 0 // mostly artifacts, whose summary is counted
		ref, described := randomLayout(t, r, image, 3)
		var patterns []string
		if r.IntN(3) == 0 {
			patterns = []string{"*" + string(rune('a'+r.IntN(26))) + "*"}
		}
		extract := func(opts ExtractOptions) (ExtractResult, error) {
			opts.Patterns = patterns
			return Extract(ctx, ref, filepath.Join(t.TempDir(), "out"), opts)
		}
		full, ferr := extract(ExtractOptions{})
		sum, serr := extract(ExtractOptions{SummaryOnly: true})
		if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
			t.Fatalf("round %d (image %v, %q):\n%s\nExtract() = %v\nExtract(SummaryOnly) = %v", i, image, patterns, described, ferr, serr)
		}
		if ferr != nil {
			continue
		}
		want := countEntries(full.Entries)
		if sum.Summary != want || full.Summary != want {
			t.Fatalf("round %d (image %v, %q):\n%s\nsummary %+v, SummaryOnly %+v; the walk counts %+v", i, image, patterns, described, full.Summary, sum.Summary, want)
		}
		if !image {
			counted++
		}
	}
	if counted < 8 {
		t.Errorf("only %d artifacts extracted: the generator does not exercise the counted summary", counted)
	}
}

// countEntries counts entries as the summary counts the tree.
func countEntries(entries []ExtractedEntry) ExtractSummary {
	var c ExtractSummary
	for _, e := range entries {
		switch e.Type {
		case "file":
			c.Files++
			c.Bytes += e.Size
		case "dir":
			c.Dirs++
		case "symlink":
			c.Symlinks++
		}
	}
	return c
}
