package layer

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// Tree is the tree an Applier would write, held in memory: what `files`
// lists and `diff` compares without extracting. It applies layers with the
// applier's rules: every entry judged first (Judge, the same options), an
// artifact's layers side by side under their titles (no name twice), an
// image's in order with whiteouts, opaque directories and replacements as
// the applier applies them. It is not safe for concurrent use.
type Tree struct {
	image, allowOutside bool
	judge               *Judge
	links               map[string]string
	nodes               map[string]*Node
}

// Node is one name of a Tree.
type Node struct {
	Name string // canonical, slash-separated, relative
	// Type is "file", "dir" or "symlink" (a hard link is a "file" with
	// HardLink set).
	Type    string
	Mode    int64 // permission, setuid, setgid and sticky bits, as in the tar
	Size    int64 // bytes of a file
	ModTime time.Time
	Link    string // a symlink's target, as in the tar
	// HardLink is the name a hard link links to (the file it has the
	// bytes of).
	HardLink string
	SHA256   string // of a file's bytes, hex
	// Implicit: a directory no entry describes, made as a parent (the
	// applier makes it 0755 less the umask).
	Implicit bool
}

// NewTree returns an empty tree for the layers of an image (image) or of
// an artifact; allowOutside is ApplyOptions.AllowOutsideLinks.
func NewTree(image, allowOutside bool) *Tree {
	t := &Tree{image: image, allowOutside: allowOutside, links: map[string]string{}, nodes: map[string]*Node{}}
	t.judge = NewJudge(t.judgeOptions(""), t.links)
	return t
}

func (t *Tree) judgeOptions(scope string) Options {
	return Options{Image: t.image, Scope: scope, AllowOutsideLinks: t.allowOutside, MaxSize: -1}
}

// Apply reads the tar stream r to its end-of-archive marker and adds its
// entries, hashing every regular file, as Applier.Apply (the same
// arguments, the same errors, save the file system's: none).
func (t *Tree) Apply(ctx context.Context, r io.Reader, scope string, maxSize int64) error {
	t.judge = nextJudge(t.judge, t.judgeOptions(scope), t.links, maxSize)
	return readLayer(ctx, r, t.judge, t.entry)
}

// WriteFile adds the file name with the bytes of r (an artifact layer
// that is not a tar), as Applier.WriteFile: mode 0644 (what the applier
// gives it under a umask of 022), no mtime.
func (t *Tree) WriteFile(ctx context.Context, name string, r io.Reader) error {
	if err := t.judge.fileLayer(name); err != nil {
		return err
	}
	n := &Node{Name: name, Type: "file", Mode: 0o644}
	return t.hash(n, &tar.Header{Size: -1}, r)
}

func (t *Tree) entry(hdr *tar.Header, r io.Reader) error {
	e, err := t.judge.Entry(hdr)
	if err != nil || e.Name == "" {
		return err
	}
	name := e.Name
	if e.Whiteout {
		return t.whiteout(hdr.Name, name)
	}
	if r := t.belowFile(name, name); r != nil {
		return r
	}
	old := t.nodes[name]
	isDir := hdr.Typeflag == tar.TypeDir
	if !t.image && old != nil && !(old.Type == "dir" && isDir) {
		return &Refusal{Name: hdr.Name, Kind: Duplicate, Reason: "conflicts with an earlier entry"}
	}
	if old != nil && !(old.Type == "dir" && isDir) {
		t.remove(name)
	}
	t.parents(name)
	n := &Node{Name: name, Mode: hdr.Mode & 0o7777, ModTime: hdr.ModTime}
	switch hdr.Typeflag {
	case tar.TypeDir:
		n.Type = "dir"
	case tar.TypeSymlink:
		n.Type, n.Link = "symlink", hdr.Linkname
	case tar.TypeLink:
		target, _ := Clean(hdr.Linkname) // judged
		to := t.nodes[target]
		if to == nil || to.Type != "file" {
			return HardTargetRefusal(hdr.Name, hdr.Linkname, t.image)
		}
		*n = *to
		n.Name, n.HardLink = name, target
	default:
		n.Type = "file"
		return t.hash(n, hdr, r)
	}
	t.nodes[name] = n
	return nil
}

// hash reads a file's bytes into n's size and digest, and adds n.
func (t *Tree) hash(n *Node, hdr *tar.Header, r io.Reader) error {
	h := sha256.New()
	size, err := io.Copy(h, r)
	if err != nil {
		return &ReadError{Name: n.Name, Err: err}
	}
	if hdr.Size >= 0 && size != hdr.Size {
		return &ReadError{Name: n.Name, Err: fmt.Errorf("%w: %d of %d bytes", io.ErrUnexpectedEOF, size, hdr.Size)}
	}
	n.Size, n.SHA256 = size, hex.EncodeToString(h.Sum(nil))
	t.parents(n.Name)
	t.nodes[n.Name] = n
	return nil
}

// parents adds the directories above name that the tree lacks.
func (t *Tree) parents(name string) {
	for d := path.Dir(name); d != "." && t.nodes[d] == nil; d = path.Dir(d) {
		t.nodes[d] = &Node{Name: d, Type: "dir", Mode: 0o755, Implicit: true}
	}
}

// whiteout applies an image whiteout raw (canonical name) as the applier
// does: the opaque marker removes below its directory what this layer did
// not write, ".wh.NAME" removes NAME unless this layer wrote it; either is
// refused below a lower layer's file.
func (t *Tree) whiteout(raw, name string) error {
	dir, base := path.Dir(name), path.Base(name)
	switch {
	case base == ".wh..wh..opq":
		if r := t.belowFile(raw, name); r != nil {
			return r
		}
		for n := range t.nodes {
			if (dir == "." || strings.HasPrefix(n, dir+"/")) && !t.judge.Seen(n) {
				t.remove(n)
			}
		}
	case strings.HasPrefix(base, ".wh..wh."):
		// other AUFS metadata: nothing to apply
	default:
		victim := path.Join(dir, strings.TrimPrefix(base, ".wh."))
		if t.judge.Seen(victim) {
			return nil
		}
		if r := t.belowFile(raw, victim); r != nil {
			return r
		}
		t.remove(victim)
	}
	return nil
}

// belowFile refuses the entry raw when a directory above name is a file
// of the tree (a lower layer's: the judge refuses the layer's own), as the
// applier finds it on the disk: the topmost such file is named.
func (t *Tree) belowFile(raw, name string) *Refusal {
	var above []string
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		above = append(above, d)
	}
	for i := len(above) - 1; i >= 0; i-- {
		switch n := t.nodes[above[i]]; {
		case n == nil:
			return nil
		case n.Type == "file":
			return &Refusal{Name: raw, Kind: Duplicate, Reason: fmt.Sprintf("below the file %s", above[i])}
		}
	}
	return nil
}

// remove drops name and what is below it.
func (t *Tree) remove(name string) {
	for n := range t.nodes {
		if n == name || strings.HasPrefix(n, name+"/") {
			delete(t.nodes, n)
		}
	}
	t.judge.Forget(name)
}

// Nodes returns the tree, sorted by name.
func (t *Tree) Nodes() []Node {
	out := make([]Node, 0, len(t.nodes))
	for _, n := range t.nodes {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
