package layer

import (
	"context"
	"io/fs"
	"os"
	"sort"
)

// CompleteDirs gives every directory of the tree that no entry described
// (parents made on the way) the mode mkdir would give it.
func (a *Applier) CompleteDirs(ctx context.Context) error {
	return WalkTree(ctx, a.root, func(p string, fi fs.FileInfo, _ *os.Root) error {
		if _, ok := a.dirs[p]; fi.IsDir() && !ok {
			a.dirs[p] = DirMeta{Mode: 0o777 &^ a.opts.Umask, Implicit: true}
		}
		return nil
	})
}

// DirMode is the mode the directory p will be given.
func (a *Applier) DirMode(p string) fs.FileMode { return a.dirs[p].Mode }

// ApplyDirs sets the mode, owner (with SameOwner) and mtime of the
// directories of the tree, now at dir, each after those below it, never through a
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
	// Reverse byte order puts every directory after those below it
	// ("a/b/c" > "a/b-x" > "a/b") and keeps a subtree's together.
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	return a.applyDirs(dir, names)
}
