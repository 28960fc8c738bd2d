//go:build unix

package bundle

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ocibundle/ocibundle/layer"
)

// sameFilesystem reports whether the files a and b are on one filesystem
// (the same device), so that a rename between them can work.
func sameFilesystem(a, b fs.FileInfo) bool {
	sa, oka := a.Sys().(*syscall.Stat_t)
	sb, okb := b.Sys().(*syscall.Stat_t)
	return !oka || !okb || sa.Dev == sb.Dev
}

// replaceEmptyDir renames the directory staging to target, which is
// missing or an empty directory: rename(2) itself, not os.Rename, which
// refuses to replace a directory; the kernel replaces an empty one
// atomically, and fails if target gained content since it was checked.
func replaceEmptyDir(staging, target string) error {
	return unix.Renameat(unix.AT_FDCWD, staging, unix.AT_FDCWD, target)
}

// mergeDir is a directory of a merge, open as a descriptor: every entry is
// looked at, renamed and removed relative to it (fstatat, renameat,
// unlinkat), so no symlink in the output directory is ever followed, even
// one swapped in meanwhile.
type mergeDir struct{ f *os.File }

// openMergeDir opens the directory path (a symlink in its last component
// is refused).
func openMergeDir(path string) (mergeDir, error) {
	f, err := layer.OpenDirAt(unix.AT_FDCWD, path)
	return mergeDir{f}, err
}

func (d mergeDir) Close() error { return d.f.Close() }

func (d mergeDir) names() ([]string, error) { return d.f.Readdirnames(-1) }

// isDir reports whether the entry name is a directory (not a symlink to
// one); a missing entry is an error matching fs.ErrNotExist.
func (d mergeDir) isDir(name string) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(int(d.f.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false, err
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

func (d mergeDir) open(name string) (mergeDir, error) {
	f, err := layer.OpenDirAt(int(d.f.Fd()), name)
	return mergeDir{f}, err
}

// moveTo renames the entry name to the same name in dst, replacing a file
// or symlink there atomically.
func (d mergeDir) moveTo(name string, dst mergeDir) error {
	return unix.Renameat(int(d.f.Fd()), name, int(dst.f.Fd()), name)
}

// remove removes the entry name, a file or symlink.
func (d mergeDir) remove(name string) error { return unix.Unlinkat(int(d.f.Fd()), name, 0) }
