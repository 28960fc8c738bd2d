package atomicfile_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocibundle/ocibundle/atomicfile"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// assertFile checks path's content and permission bits.
func assertFile(t *testing.T, path string, want []byte, perm fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile(%s) = %d bytes, %v, want %d bytes", path, len(got), err, len(want))
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != perm {
		t.Fatalf("Stat(%s) = %v, %v, want mode %v", path, fi.Mode(), err, perm)
	}
}

func TestCommit(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "archive.tar")
	f, err := atomicfile.NextTo(target, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	// More than the 8 MiB write-behind chunk, in uneven writes.
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20+3)
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 3<<20+7)
		if _, err := f.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if names := entries(t, dir); len(names) != 1 || names[0][0] != '.' {
		t.Errorf("before Commit the directory holds %v, want one hidden temporary file", names)
	}
	if err := f.Commit(context.Background(), target); err != nil {
		t.Fatalf("Commit() = %v", err)
	}
	assertFile(t, target, data, 0o640)
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("after Commit the directory holds %v, want the target only", names)
	}
	f.Abort() // after Commit: does nothing
	assertFile(t, target, data, 0o640)
	if err := f.Commit(context.Background(), target); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Commit() again = %v, want os.ErrClosed", err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write() after Commit = %v, want os.ErrClosed", err)
	}
}

// TestCommitFailure: a cancelled context, a failed rename and Abort leave
// no temporary file and the old target as it was.
func TestCommitFailure(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		target func(dir string) string
		finish func(f *atomicfile.File, target string) error
		want   error
	}{
		{"cancelled", func(dir string) string { return filepath.Join(dir, "t") },
			func(f *atomicfile.File, target string) error { return f.Commit(cancelled, target) }, context.Canceled},
		{"closed then cancelled", func(dir string) string { return filepath.Join(dir, "t") },
			func(f *atomicfile.File, target string) error {
				if err := f.Close(); err != nil {
					return err
				}
				return f.Commit(cancelled, target)
			}, context.Canceled},
		{"rename onto a directory", func(dir string) string {
			p := filepath.Join(dir, "t")
			if err := os.MkdirAll(filepath.Join(p, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, func(f *atomicfile.File, target string) error { return f.Commit(context.Background(), target) }, fs.ErrExist},
		{"abort", func(dir string) string { return filepath.Join(dir, "t") },
			func(f *atomicfile.File, target string) error { f.Abort(); return os.ErrClosed }, os.ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := tc.target(dir)
			if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
				if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := entries(t, dir)
			f, err := atomicfile.NextTo(target, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte("new content")); err != nil {
				t.Fatal(err)
			}
			err = tc.finish(f, target)
			if !errors.Is(err, tc.want) {
				t.Errorf("Commit() = %v, want %v", err, tc.want)
			}
			if after := entries(t, dir); len(after) != len(before) {
				t.Errorf("directory holds %v after the failure, want %v (no temporary file)", after, before)
			}
			if fi, _ := os.Stat(target); !fi.IsDir() {
				assertFile(t, target, []byte("old"), 0o600)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root) // relative paths, from another working directory
	ingest := filepath.Join("layout", "ingest")
	if err := os.Mkdir("layout", 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join("layout", "index.json")
	for _, data := range []string{`{"v":1}`, `{"v":2}`} {
		if err := atomicfile.WriteFile(context.Background(), ingest, target, []byte(data), 0o644); err != nil {
			t.Fatalf("WriteFile(%s) = %v", data, err)
		}
		assertFile(t, target, []byte(data), 0o644)
		if names := entries(t, ingest); len(names) != 0 {
			t.Errorf("ingest holds %v after WriteFile, want nothing", names)
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := atomicfile.WriteFile(cancelled, ingest, target, []byte("x"), 0o644); !errors.Is(err, context.Canceled) {
		t.Errorf("WriteFile(cancelled) = %v, want context.Canceled", err)
	}
	assertFile(t, target, []byte(`{"v":2}`), 0o644)
	if names := entries(t, ingest); len(names) != 0 {
		t.Errorf("ingest holds %v after a cancelled WriteFile, want nothing", names)
	}
}

func TestSyncDir(t *testing.T) {
	if err := atomicfile.SyncDir(t.TempDir()); err != nil {
		t.Errorf("SyncDir(dir) = %v", err)
	}
	if err := atomicfile.SyncDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir(missing) = %v, want fs.ErrNotExist", err)
	}
}
