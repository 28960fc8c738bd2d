package bundle

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ocibundle/ocibundle/atomicfile"
)

// Errors of the environment, which entryErr passes through as they are.
var (
	errNoSpace      = syscall.ENOSPC
	errQuota        = syscall.EDQUOT
	errIO           = syscall.EIO
	errReadOnly     = syscall.EROFS
	errTooManyFiles = syscall.EMFILE
)

// target is the output directory of an extract, as found before it starts.
type target struct {
	path   string // DIR, or the directory DIR links to
	exists bool
	empty  bool
	mode   fs.FileMode // of an existing DIR
}

// prepareTarget checks the output directory: missing (its parent is made),
// empty, or, with overwrite, any directory. If DIR itself is a symlink, the
// directory it names is the target (the user chose that link; links inside
// DIR are never followed).
func prepareTarget(dir string, overwrite bool) (target, error) {
	p, err := filepath.Abs(dir)
	if err != nil {
		return target{}, err
	}
	fi, err := os.Lstat(p)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if p, err = filepath.EvalSymlinks(p); err != nil {
			return target{}, err
		}
		fi, err = os.Lstat(p)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return target{}, err
		}
		return target{path: p}, nil
	case err != nil:
		return target{}, err
	case !fi.IsDir():
		return target{}, fmt.Errorf("%s: %w: not a directory", dir, ErrTargetNotEmpty)
	}
	f, err := os.Open(p)
	if err != nil {
		return target{}, err
	}
	names, err := f.Readdirnames(1)
	f.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return target{}, err
	}
	// The staging directory is made next to DIR and renamed into it: both
	// must be on one filesystem, which a mount point is not.
	if pfi, err := os.Stat(filepath.Dir(p)); err == nil {
		if a, b := fi.Sys().(*syscall.Stat_t), pfi.Sys().(*syscall.Stat_t); a != nil && b != nil && a.Dev != b.Dev {
			return target{}, fmt.Errorf("%s: %w: a mount point; extract into a directory below it", dir, ErrBadInput)
		}
	}
	t := target{path: p, exists: true, empty: len(names) == 0, mode: fi.Mode() & (fs.ModePerm | fs.ModeSetgid | fs.ModeSticky)}
	if !t.empty && !overwrite {
		return target{}, fmt.Errorf("%s: %w (use --overwrite to merge into it)", dir, ErrTargetNotEmpty)
	}
	return t, nil
}

// completeDirs gives every directory of the staged tree that no entry
// described (parents made on the way) the mode mkdir would give it.
func (x *extractor) completeDirs(ctx context.Context) error {
	return fs.WalkDir(x.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if d.IsDir() && p != "." {
			if _, ok := x.dirs[p]; !ok {
				x.dirs[p] = dirMeta{mode: 0o777 &^ x.umask, implicit: true}
			}
		}
		return nil
	})
}

// publish moves the finished staging tree to the target: one rename when
// the target is missing or empty, a merge otherwise (see Extract).
func (x *extractor) publish(staging string, t target) error {
	if !t.exists || t.empty {
		if err := applyDirs(staging, x.dirs, nil, x.opts.SameOwner); err != nil {
			return err
		}
		mode := 0o777 &^ x.umask
		if t.exists {
			mode = t.mode
		}
		if err := os.Chmod(staging, mode); err != nil {
			return err
		}
		// rename(2) itself, not os.Rename, which refuses to replace a
		// directory: the kernel replaces an empty one atomically, and fails
		// if DIR gained content since prepareTarget.
		if err := unix.Renameat(unix.AT_FDCWD, staging, unix.AT_FDCWD, t.path); err != nil {
			return fmt.Errorf("publish %s: %w", t.path, err)
		}
		return atomicfile.SyncDir(filepath.Dir(t.path))
	}
	merged := map[string]bool{}
	for _, check := range []bool{true, false} {
		src, err := os.Open(staging)
		if err != nil {
			return err
		}
		dst, err := openDirNoFollow(t.path)
		if err != nil {
			src.Close()
			return err
		}
		err = merge(src, dst, "", check, merged)
		src.Close()
		dst.Close()
		if err != nil {
			return err
		}
	}
	if err := applyDirs(t.path, x.dirs, merged, x.opts.SameOwner); err != nil {
		return err
	}
	removeStaging(staging)
	return atomicfile.SyncDir(t.path)
}

// merge moves the entries of the staged directory src into dst, never
// following a symlink in dst: a staged directory merges into a real
// directory of the same name and replaces anything else; a staged file or
// symlink replaces a file or symlink (atomically, by rename). A directory in
// dst where the bundle has a non-directory is a conflict. With check set,
// merge only looks for conflicts and changes nothing. merged collects the
// directories of dst that were merged into rather than moved.
func merge(src, dst *os.File, rel string, check bool, merged map[string]bool) error {
	names, err := src.Readdirnames(-1)
	if err != nil {
		return err
	}
	sort.Strings(names)
	sfd, dfd := int(src.Fd()), int(dst.Fd())
	for _, name := range names {
		p := path.Join(rel, name)
		var ss, ds unix.Stat_t
		if err := unix.Fstatat(sfd, name, &ss, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		err := unix.Fstatat(dfd, name, &ds, unix.AT_SYMLINK_NOFOLLOW)
		srcDir, dstDir := ss.Mode&unix.S_IFMT == unix.S_IFDIR, ds.Mode&unix.S_IFMT == unix.S_IFDIR
		switch {
		case errors.Is(err, unix.ENOENT):
			if !check {
				if err := unix.Renameat(sfd, name, dfd, name); err != nil {
					return fmt.Errorf("publish %s: %w", p, err)
				}
			}
		case err != nil:
			return fmt.Errorf("%s: %w", p, err)
		case srcDir && dstDir:
			if !check {
				merged[p] = true
			}
			s, err := openAt(sfd, name)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			d, err := openAt(dfd, name)
			if err != nil {
				s.Close()
				return fmt.Errorf("%s: %w", p, err)
			}
			err = merge(s, d, p, check, merged)
			s.Close()
			d.Close()
			if err != nil {
				return err
			}
		case dstDir:
			return fmt.Errorf("%s: %w: a directory in the output directory, not one in the bundle", p, ErrTargetNotEmpty)
		case !check:
			if srcDir { // a directory replaces a file or symlink
				if err := unix.Unlinkat(dfd, name, 0); err != nil {
					return fmt.Errorf("publish %s: %w", p, err)
				}
			}
			if err := unix.Renameat(sfd, name, dfd, name); err != nil {
				return fmt.Errorf("publish %s: %w", p, err)
			}
		}
	}
	return nil
}

// applyDirs sets the mode, owner (with sameOwner) and mtime of the
// directories below root, deepest first, opening every component with
// O_NOFOLLOW. A directory that is gone, or that a later layer replaced, is
// skipped; so is an implicit one that was merged into an existing
// directory (its mode is the user's).
func applyDirs(root string, dirs map[string]dirMeta, merged map[string]bool, sameOwner bool) error {
	names := make([]string, 0, len(dirs))
	for p, m := range dirs {
		if m.implicit && merged[p] {
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
	rootDir, err := os.Open(root)
	if err != nil {
		return err
	}
	defer rootDir.Close()
	for _, p := range names {
		m := dirs[p]
		parent, err := walkNoFollow(rootDir, path.Dir(p))
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		err = applyDir(parent, path.Base(p), m, sameOwner)
		if parent != rootDir {
			parent.Close()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

func applyDir(parent *os.File, name string, m dirMeta, sameOwner bool) error {
	d, err := openAt(int(parent.Fd()), name)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if sameOwner && !m.implicit {
		if err := d.Chown(m.uid, m.gid); err != nil {
			return err
		}
	}
	if err := d.Chmod(m.mode); err != nil {
		return err
	}
	if m.mtime.IsZero() {
		return nil
	}
	ts := unix.NsecToTimespec(m.mtime.UnixNano())
	return unix.UtimesNanoAt(int(parent.Fd()), name, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}

// openAt opens the directory name in dirfd without following a symlink.
func openAt(dirfd int, name string) (*os.File, error) {
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
		next, err := openAt(int(cur.Fd()), c)
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

// openDirNoFollow opens an existing directory, refusing a symlink.
func openDirNoFollow(p string) (*os.File, error) {
	return openAt(unix.AT_FDCWD, p)
}

// lchtimes sets the mtime of name (a symlink) itself.
func (x *extractor) lchtimes(name string, mtime time.Time) error {
	parent, err := x.root.Open(path.Dir(name))
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

// listTree describes the staged tree, sorted by path; directories with the
// mode they will be given.
func (x *extractor) listTree(ctx context.Context) ([]ExtractedEntry, error) {
	out := []ExtractedEntry{}
	err := fs.WalkDir(x.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		e := ExtractedEntry{Path: p, Mode: fmt.Sprintf("%04o", unixMode(fi.Mode()))}
		switch {
		case d.IsDir():
			e.Type, e.Mode = "dir", fmt.Sprintf("%04o", unixMode(x.dirs[p].mode))
		case d.Type()&fs.ModeSymlink != 0:
			e.Type = "symlink"
			if e.Link, err = x.root.Readlink(p); err != nil {
				return err
			}
		default:
			e.Type, e.Size = "file", fi.Size()
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// removeStaging deletes a staging directory, making its directories
// writable first (they may already have their final, read-only modes).
func removeStaging(staging string) {
	_ = filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	_ = os.RemoveAll(staging)
}

// processUmask returns the umask without changing it: from
// /proc/self/status where the kernel reports it, else by setting and
// restoring it (racy only against a concurrent file creation).
func processUmask() fs.FileMode {
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
