//go:build unix

package bundle

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ocibundle/ocibundle/layout"
)

// The Unix facilities the tests use to build their inputs and to check
// results; os_windows_test.go says what stands in for them there.

// lchtimes sets the mtime of path itself, a symlink or not.
func lchtimes(path string, mtime time.Time) error {
	ts := unix.NsecToTimespec(mtime.UnixNano())
	return unix.UtimesNanoAt(unix.AT_FDCWD, path, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}

// umask sets the process's umask and returns the old one.
func umask(m int) int { return syscall.Umask(m) }

func inode(fi fs.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }

func owner(fi fs.FileInfo) (uid, gid uint32) {
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// probeBlobLock tries, without waiting, the exclusive blob lock of the
// layout at dir (gc's, on oci-layout; see layout.Store.HoldBlobs) and
// releases it at once: nil if it was free, EWOULDBLOCK if a writer holds it.
func probeBlobLock(t *testing.T, dir string) error {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, layout.LayoutFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
