//go:build unix

package bundle

import (
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lstatAt lstats name in the open directory dir: the kernel resolves one
// name, not the whole path, and nothing is allocated.
func lstatAt(dir *os.File, name string) (fileStat, error) {
	var st unix.Stat_t
	fd := int(dir.Fd())
	for {
		err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil {
			break
		}
		if err != unix.EINTR {
			return fileStat{}, &fs.PathError{Op: "lstat", Path: filepath.Join(dir.Name(), name), Err: err}
		}
	}
	return fileStat{
		mode: sysMode(uint32(st.Mode)), size: st.Size, mtime: int64(st.Mtim.Sec), // the field types differ per system
		id: [2]uint64{uint64(st.Dev), uint64(st.Ino)}, links: uint64(st.Nlink),
	}, nil
}

// sysMode is the fs.FileMode of a st_mode, as package os computes it.
func sysMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
