package atomicfile

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// writeBehindChunk is how many bytes a File lets pile up before it asks the
// kernel to start writing them out.
const writeBehindChunk = 8 << 20

// File is a file being written under a temporary name; Commit publishes it
// under its target name, Abort drops it. Write asks the kernel to start the
// write-out of every 8 MiB as soon as it is written (sync_file_range with
// SYNC_FILE_RANGE_WRITE on Linux; nothing elsewhere), so that the disk works
// while the program computes the next bytes and the fsync of Commit waits
// for the last few MiB only. A File is not safe for concurrent use.
//
// After any failure of Close or Commit, and after Abort, the temporary file
// is gone and the target is untouched (Commit's last step, the sync of the
// directory, is the exception: see Commit).
type File struct {
	f       *os.File
	tmp     string
	off     int64 // bytes written
	started int64 // bytes whose write-out has been started
	closed  bool  // synced and closed, not yet renamed
	done    bool  // committed or aborted
}

// New creates an empty temporary file ".NAME.tmp-RANDOM" with permissions
// perm in dir (made, mode 0755, if missing), hidden from a plain ls and from
// globs of NAME. dir must be on the file system of the target that Commit
// will be given: LAYOUT/ingest/ for a file of a layout, the target's own
// directory for any other file (NextTo). The mode is set now, so that the
// fsync of Close covers it (a read-only perm does not stop the writes).
func New(dir, name string, perm fs.FileMode) (*File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{f: f, tmp: f.Name()}, nil
}

// NextTo creates the temporary file of target, with permissions perm, in
// target's directory.
func NextTo(target string, perm fs.FileMode) (*File, error) {
	return New(filepath.Dir(target), filepath.Base(target), perm)
}

// Write writes p to the temporary file.
func (f *File) Write(p []byte) (int, error) {
	if f.closed || f.done {
		return 0, fmt.Errorf("write %s: %w", f.tmp, os.ErrClosed)
	}
	n, err := f.f.Write(p)
	f.off += int64(n)
	if f.off-f.started >= writeBehindChunk {
		startWriteOut(f.f, f.started, f.off-f.started)
		f.started = f.off
	}
	return n, err
}

// Close makes the content durable under the temporary name (fsync, close)
// without publishing it, so that a writer of many files (the parts of a
// split archive) need not keep them all open until it commits them.
// Close is idempotent; after a failure the temporary file is removed.
func (f *File) Close() error {
	if f.closed || f.done {
		return nil
	}
	f.closed = true
	err := f.f.Sync()
	if err != nil {
		err = fmt.Errorf("sync %s: %w", f.tmp, err)
	}
	if cerr := f.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s: %w", f.tmp, cerr)
	}
	if err != nil {
		f.Abort()
	}
	return err
}

// Commit publishes the content as target: fsync and close (unless Close
// did them), then, if ctx is not cancelled, rename over target and fsync
// target's directory. On a cancellation or
// any failure up to the rename, the temporary file is removed and target
// is untouched; the error is ctx's cause or wraps the system's. If only the
// final directory sync fails, target has been replaced but the rename may
// not survive a crash; the error says so. Commit after Commit or Abort
// fails with os.ErrClosed.
func (f *File) Commit(ctx context.Context, target string) error {
	if f.done {
		return fmt.Errorf("commit %s: %w", target, os.ErrClosed)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("commit %s: %w", target, err)
	}
	if err := context.Cause(ctx); err != nil {
		f.Abort()
		return err
	}
	if err := os.Rename(f.tmp, target); err != nil {
		f.Abort()
		return err // a *os.LinkError naming both paths
	}
	f.done = true
	if err := SyncDir(filepath.Dir(target)); err != nil {
		return fmt.Errorf("%s written, its directory not synced: %w", target, err)
	}
	return nil
}

// Abort drops the temporary file. It is idempotent and does nothing after
// a successful Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	if !f.closed {
		f.f.Close()
	}
	os.Remove(f.tmp)
}

// WriteFile commits data as target with permissions perm, through a
// temporary file in dir (see New for where dir must be). On failure or
// cancellation nothing is left and target is untouched, as for Commit.
func WriteFile(ctx context.Context, dir, target string, data []byte, perm fs.FileMode) error {
	f, err := New(dir, filepath.Base(target), perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", target, err)
	}
	return f.Commit(ctx, target)
}
