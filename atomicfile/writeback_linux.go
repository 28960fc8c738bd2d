package atomicfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteOut starts the write-out of n dirty bytes of f at off without
// waiting for it. An error only means the hint was not taken: the final
// fsync still writes everything and reports a real failure.
func startWriteOut(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
