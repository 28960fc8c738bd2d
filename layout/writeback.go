package layout

import (
	"fmt"
	"os"
)

// writeBehindChunk is how many bytes a WriteBehind lets pile up before it
// asks the kernel to start writing them out.
const writeBehindChunk = 8 << 20

// WriteBehind writes to a file that will be synced when complete, and asks
// the kernel to start writing every 8 MiB out as soon as it is written
// (sync_file_range with SYNC_FILE_RANGE_WRITE on Linux; nothing elsewhere).
// The disk then works while the program computes the next bytes, and the
// final fsync (the caller's) waits for the last few MiB instead of the whole
// file. It is a hint: the fsync is what makes the bytes durable and reports
// errors.
type WriteBehind struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // bytes whose write-out has been started
}

// NewWriteBehind returns a WriteBehind writing to f at its current offset,
// which must be 0.
func NewWriteBehind(f *os.File) *WriteBehind { return &WriteBehind{f: f} }

func (w *WriteBehind) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writeBehindChunk {
		startWriteOut(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}

// SyncDir makes a directory's entries durable (fsync of the directory), after
// a rename into it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return d.Close()
}
