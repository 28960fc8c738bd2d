//go:build unix

package bundle

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ocibundle/ocibundle/glob"
	"github.com/ocibundle/ocibundle/internal/testfs"
)

// excludeTree builds below dir the tree "app" of files (name -> content;
// a name ending in "/" is a directory), with fixed modes and mtimes, so
// that two trees with the same names pack to the same bytes.
func excludeTree(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, "app", filepath.FromSlash(name))
		if name[len(name)-1] == '/' {
			must(t, os.MkdirAll(p, 0o755))
			continue
		}
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(data), 0o644))
	}
	return filepath.Join(dir, "app")
}

// fixTimes gives every file and directory below root (root included) the
// same mode class and mtime, deepest first.
func fixTimes(t *testing.T, root string) {
	t.Helper()
	var paths []string
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&(fs.ModeSymlink|fs.ModeNamedPipe) == 0 {
			paths = append(paths, p)
		}
		return err
	}))
	slices.Reverse(paths)
	for _, p := range paths {
		must(t, os.Chtimes(p, fixedTime, fixedTime))
	}
}

// TestPackExclude: pack --exclude of a tree equals, byte for byte, pack of
// a copy of the tree without the excluded names (issue 13 item 5: no entry,
// no annotation, no file count is left of them), and pack never reads
// what it leaves out: an excluded FIFO, a FIFO inside an excluded
// directory, a symlink leaving the tree and a name with a backslash would
// each be refused if pack looked at them.
func TestPackExclude(t *testing.T) {
	kept := map[string]string{
		"main.go":         "package main\n",
		"sub/build/out":   "not anchored: kept\n", // "/build/" is anchored at the PATH
		"sub/cache":       "a file: kept\n",       // "cache/" matches directories only
		"logs/":           "",                     // "logs/**" matches what is inside logs, not logs
		"doc/12.tmp":      "two characters: kept\n",
		"doc/readme":      "doc\n",
		"keep.log":        "re-included\n",
		"sub/deep/keep.c": "kept\n",
		"hard1":           "linked\n",
	}
	excluded := map[string]string{
		"x.o":           "object\n",
		"sub/deep/y.o":  "object\n",
		"build/out":     "build output\n",
		"cache/blob":    "cached\n",
		"logs/a.txt":    "log\n",
		"logs/deep/b":   "log\n",
		"doc/1.tmp":     "tmp\n",
		"a.log":         "log\n",
		"sub/z.log":     "log\n",
		"fifo-dir/":     "",
		`back\slash`:    "a name extract refuses\n",
		"sub/skipped/":  "",
		"sub/skipped/f": "below an excluded directory\n",
	}
	patterns := []string{"*.o", "/build/", "cache/", "logs/**", "doc/?.tmp", "*.log", "!keep.log",
		"fifo*", "pipe", "esc", "hard2", glob.Escape(`back\slash`), "sub/**/skipped"}

	src := t.TempDir()
	all := map[string]string{}
	for k, v := range kept {
		all[k] = v
	}
	for k, v := range excluded {
		all[k] = v
	}
	in := excludeTree(t, src, all)
	must(t, testfs.Mkfifo(filepath.Join(in, "pipe")))
	must(t, testfs.Mkfifo(filepath.Join(in, "fifo-dir", "p")))
	must(t, os.Symlink("/etc/passwd", filepath.Join(in, "esc")))
	must(t, os.Link(filepath.Join(in, "hard1"), filepath.Join(in, "hard2")))
	fixTimes(t, in)

	copyDir := t.TempDir()
	want := excludeTree(t, copyDir, kept)
	fixTimes(t, want)

	// Without --exclude, pack refuses the tree: what --exclude leaves out
	// would have been looked at.
	if _, err := Pack(ctx, filepath.Join(t.TempDir(), "L"), []string{in}, PackOptions{}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("Pack(tree with a FIFO, no --exclude) = %v, want ErrBadInput", err)
	}
	for _, c := range []struct {
		name    string
		exclude []string
	}{{"all", patterns}, {"reversed but for !", append(slices.Clone(patterns[7:]), patterns[:7]...)}} {
		got, err := Pack(ctx, filepath.Join(t.TempDir(), "L"), []string{in}, PackOptions{Exclude: c.exclude, Tags: []string{"v1"}})
		if err != nil {
			t.Fatalf("%s: Pack(--exclude) = %v", c.name, err)
		}
		res, err := Pack(ctx, filepath.Join(t.TempDir(), "L"), []string{want}, PackOptions{Tags: []string{"v1"}})
		must(t, err)
		if got.Digest != res.Digest || got.Layers[0].Files != len(kept)-1 {
			t.Errorf("%s: Pack(--exclude) = %s (%d files), want %s as pack of the copy without them (%d files)",
				c.name, got.Digest, got.Layers[0].Files, res.Digest, res.Layers[0].Files)
		}
	}
}

// TestPackExcludeBadPattern: a malformed pattern is glob.ErrBadPattern,
// naming it, before the layout is created.
func TestPackExcludeBadPattern(t *testing.T) {
	in := excludeTree(t, t.TempDir(), map[string]string{"f": "x"})
	dir := filepath.Join(t.TempDir(), "L")
	for _, pat := range []string{"[", "/", "!"} {
		_, err := Pack(ctx, dir, []string{in}, PackOptions{Exclude: []string{"*.o", pat}})
		if !errors.Is(err, glob.ErrBadPattern) {
			t.Errorf("Pack(--exclude %q) = %v, want glob.ErrBadPattern", pat, err)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Pack with a bad pattern created the layout: %v", err)
	}
}
