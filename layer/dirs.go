package layer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// CompleteDirs gives every directory of the tree that no entry described
// (parents made on the way) the mode mkdir would give it.
func (a *Applier) CompleteDirs(ctx context.Context) error {
	return fs.WalkDir(a.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if d.IsDir() && p != "." {
			if _, ok := a.dirs[p]; !ok {
				a.dirs[p] = DirMeta{Mode: 0o777 &^ a.opts.Umask, Implicit: true}
			}
		}
		return nil
	})
}

// DirMode is the mode the directory p will be given.
func (a *Applier) DirMode(p string) fs.FileMode { return a.dirs[p].Mode }

// ApplyDirs sets the mode, owner (with SameOwner) and mtime of the
// directories of the tree, now at dir, deepest first, opening every
// component with O_NOFOLLOW. A directory that is gone, or that a later
// layer replaced, is skipped; so is an implicit one that was merged into
// an existing directory (merged; its mode is the user's).
func (a *Applier) ApplyDirs(dir string, merged map[string]bool) error {
	names := make([]string, 0, len(a.dirs))
	for p, m := range a.dirs {
		if m.Implicit && merged[p] {
			continue
		}
		names = append(names, p)
	}
	sort.Slice(names, func(i, j int) bool {
		if di, dj := strings.Count(names[i], "/"), strings.Count(names[j], "/"); di != dj {
			return di > dj
		}
		return names[i] < names[j]
	})
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
