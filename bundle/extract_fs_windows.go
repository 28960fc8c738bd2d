package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// sameFilesystem reports true: Windows' FileInfo carries no device number.
// A staging directory on another volume makes the final rename fail
// (ERROR_NOT_SAME_DEVICE), which publish reports, instead of the early
// refusal Unix gives.
func sameFilesystem(a, b fs.FileInfo) bool { return true }

// replaceEmptyDir moves the directory staging to target, which is missing
// or an empty directory. Windows cannot rename over a directory, so an
// empty target is removed first (os.Remove fails if it gained content since
// it was checked); unlike on Unix the two steps are not one atomic change.
func replaceEmptyDir(staging, target string) error {
	if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(staging, target)
}

// mergeDir is a directory of a merge, known by its path. Windows has no
// fstatat/renameat: every entry is looked at with Lstat (so a symlink or
// junction is never taken for a directory to merge into) and then renamed
// or removed by path; a swap between the look and the change is not
// caught there.
type mergeDir struct{ path string }

// openMergeDir checks that path is a directory, not a link to one.
func openMergeDir(path string) (mergeDir, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return mergeDir{}, err
	}
	if !fi.IsDir() {
		return mergeDir{}, fmt.Errorf("%s: not a directory", path)
	}
	return mergeDir{path}, nil
}

func (d mergeDir) Close() error { return nil }

func (d mergeDir) names() ([]string, error) {
	f, err := os.Open(d.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// isDir reports whether the entry name is a directory (not a link to one);
// a missing entry is an error matching fs.ErrNotExist.
func (d mergeDir) isDir(name string) (bool, error) {
	fi, err := os.Lstat(filepath.Join(d.path, name))
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

func (d mergeDir) open(name string) (mergeDir, error) {
	return openMergeDir(filepath.Join(d.path, name))
}

// moveTo renames the entry name to the same name in dst (MoveFileEx with
// MOVEFILE_REPLACE_EXISTING replaces a file there).
func (d mergeDir) moveTo(name string, dst mergeDir) error {
	return os.Rename(filepath.Join(d.path, name), filepath.Join(dst.path, name))
}

// remove removes the entry name, a file or symlink.
func (d mergeDir) remove(name string) error { return os.Remove(filepath.Join(d.path, name)) }
