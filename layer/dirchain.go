package layer

import (
	"context"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// The handles a dirChain keeps open: every directory of the last
// chainWindow levels of its path, and one in every chainCheckpoint levels
// above them, so that at most chainWindow+depth/chainCheckpoint are open
// and going back up reopens at most chainCheckpoint levels.
const (
	chainWindow     = 32
	chainCheckpoint = 32
)

// parentDir is path.Dir of a canonical slash path ("." at the top) without
// path.Dir's Clean, which copies the path: on the path of every entry of a
// deep layer that copy was a fifth of extract's time.
func parentDir(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return "."
}

// dirChain keeps open the directories on the path to the directory last
// asked for. Entries of a layer come in tree order, so the next one is in
// the same directory or near it: reaching it opens only the components
// that differ, instead of walking every component from the root (which
// makes a layer of n nested directories cost n²/2 opens: 59 s for 2,500).
// T is the handle (a *dirHandle for the applier, an *os.File opened with
// O_NOFOLLOW for the metadata pass); open opens the component name below a
// handle, dir being its path from the chain's root. It is not safe for
// concurrent use.
type dirChain[T comparable] struct {
	root  T
	open  func(parent T, name, dir string) (T, error)
	close func(T)
	// dir is the current directory; ends[i] is where its component i ends,
	// and handles[i] opens dir[:ends[i]] (the zero T when closed).
	dir     string
	ends    []int
	handles []T
}

// at returns a handle on dir ("" or "." for the root), opening the
// components it does not hold. After an error it holds the components that
// opened. It costs the length of dir plus the opens.
func (c *dirChain[T]) at(dir string) (T, error) {
	var zero T
	if dir == "" || dir == "." {
		return c.root, nil // the chain stays for the next entry below
	}
	// k: the components of dir the chain has (up to their common prefix).
	k := len(c.ends)
	if dir != c.dir && !(len(dir) > len(c.dir) && dir[len(c.dir)] == '/' && dir[:len(c.dir)] == c.dir) {
		// Neither the chain's directory nor below it: compare.
		common := 0
		for common < len(dir) && common < len(c.dir) && dir[common] == c.dir[common] {
			common++
		}
		k = 0
		for k < len(c.ends) && c.ends[k] <= common && (c.ends[k] == len(dir) || dir[c.ends[k]] == '/') {
			k++
		}
	}
	c.truncate(k)
	j := k // the deepest open handle at or above the directory
	for j > 0 && c.handles[j-1] == zero {
		j--
	}
	parent, start := c.root, 0
	if j > 0 {
		parent, start = c.handles[j-1], c.ends[j-1]+1
	}
	for i := j; start < len(dir); i++ {
		end := strings.IndexByte(dir[start:], '/')
		if end < 0 {
			end = len(dir)
		} else {
			end += start
		}
		h, err := c.open(parent, dir[start:end], dir[:end])
		if err != nil {
			c.truncate(i)
			return zero, err
		}
		if i < len(c.ends) {
			c.handles[i] = h
		} else {
			c.dir, c.ends, c.handles = dir[:end], append(c.ends, end), append(c.handles, h)
		}
		if old := i - chainWindow; old >= 0 && old%chainCheckpoint != chainCheckpoint-1 && c.handles[old] != zero {
			c.close(c.handles[old])
			c.handles[old] = zero
		}
		parent, start = h, end+1
	}
	return parent, nil
}

// truncate closes the handles below the first n components.
func (c *dirChain[T]) truncate(n int) {
	var zero T
	for i := n; i < len(c.handles); i++ {
		if c.handles[i] != zero {
			c.close(c.handles[i])
		}
	}
	if n == 0 {
		c.dir = ""
	} else {
		c.dir = c.dir[:c.ends[n-1]]
	}
	c.ends, c.handles = c.ends[:n], c.handles[:n]
}

// drop closes the handles on name and below it (name was removed or
// replaced); "" drops them all.
func (c *dirChain[T]) drop(name string) {
	if name == "" || name == "." {
		c.truncate(0)
		return
	}
	if name == c.dir || strings.HasPrefix(c.dir, name+"/") {
		k := 0
		for k < len(c.ends) && c.ends[k] < len(name) {
			k++
		}
		c.truncate(k)
	}
}

// WalkTree calls fn for every entry below root, in lexical order,
// directories before what they hold, with the entry's slash-separated path,
// its Lstat, and an os.Root on the directory that holds it. Directories
// are reached through a dirChain, so a tree of any depth costs a few opens
// per directory (fs.WalkDir on root.FS() opens every path from the root);
// symlinks are not followed. It stops at the first error of fn, of the
// file system or of ctx.
func WalkTree(ctx context.Context, root *os.Root, fn func(p string, fi fs.FileInfo, dir *os.Root) error) error {
	chain := dirChain[*os.Root]{root: root, close: func(r *os.Root) { r.Close() },
		open: func(parent *os.Root, name, _ string) (*os.Root, error) { return parent.OpenRoot(name) }}
	defer chain.truncate(0)
	var walk func(dir string) error
	walk = func(dir string) error {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		h, err := chain.at(dir)
		if err != nil {
			return err
		}
		f, err := h.Open(".")
		if err != nil {
			return err
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			return err
		}
		slices.Sort(names)
		for _, n := range names {
			if h, err = chain.at(dir); err != nil {
				return err
			}
			fi, err := h.Lstat(n)
			if err != nil {
				return err
			}
			p := n
			if dir != "" {
				p = dir + "/" + n
			}
			if err := fn(p, fi, h); err != nil {
				return err
			}
			if fi.IsDir() {
				if err := walk(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("")
}
