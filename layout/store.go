package layout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/atomicfile"
)

// Names of the fixed entries of a layout.
const (
	LayoutFile = ocispec.ImageLayoutFile // "oci-layout"
	IndexFile  = "index.json"
	BlobsDir   = ocispec.ImageBlobsDir // "blobs"
	// IngestDir holds temporary files while they are written; anything left
	// there after a crash is unreferenced and safe to delete.
	IngestDir = "ingest"
)

// Store is an OCI image layout on disk. Its methods are safe for concurrent
// use by several goroutines and several processes.
type Store struct {
	root string
	arc  *archiveBlobs // an archive read in place (archive_store.go), or nil
}

// Root returns the layout directory.
func (s *Store) Root() string { return s.root }

// Open opens an existing layout: root must hold a regular oci-layout file and
// a regular index.json. Otherwise the error wraps ErrNotLayout. Open does not
// validate the documents; the verify package does.
func Open(root string) (*Store, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, PathErr(root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: %w: not a directory", root, ErrNotLayout)
	}
	for _, name := range []string{LayoutFile, IndexFile} {
		fi, err := os.Lstat(filepath.Join(root, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w: no %s", root, ErrNotLayout, name)
		}
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: %s: %w", root, name, ErrNotRegular)
		}
	}
	return &Store{root: root}, nil
}

// PathErr returns an error of the file system about path as one phrase
// naming the object, "PATH: no such file or directory", not Go's
// "stat PATH: …" that names the system call; the errno stays wrapped (exit
// classes read it). An error that is not an *fs.PathError is returned as it
// is. Every command that opens a path its user named reports it this way.
func PathErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return err
}

// Create opens the layout at root, making it first if needed: a missing or
// empty directory becomes an empty layout; a directory that is not empty and
// has no oci-layout file is refused with ErrNotLayout. Create is idempotent,
// safe against concurrent creators (it holds the layout lock), and finishes a
// layout whose creation was interrupted.
func Create(ctx context.Context, root string) (*Store, error) {
	if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("%s: %w: not a directory", root, ErrNotLayout)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, PathErr(root, err)
	}
	s := &Store{root: root}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()

	if _, err := os.Lstat(filepath.Join(root, LayoutFile)); errors.Is(err, fs.ErrNotExist) {
		entries, err := os.ReadDir(root)
		if err != nil {
			return nil, err
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("%s: %w, and not empty", root, ErrNotLayout)
		}
		data, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		if err := s.writeFile(LayoutFile, data); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(filepath.Join(root, IndexFile)); errors.Is(err, fs.ErrNotExist) {
		if err := s.writeIndex(emptyIndex()); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	for _, alg := range []string{"sha256"} {
		if err := os.MkdirAll(filepath.Join(root, BlobsDir, alg), 0o755); err != nil {
			return nil, err
		}
	}
	return Open(root)
}

// writeFile commits data as the file name (relative to the root), mode
// 0644, through a temporary file under ingest/ (atomicfile.WriteFile: on
// failure the old file is untouched and no temporary file is left).
func (s *Store) writeFile(name string, data []byte) error {
	return atomicfile.WriteFile(context.Background(), filepath.Join(s.root, IngestDir), filepath.Join(s.root, filepath.FromSlash(name)), data, 0o644)
}

// openRegular opens path for reading, refusing symlinks and anything that is
// not a regular file (O_NOFOLLOW, then fstat, so there is no race).
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, ReadNoFollow, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, nil, fmt.Errorf("%s: %w: symlink", path, ErrNotRegular)
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w: %s", path, ErrNotRegular, fi.Mode().Type())
	}
	return f, fi, nil
}

// checkContext returns ctx's error, if any; used between entries and blobs.
func checkContext(ctx context.Context) error { return context.Cause(ctx) }
