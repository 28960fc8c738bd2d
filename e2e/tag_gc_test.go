//go:build linux

// End-to-end tests of issue 5 through the real binary: tag, untag and gc,
// including gc racing concurrent packs (moved from extract_test.go, whose
// xt helpers they share).

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// xtComplete checks that every manifest index.json names is present with its
// config and layers, all verified, and returns the index.
func xtComplete(t *testing.T, dir string) ocispec.Index {
	t.Helper()
	ctx := context.Background()
	s, err := layout.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := s.ReadIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range idx.Manifests {
		mf, err := s.ReadManifest(ctx, m)
		if err != nil {
			t.Errorf("%s: manifest %s: %v", dir, m.Digest, err)
			continue
		}
		for _, d := range append([]ocispec.Descriptor{mf.Config}, mf.Layers...) {
			if _, err := s.FetchAll(ctx, d, 1<<30); err != nil {
				t.Errorf("%s: blob %s of %s: %v", dir, d.Digest, m.Digest, err)
			}
		}
	}
	return idx
}

func xtTags(idx ocispec.Index) map[string]string {
	out := map[string]string{}
	for _, m := range idx.Manifests {
		if tag, ok := m.Annotations[ocispec.AnnotationRefName]; ok {
			out[tag] = m.Digest.String()
		}
	}
	return out
}

func xtBlobCount(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestTagUntagGC(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join(work, "src")
	xtWrite(t, filepath.Join(src, "a.txt"), "one\n", 0o644)
	L := filepath.Join(work, "L")
	d1 := strings.TrimSpace(mustRun(t, "", nil, "pack", "-o", L, "-t", "v1", src))

	if got := strings.TrimSpace(mustRun(t, "", nil, "tag", L+":v1", "stable", "latest")); got != d1 {
		t.Errorf("tag printed %q, want %s", got, d1)
	}
	tags := xtTags(xtComplete(t, L))
	for _, tag := range []string{"v1", "stable", "latest"} {
		if tags[tag] != d1 {
			t.Errorf("after tag: %s names %q, want %s", tag, tags[tag], d1)
		}
	}
	// A new v1 leaves the first manifest named by stable and latest.
	xtWrite(t, filepath.Join(src, "a.txt"), "two\n", 0o644)
	d2 := strings.TrimSpace(mustRun(t, "", nil, "pack", "-o", L, "-t", "v1", src))
	if got := strings.TrimSpace(mustRun(t, "", nil, "untag", L+":stable")); got != d1 {
		t.Errorf("untag printed %q, want %s", got, d1)
	}
	var gc struct {
		DryRun  bool
		Removed []struct{ Path, Digest string }
		Blobs   int
		Bytes   int64
	}
	out := mustRun(t, "", nil, "gc", "--json", L)
	if err := json.Unmarshal([]byte(out), &gc); err != nil || gc.Blobs != 0 {
		t.Errorf("gc while latest names the first manifest = %s (%v), want nothing removed", out, err)
	}
	mustRun(t, "", nil, "untag", L+":latest")
	before := xtBlobCount(t, L)
	out = mustRun(t, "", nil, "gc", "--dry-run", "--json", L)
	if err := json.Unmarshal([]byte(out), &gc); err != nil || !gc.DryRun || gc.Blobs != 2 {
		t.Fatalf("gc --dry-run = %s (%v), want the first manifest and its layer", out, err)
	}
	if xtBlobCount(t, L) != before {
		t.Error("gc --dry-run removed blobs")
	}
	text := mustRun(t, "", nil, "gc", L)
	if !strings.Contains(text, "removed blobs/sha256/"+strings.TrimPrefix(d1, "sha256:")) || !strings.Contains(text, "removed 2 blobs and 0 ingest files;") {
		t.Errorf("gc printed %q", text)
	}
	if got := xtBlobCount(t, L); got != before-2 {
		t.Errorf("blobs after gc = %d, want %d", got, before-2)
	}
	if tags := xtTags(xtComplete(t, L)); len(tags) != 1 || tags["v1"] != d2 {
		t.Errorf("tags after gc = %v, want v1 → %s", tags, d2)
	}

	// Exit codes: content 1, usage 2, a named thing missing 3.
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"untag", L + ":nope"}, 3, "tag not found"},
		{[]string{"untag", L}, 2, "LAYOUT:TAG"},
		{[]string{"tag", L + ":v1", "bad tag"}, 2, "invalid tag"},
		{[]string{"tag", L + ":v1"}, 2, "NEWTAG"},
		{[]string{"tag", L + "@" + d1, "back"}, 3, "blob not found"}, // gc removed it: a named thing missing
		{[]string{"gc", src}, 1, "not an OCI image layout"},
		{[]string{"gc"}, 2, "LAYOUT"},
	} {
		r := run(t, "", nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("ocibundle %s: exit %d, stderr %q; want exit %d and one line with %q", strings.Join(c.args, " "), r.code, r.stderr, c.code, c.msg)
		}
	}
}

// TestGCDuringPacks runs gc in a loop while several packers write into the
// same layout, each re-packing trees whose blobs earlier rounds left
// unreferenced. Without the blob lock, gc deletes blobs a pack has
// committed but not yet named, and a tag ends up naming a missing blob.
func TestGCDuringPacks(t *testing.T) {
	work := t.TempDir()
	L := filepath.Join(work, "L")
	const packers, rounds = 4, 5
	var srcs []string
	for i := range packers {
		src := filepath.Join(work, fmt.Sprintf("src%d", i))
		for j := range 20 {
			xtWrite(t, filepath.Join(src, fmt.Sprintf("f%02d", j)), strings.Repeat(fmt.Sprintf("%d-%d\n", i, j), 5000), 0o644)
		}
		srcs = append(srcs, src)
	}
	mustRun(t, "", nil, "pack", "-o", L, "-t", "seed", srcs[0])
	stop := make(chan struct{})
	gcDone := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				gcDone <- n
				return
			default:
			}
			if r := run(t, "", nil, "gc", L); r.code != 0 {
				t.Errorf("gc: exit %d: %s", r.code, r.stderr)
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tag := fmt.Sprintf("p%d", i)
			for range rounds {
				// Alternate codecs: each round's blobs are the ones an
				// earlier round left unreferenced when it moved the tag.
				for _, c := range []string{"zstd", "gzip"} {
					if r := run(t, "", nil, "pack", "-o", L, "-t", tag, "-c", c, src); r.code != 0 {
						t.Errorf("pack %s: exit %d: %s", tag, r.code, r.stderr)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if n := <-gcDone; n < 2 {
		t.Logf("gc ran only %d times during the packs", n)
	}
	mustRun(t, "", nil, "gc", L)
	idx := xtComplete(t, L)
	if tags := xtTags(idx); len(tags) != packers+1 {
		t.Errorf("tags = %v, want seed and p0..p%d", tags, packers-1)
	}
}

// ---------------------------------------------------------------------------
// extract

// xtNode is what xtTree records of one entry.
type xtNode struct {
	Type  string
	Mode  fs.FileMode
	Data  string // sha256 of a file's content
	Link  string
	MTime time.Time
	ino   uint64
}
