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

// applyDirs sets the metadata of the directories names (deepest first)
// below dir, opening every component with O_NOFOLLOW through openat, so
// that no symlink, even one swapped in meanwhile, is followed.
func (a *Applier) applyDirs(dir string, names []string) error {
	rootDir, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer rootDir.Close()
	for _, p := range names {
		parent, err := walkNoFollow(rootDir, path.Dir(p))
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		err = applyDir(parent, path.Base(p), a.dirs[p], a.opts.SameOwner)
		if parent != rootDir {
			parent.Close()
		}
		if err != nil {
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

// walkNoFollow opens the directory rel (slash-separated, "." for root)
// below root, component by component, never following a symlink. For "."
// it returns root itself.
func walkNoFollow(root *os.File, rel string) (*os.File, error) {
	if rel == "." || rel == "" {
		return root, nil
	}
	cur := root
	for _, c := range strings.Split(rel, "/") {
		next, err := OpenDirAt(int(cur.Fd()), c)
		if cur != root {
			cur.Close()
		}
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// lchtimes sets the mtime of name (a symlink) itself.
func (a *Applier) lchtimes(name string, mtime time.Time) error {
	parent, err := a.root.Open(path.Dir(name))
	if err != nil {
		return entryErr(name, err)
	}
	defer parent.Close()
	ts := unix.NsecToTimespec(mtime.UnixNano())
	if err := unix.UtimesNanoAt(int(parent.Fd()), path.Base(name), []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
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
