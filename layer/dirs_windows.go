package layer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows"
)

// applyDirs sets the mode and mtime of the directories names (each after
// those below it) below dir. Windows has no openat with O_NOFOLLOW: each
// directory is reached through an os.Root on dir (which refuses a path that
// leaves dir), by a dirChain of os.Roots on the directories above it (a
// few opens per directory, whatever its depth), and skipped unless Lstat
// finds a directory there, so a link that a later layer put in its place
// is left alone; a swap between the Lstat and the change is not caught,
// but cannot reach outside dir. Owners are never set (SameOwner is
// ignored): Windows files have no POSIX uid and gid. The mode only sets or
// clears the read-only attribute.
func (a *Applier) applyDirs(dir string, names []string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	chain := dirChain[*os.Root]{root: root, close: func(r *os.Root) { r.Close() },
		open: func(parent *os.Root, name, _ string) (*os.Root, error) { return parent.OpenRoot(name) }}
	defer chain.truncate(0)
	for _, p := range names {
		parent, err := chain.at(parentDir(p))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		base := path.Base(p)
		fi, err := parent.Lstat(base)
		if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		m := a.dirs[p]
		if err := parent.Chmod(base, m.Mode); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if m.Mtime.IsZero() {
			continue
		}
		if err := parent.Chtimes(base, m.Mtime, m.Mtime); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// lchtimes sets the mtime of name (a symlink) itself: the link is opened
// with FILE_FLAG_OPEN_REPARSE_POINT, so its target is not touched. It is
// opened by path below the applier's root (at and base are not used).
func (a *Applier) lchtimes(_ *dirHandle, _, name string, mtime time.Time) error {
	p, err := windows.UTF16PtrFromString(filepath.Join(a.root.Name(), filepath.FromSlash(name)))
	if err != nil {
		return entryErr(name, err)
	}
	h, err := windows.CreateFile(p, windows.FILE_WRITE_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer windows.CloseHandle(h)
	ft := windows.NsecToFiletime(mtime.UnixNano())
	if err := windows.SetFileTime(h, nil, &ft, &ft); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// createsWithMode: a file is created 0600 (writable) and given its mode
// afterwards: a mode without write permission would make it read-only
// while it is written.
const createsWithMode = false

// createFile creates the regular file base, empty, in the directory at,
// open for writing; it fails with fs.ErrExist when base is there.
func createFile(at *dirHandle, base string, _ fs.FileMode) (*os.File, error) {
	return at.root.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// Umask returns 0: Windows has no umask (a new file's permissions come
// from the ACLs it inherits from its directory, not from mode bits).
func Umask() fs.FileMode { return 0 }
