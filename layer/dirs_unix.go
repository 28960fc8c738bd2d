//go:build unix

package layer

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// applyDirs sets the metadata of the directories names (each after those
// below it) below dir, opening every component with O_NOFOLLOW through
// openat, so that no symlink, even one swapped in meanwhile, is followed.
// The directories are reached through a dirChain: names in tree order
// cost an open or two each, whatever their depth.
func (a *Applier) applyDirs(dir string, names []string) error {
	rootDir, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer rootDir.Close()
	chain := dirChain[*os.File]{root: rootDir, close: func(f *os.File) { f.Close() },
		open: func(parent *os.File, name, _ string) (*os.File, error) { return OpenDirAt(int(parent.Fd()), name) }}
	defer chain.truncate(0)
	for _, p := range names {
		parent, err := chain.at(parentDir(p))
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := applyDir(parent, path.Base(p), a.dirs[p], a.opts.SameOwner); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

func applyDir(parent *os.File, name string, m DirMeta, sameOwner bool) error {
	d, err := OpenDirAt(int(parent.Fd()), name)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if sameOwner && !m.Implicit {
		if err := d.Chown(m.UID, m.GID); err != nil {
			return err
		}
	}
	if err := d.Chmod(m.Mode); err != nil {
		return err
	}
	if m.Mtime.IsZero() {
		return nil
	}
	ts := unix.NsecToTimespec(m.Mtime.UnixNano())
	return unix.UtimesNanoAt(int(parent.Fd()), name, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}

// OpenDirAt opens the directory name in dirfd (unix.AT_FDCWD for the
// working directory) without following a symlink.
func OpenDirAt(dirfd int, name string) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// lchtimes sets the mtime of name (a symlink, base in the directory at)
// itself.
func (a *Applier) lchtimes(at *dirHandle, base, name string, mtime time.Time) error {
	parent, err := at.dir()
	if err != nil {
		return entryErr(name, err)
	}
	ts := unix.NsecToTimespec(mtime.UnixNano())
	if err := unix.UtimesNanoAt(int(parent.Fd()), base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// createsWithMode: a file is created with its mode, which the kernel masks
// with the umask.
const createsWithMode = true

// createFile creates the regular file base, empty, in the directory at,
// with perm (less the umask), open for writing; it fails with fs.ErrExist
// when base is there, whatever it is (O_EXCL follows no symlink). It is the
// openat os.Root.OpenFile makes for one component, on the descriptor the
// applier holds, without the poller registration os.Root does (four fcntl
// and an epoll_ctl per file, refused for a regular file anyway).
func createFile(at *dirHandle, base string, perm fs.FileMode) (*os.File, error) {
	d, err := at.dir()
	if err != nil {
		return nil, err
	}
	var fd int
	for {
		fd, err = unix.Openat(int(d.Fd()), base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: base, Err: err}
	}
	return os.NewFile(uintptr(fd), base), nil
}

// Umask returns the process's umask without changing it: from
// /proc/self/status where the kernel reports it, else by setting and
// restoring it (racy only against a concurrent file creation).
func Umask() fs.FileMode {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Umask:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return fs.FileMode(n) & fs.ModePerm
				}
			}
		}
	}
	old := syscall.Umask(0o022)
	syscall.Umask(old)
	return fs.FileMode(old) & fs.ModePerm
}
