package layout

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// Windows locks are LockFileEx byte-range locks. They are mandatory (a
// locked range cannot be read through another handle), so the range taken
// is one byte far beyond the end of any real file, lockOffset: a lock then
// never stops anyone from reading oci-layout itself.
const lockOffset = 1 << 62

// openIndexLock opens (creating it and ingest/ if missing) the index lock
// file.
func openIndexLock(root string) (*os.File, error) {
	dir := filepath.Join(root, IngestDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dir, indexLockFile), os.O_RDWR|os.O_CREATE, 0o644)
}

// tryLock makes one non-blocking attempt (LOCKFILE_FAIL_IMMEDIATELY) at a
// lock of kind how on f; busy reports that another handle holds it in a
// conflicting kind.
func tryLock(f *os.File, how lockKind) (busy bool, err error) {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if how == lockExclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	ol := lockOverlapped()
	err = windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return true, nil
	}
	return false, err
}

// unlockFile releases the lock explicitly: Windows releases the locks of a
// closed handle only eventually, when the system gets to it.
func unlockFile(f *os.File) {
	ol := lockOverlapped()
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

func lockOverlapped() windows.Overlapped {
	return windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
}
