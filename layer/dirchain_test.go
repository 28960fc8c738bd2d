package layer

import (
	"context"
	"os"
	"path"
	"strings"
	"testing"
)

// TestDirChain: a chain reaches directories in tree order with one open per
// new component, keeps few handles open, and reopens at most a checkpoint's
// worth going back up.
func TestDirChain(t *testing.T) {
	const depth = 1000
	opens, open := 0, map[int]bool{}
	next := 0
	c := dirChain[int]{root: -1,
		open: func(parent int, name, _ string) (int, error) {
			opens++
			next++
			open[next] = true
			return next, nil
		},
		close: func(h int) {
			if !open[h] {
				t.Fatalf("close(%d) of a handle not open", h)
			}
			delete(open, h)
		},
	}
	dir := ""
	for i := range depth {
		dir = path.Join(dir, "d")
		if _, err := c.at(dir); err != nil {
			t.Fatal(err)
		}
		if i == 0 && opens != 1 || opens > i+1 {
			t.Fatalf("at depth %d: %d opens, want %d", i+1, opens, i+1)
		}
	}
	if max := chainWindow + depth/chainCheckpoint; len(open) > max {
		t.Errorf("%d handles open at depth %d, want at most %d", len(open), depth, max)
	}
	// Back up one level at a time, as the metadata pass goes.
	opens = 0
	for d := depth - 1; d > 0; d-- {
		before := opens
		if _, err := c.at(strings.Repeat("d/", d-1) + "d"); err != nil {
			t.Fatal(err)
		}
		if opens-before > chainCheckpoint {
			t.Fatalf("up to depth %d: %d opens, want at most %d", d, opens-before, chainCheckpoint)
		}
	}
	if opens > depth {
		t.Errorf("going up %d levels took %d opens, want at most %d", depth, opens, depth)
	}
	// A sibling shares the parent; a removed directory is reopened.
	c.at("d/d/e")
	opens = 0
	if _, err := c.at("d/d/f"); err != nil || opens != 1 {
		t.Errorf("at(d/d/f) after d/d/e: %d opens, %v, want 1", opens, err)
	}
	c.drop("d/d")
	opens = 0
	if _, err := c.at("d/d/f"); err != nil || opens != 2 {
		t.Errorf("at(d/d/f) after drop(d/d): %d opens, %v, want 2", opens, err)
	}
	c.truncate(0)
	if len(open) != 0 {
		t.Errorf("%d handles open after truncate(0)", len(open))
	}
}

// TestWalkTree walks a tree deeper than PATH_MAX in lexical order.
func TestWalkTree(t *testing.T) {
	root, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	deep := strings.Repeat("ddd/", 1050) + "f" // 4,201 bytes
	for _, f := range []string{"a-b", "ddd/x"} {
		if err := root.MkdirAll(path.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := root.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := root
	for range 1050 { // by handle: root.MkdirAll walks from the root per level
		if err := at.Mkdir("ddd", 0o755); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		next, err := at.OpenRoot("ddd")
		if err != nil {
			t.Fatal(err)
		}
		if at != root {
			at.Close()
		}
		at = next
	}
	if err := at.WriteFile("f", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	at.Close()
	var got []string
	err = WalkTree(context.Background(), root, func(p string, fi os.FileInfo, dir *os.Root) error {
		if _, err := dir.Lstat(path.Base(p)); err != nil {
			t.Errorf("%s: not in the directory handed: %v", p, err)
		}
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatalf("WalkTree() = %v", err)
	}
	if len(got) != 1050+3 || got[0] != "a-b" || got[1] != "ddd" || got[2] != "ddd/ddd" || got[len(got)-2] != deep || got[len(got)-1] != "ddd/x" {
		t.Errorf("WalkTree() visited %d paths, %q %q %q … %q, want a-b, ddd, ddd/ddd … ddd/x", len(got), got[0], got[1], got[2], got[len(got)-1])
	}
}
