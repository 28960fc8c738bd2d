package layer

import "fmt"

// Counts counts the entries of a tree by type.
type Counts struct {
	Files, Dirs, Symlinks int
	Bytes                 int64 // of the files
}

// Written returns what the applier made: regular files (a hard link is one
// more, of its target's size) and their bytes, directories (described by
// an entry or made as a parent; not the root), symlinks. exact reports
// whether that is the tree as a walk of it would count it: true for an
// artifact, whose entries never replace or remove one another (a name
// taken is refused); false for an image (whiteouts and replacements remove
// what was counted), whose tree only a walk counts.
func (a *Applier) Written() (c Counts, exact bool) {
	c = a.written
	c.Dirs = len(a.dirs)
	return c, !a.opts.Image
}

// countLink counts the hard link base of at (name in the tree) as a file
// of its target's size, which the link's tar entry does not carry.
func (a *Applier) countLink(at *dirHandle, base, name string) error {
	fi, err := at.root.Lstat(base)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	a.written.Files++
	a.written.Bytes += fi.Size()
	return nil
}
