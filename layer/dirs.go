package layer

import (
	"io/fs"
	"sort"
)

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
