//go:build unix

package bundle

import (
	"fmt"
	"io"
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

// openInDir opens the regular file e for reading relative to dir, its
// parent directory, as openForPack opens it by path: without following a
// symlink unless e.followed, without blocking on a FIFO, refused unless it
// is still a regular file of the size scanTree found. The descriptor is
// read and closed directly (no os.File, no poller registration, no
// finalizer: the per-file cost on a tree of small files).
func openInDir(dir *os.File, e entry) (io.ReadCloser, error) {
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	if !e.followed {
		flags |= unix.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		if fd, err = unix.Openat(int(dir.Fd()), filepath.Base(e.path), flags, 0); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, badInput(e.path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != e.stat.size {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w: changed while packing", e.path, ErrBadInput)
	}
	return rawFile(fd), nil
}

// rawFile is an open file descriptor read with read(2).
type rawFile int

func (f rawFile) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(int(f), p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f rawFile) Close() error { return unix.Close(int(f)) }
