//go:build unix

package bundle

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ocibundle/ocibundle/progress"
)

// TestWriteTarRefusesChangedFiles: a file that is no longer the regular file
// of the size the scan found when the tar writer opens it (relative to its
// directory) is refused with ErrBadInput, without blocking on a FIFO and
// without following a symlink.
func TestWriteTarRefusesChangedFiles(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(p string) error{
		"shorter":        func(p string) error { return os.WriteFile(p, []byte("1234"), 0o644) },
		"longer":         func(p string) error { return os.WriteFile(p, []byte("123456"), 0o644) },
		"now a FIFO":     func(p string) error { os.Remove(p); return syscall.Mkfifo(p, 0o644) },
		"now a symlink":  func(p string) error { os.Remove(p); return os.Symlink(outside, p) },
		"now a dir":      func(p string) error { os.Remove(p); return os.Mkdir(p, 0o755) },
		"removed":        os.Remove,
		"dir now a file": nil, // the parent directory replaced by a file
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "tree")
			file := filepath.Join(root, "sub", "b")
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{filepath.Join(root, "a"), file} {
				if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tr, err := scanTree(context.Background(), root, scanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if change == nil {
				change = func(string) error {
					if err := os.RemoveAll(filepath.Dir(file)); err != nil {
						return err
					}
					return os.WriteFile(filepath.Dir(file), nil, 0o644)
				}
			}
			if err := change(file); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := writeTar(context.Background(), io.Discard, tr, time.Time{}, progress.Nop{})
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("writeTar() blocked")
			}
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("writeTar() = %v, want %v", err, ErrBadInput)
			}
		})
	}
}
