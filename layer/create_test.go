package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// tarOf returns a tar of hdrs, each regular file holding its name.
func tarOf(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(h.Name))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(h.Name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newTestApplier returns an applier on a new directory (returned too).
func newTestApplier(t *testing.T, opts ApplyOptions) (*Applier, string) {
	t.Helper()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	a := NewApplier(root, opts)
	t.Cleanup(a.Close)
	return a, dir
}

// TestApplyNameTaken: the applier finds a name taken by what it creates
// failing (O_EXCL, mkdir, symlink, link), not by an Lstat first: an
// artifact's entry that lands on something already in the directory is
// refused, the thing left as it was; an image's replaces it.
func TestApplyNameTaken(t *testing.T) {
	entries := map[string]*tar.Header{
		"file":      {Name: "x/f", Typeflag: tar.TypeReg, Mode: 0o644},
		"symlink":   {Name: "x/f", Typeflag: tar.TypeSymlink, Linkname: "g"},
		"hard link": {Name: "x/f", Typeflag: tar.TypeLink, Linkname: "x/g"},
		"directory": {Name: "x/f/", Typeflag: tar.TypeDir, Mode: 0o755},
	}
	for name, hdr := range entries {
		for _, image := range []bool{false, true} {
			t.Run(name+map[bool]string{false: " artifact", true: " image"}[image], func(t *testing.T) {
				a, dir := newTestApplier(t, ApplyOptions{Image: image})
				if err := os.MkdirAll(filepath.Join(dir, "x"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "x/f"), []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
				scope := "x"
				if image {
					scope = ""
				}
				err := a.Apply(context.Background(), bytes.NewReader(tarOf(t, &tar.Header{Name: "x/g", Typeflag: tar.TypeReg, Mode: 0o644}, hdr)), scope, -1)
				fi, lerr := os.Lstat(filepath.Join(dir, "x/f"))
				if lerr != nil {
					t.Fatal(lerr)
				}
				if !image {
					var r *Refusal
					if !errors.As(err, &r) || r.Kind != Duplicate || r.Reason != "conflicts with an earlier entry" || r.Name != hdr.Name {
						t.Fatalf("Apply() = %v, want the refusal of %s: conflicts with an earlier entry", err, hdr.Name)
					}
					if data, _ := os.ReadFile(filepath.Join(dir, "x/f")); !fi.Mode().IsRegular() || string(data) != "old" {
						t.Fatalf("x/f = %v %q, want the old file", fi.Mode(), data)
					}
					return
				}
				if err != nil {
					t.Fatalf("Apply() = %v", err)
				}
				want := map[byte]fs.FileMode{tar.TypeReg: 0, tar.TypeSymlink: fs.ModeSymlink, tar.TypeLink: 0, tar.TypeDir: fs.ModeDir}[hdr.Typeflag]
				if fi.Mode().Type() != want {
					t.Fatalf("x/f is %v, want type %v", fi.Mode(), want)
				}
				if data, err := os.ReadFile(filepath.Join(dir, "x/f")); hdr.Typeflag != tar.TypeDir && hdr.Typeflag != tar.TypeSymlink && string(data) == "old" {
					t.Fatalf("x/f = %q, %v: not replaced", data, err)
				}
			})
		}
	}
}

// TestApplyFileModesAndTimes: a file gets exactly its mode, whatever the
// process umask (it is created with its mode only when the umask keeps
// it), and its mtime to the nanosecond (set on the open file).
func TestApplyFileModesAndTimes(t *testing.T) {
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for _, c := range []struct {
		mode     int64
		umask    fs.FileMode
		preserve bool
		want     fs.FileMode
	}{
		{0o644, 0o022, false, 0o644},
		{0o666, 0o022, false, 0o644},
		{0o666, 0, false, 0o666}, // wider than the process's umask
		{0o777, 0o077, false, 0o700},
		{0o444, 0o022, false, 0o444},
		{0o000, 0o022, false, 0},
		{0o4755, 0o022, false, 0o755},
		{0o4755, 0o022, true, 0o755 | fs.ModeSetuid},
		{0o1777, 0, true, 0o777 | fs.ModeSticky},
	} {
		a, dir := newTestApplier(t, ApplyOptions{Umask: c.umask, PreservePermissions: c.preserve})
		hdr := &tar.Header{Name: "d/f", Typeflag: tar.TypeReg, Mode: c.mode, ModTime: mtime, Format: tar.FormatPAX}
		if err := a.Apply(context.Background(), bytes.NewReader(tarOf(t, hdr)), "", -1); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(filepath.Join(dir, "d/f"))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() &^ fs.ModeType; got != c.want {
			t.Errorf("mode %04o, umask %04o, preserve %v: file mode %v, want %v", c.mode, c.umask, c.preserve, got, c.want)
		}
		if !fi.ModTime().Equal(mtime) {
			t.Errorf("mtime %v, want %v", fi.ModTime(), mtime)
		}
	}
}

// TestApplyImplicitDirs: a directory the applier makes as a parent, that
// no entry describes, is known as it is made (no walk of the tree
// afterwards) and gets the mode mkdir would give it; one an entry
// describes (before or after its content) gets the entry's, less the umask.
func TestApplyImplicitDirs(t *testing.T) {
	a, dir := newTestApplier(t, ApplyOptions{Umask: 0o027})
	layer := tarOf(t,
		&tar.Header{Name: "a/b/c/f", Typeflag: tar.TypeReg, Mode: 0o644},
		&tar.Header{Name: "a/b/", Typeflag: tar.TypeDir, Mode: 0o711},
		&tar.Header{Name: "e/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "e/g/f", Typeflag: tar.TypeReg, Mode: 0o644},
	)
	if err := a.Apply(context.Background(), bytes.NewReader(layer), "", -1); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := a.ApplyDirs(dir, nil); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{"a": 0o750, "a/b": 0o710, "a/b/c": 0o750, "e": 0o750, "e/g": 0o750} {
		if got := a.DirMode(p); got != want {
			t.Errorf("DirMode(%s) = %v, want %v", p, got, want)
		}
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
	}
}
