package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/ocibundle/ocibundle/atomicfile"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
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
			return target{}, layout.PathErr(dir, err)
		}
		return target{path: p}, nil
	case err != nil:
		return target{}, layout.PathErr(dir, err)
	case !fi.IsDir():
		return target{}, fmt.Errorf("%s: %w", dir, ErrNotDirectory)
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
		if !sameFilesystem(fi, pfi) {
			return target{}, fmt.Errorf("%s: %w: a mount point; extract into a directory below it", dir, ErrBadInput)
		}
	}
	t := target{path: p, exists: true, empty: len(names) == 0, mode: fi.Mode() & (fs.ModePerm | fs.ModeSetgid | fs.ModeSticky)}
	if !t.empty && !overwrite {
		return target{}, fmt.Errorf("%s: %w (use --overwrite to merge into it)", dir, ErrTargetNotEmpty)
	}
	return t, nil
}

// publish moves the finished staging tree to the target: one rename when
// the target is missing or empty, a merge otherwise (see Extract).
func publish(app *layer.Applier, staging string, t target) error {
	if !t.exists || t.empty {
		if err := app.ApplyDirs(staging, nil); err != nil {
			return err
		}
		mode := 0o777 &^ layer.Umask()
		if t.exists {
			mode = t.mode
		}
		if err := os.Chmod(staging, mode); err != nil {
			return err
		}
		if err := replaceEmptyDir(staging, t.path); err != nil {
			return fmt.Errorf("publish %s: %w", t.path, err)
		}
		return atomicfile.SyncDir(filepath.Dir(t.path))
	}
	merged := map[string]bool{}
	for _, check := range []bool{true, false} {
		src, err := openMergeDir(staging)
		if err != nil {
			return err
		}
		dst, err := openMergeDir(t.path)
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
	if err := app.ApplyDirs(t.path, merged); err != nil {
		return err
	}
	removeStaging(staging)
	return atomicfile.SyncDir(t.path)
}

// merge moves the entries of the staged directory src into dst, never
// following a symlink in dst (mergeDir, one per OS, says how): a staged
// directory merges into a real directory of the same name and replaces
// anything else; a staged file or symlink replaces a file or symlink
// (atomically, by rename). A directory in dst where the bundle has a
// non-directory is a conflict. With check set, merge only looks for
// conflicts and changes nothing. merged collects the directories of dst
// that were merged into rather than moved.
func merge(src, dst mergeDir, rel string, check bool, merged map[string]bool) error {
	names, err := src.names()
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		p := path.Join(rel, name)
		srcDir, err := src.isDir(name)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		dstDir, err := dst.isDir(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if !check {
				if err := src.moveTo(name, dst); err != nil {
					return fmt.Errorf("publish %s: %w", p, err)
				}
			}
		case err != nil:
			return fmt.Errorf("%s: %w", p, err)
		case srcDir && dstDir:
			if !check {
				merged[p] = true
			}
			if err := mergeSub(src, dst, name, p, check, merged); err != nil {
				return err
			}
		case dstDir:
			return fmt.Errorf("%s: %w: a directory in the output directory, not one in the bundle", p, ErrTargetNotEmpty)
		case !check:
			if srcDir { // a directory replaces a file or symlink
				if err := dst.remove(name); err != nil {
					return fmt.Errorf("publish %s: %w", p, err)
				}
			}
			if err := src.moveTo(name, dst); err != nil {
				return fmt.Errorf("publish %s: %w", p, err)
			}
		}
	}
	return nil
}

// mergeSub merges the staged directory name of src into the directory of
// the same name of dst (p is its path in the tree).
func mergeSub(src, dst mergeDir, name, p string, check bool, merged map[string]bool) error {
	s, err := src.open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer s.Close()
	d, err := dst.open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	defer d.Close()
	return merge(s, d, p, check, merged)
}

// describeTree is ExtractResult's Entries and Summary: the summary alone,
// when it is all opts asks for, from what the applier counted while
// writing if that is the tree (an artifact: layer.Applier.Written), else
// from a walk of the staged tree (listTree).
func describeTree(ctx context.Context, root *os.Root, app *layer.Applier, opts ExtractOptions) ([]ExtractedEntry, ExtractSummary, error) {
	summaryOnly := opts.SummaryOnly && !opts.Hash
	if c, exact := app.Written(); summaryOnly && exact {
		return []ExtractedEntry{}, ExtractSummary(c), nil
	}
	return listTree(ctx, root, app, opts.Hash, summaryOnly)
}

// listTree describes the staged tree, sorted by path; directories with the
// mode they will be given; with hash, each file's sha256, read back. It
// counts the tree (the summary); with summaryOnly, it lists nothing.
func listTree(ctx context.Context, root *os.Root, app *layer.Applier, hash, summaryOnly bool) ([]ExtractedEntry, ExtractSummary, error) {
	out := []ExtractedEntry{}
	var sum ExtractSummary
	modes := map[uint32]string{} // one string per mode, not per entry
	modeString := func(m fs.FileMode) string {
		u := unixMode(m)
		s, ok := modes[u]
		if !ok {
			s = fmt.Sprintf("%04o", u)
			modes[u] = s
		}
		return s
	}
	err := layer.WalkTree(ctx, root, func(p string, fi fs.FileInfo, dir *os.Root) error {
		switch {
		case fi.IsDir():
			sum.Dirs++
		case fi.Mode()&fs.ModeSymlink != 0:
			sum.Symlinks++
		default:
			sum.Files++
			sum.Bytes += fi.Size()
		}
		if summaryOnly {
			return nil
		}
		e := ExtractedEntry{Path: p, Mode: modeString(fi.Mode())}
		switch {
		case fi.IsDir():
			e.Type, e.Mode = "dir", modeString(app.DirMode(p))
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Type = "symlink"
			var err error
			if e.Link, err = dir.Readlink(path.Base(p)); err != nil {
				return err
			}
		default:
			e.Type, e.Size = "file", fi.Size()
			if hash {
				var err error
				if e.SHA256, err = fileSHA256(dir, path.Base(p)); err != nil {
					return err
				}
			}
		}
		out = append(out, e)
		return nil
	})
	return out, sum, err
}

// fileSHA256 hashes the regular file name of dir (hex).
func fileSHA256(dir *os.Root, name string) (string, error) {
	f, err := dir.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
