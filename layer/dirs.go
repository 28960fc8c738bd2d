package layer

import (
	"context"
	"io/fs"
	"sort"
	"strings"
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
// directories of the tree, now at dir, deepest first, never through a
// symlink (applyDirs, one per OS, says how). A directory that is gone, or
// that a later layer replaced, is skipped; so is an implicit one that was
// merged into an existing directory (merged; its mode is the user's).
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
	return a.applyDirs(dir, names)
}
