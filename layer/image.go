package layer

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Summary is what a judge with Options.Summarize keeps of an image layer,
// so that CheckImage can judge the layers of an image together, as the
// applier applies them. It holds every name of the layer.
type Summary struct {
	seen      map[string]byte
	links     map[string]string
	whiteouts []whiteout
	hardlinks []hardlink
	limited   bool
}

// hardlink is a hard link raw => linkname to target, a name the layer has
// no entry at: a lower layer's regular file, or refused.
type hardlink struct {
	raw, linkname, target string
}

// whiteout is one whiteout entry: victim removed ("" for an opaque dir),
// unless the layer wrote it before the whiteout (kept); an opaque dir keeps
// the names the layer wrote below it before the marker (keep). The
// applier, which sees the entries in order, keeps the same.
type whiteout struct {
	raw, dir, victim string
	kept             bool
	keep             map[string]byte
}

// summarizeWhiteout records the whiteout raw (canonical name, base name).
func (j *Judge) summarizeWhiteout(raw, name, base string) {
	w := whiteout{raw: raw, dir: path.Dir(name)}
	switch {
	case !strings.HasPrefix(base, ".wh..wh."):
		w.victim = path.Join(w.dir, strings.TrimPrefix(base, ".wh."))
		w.kept = j.Seen(w.victim)
	case base == ".wh..wh..opq":
		w.keep = map[string]byte{}
		for n, c := range j.seen {
			if strings.HasPrefix(n, w.dir+"/") || w.dir == "." {
				w.keep[n] = c
			}
		}
	default:
		w.dir = "" // other AUFS metadata: nothing to apply
	}
	j.whiteouts = append(j.whiteouts, w)
}

// Summary returns what CheckImage needs of the layer judged so far (nil
// without Options.Summarize).
func (j *Judge) Summary() *Summary {
	if !j.opts.Summarize {
		return nil
	}
	return &Summary{seen: j.seen, links: j.links, whiteouts: j.whiteouts, hardlinks: j.hardlinks, limited: j.limited}
}

// LayerRefusal is a refusal about the entry of one layer (by index) of an
// image.
type LayerRefusal struct {
	Layer int
	*Refusal
}

// CheckImage judges the layers of an image together, lowest first, each
// already judged by itself (every refusal here is one that only the lower
// layers explain): an entry or whiteout reached through a lower layer's
// symlink, or below a lower layer's file; a symlink that leaves the root
// once the links of the layers below are there; a hard link to a name the
// layer does not have that is no regular file of the tree below (none,
// whited out, a symlink, a directory). Whiteouts and
// replacements remove what the lower layers had, as the applier does (a
// layer's whiteouts taken before its entries, as a sorted tar has them).
// A nil or limited summary stops the check there. An image of one layer
// is checked too: its hard links may name no file of the layer.
// With opts.Names (only its rules are used), a name that is one file there
// with a name the layers below left in the tree is refused too (Unportable:
// a layer's own names are the judge's).
func CheckImage(layers []*Summary, opts Options) []LayerRefusal {
	opts.Image = true
	tree := map[string]byte{}
	links := map[string]string{}
	// tracked finds names that are one file with a name of the tree below
	// (one of the layer's own is not in the tree yet: no collision).
	tracked := opts.Names.empty(func(n string) bool { return tree[n] != 0 })
	opts.Names = nil
	var out []LayerRefusal
	for i, s := range layers {
		if s == nil || s.limited {
			return out
		}
		refuse := func(r *Refusal) { out = append(out, LayerRefusal{i, r}) }
		for _, w := range s.whiteouts {
			if r := below(tree, w.dir, w.raw); r != nil {
				refuse(r)
				continue
			}
			switch {
			case w.victim != "" && !w.kept:
				replace(tree, links, w.victim)
			case w.victim == "" && w.dir != "":
				forget(tree, links, w.dir, false, w.keep)
			}
		}
		// After the whiteouts, before the entries: the applier links as it
		// meets the link, and the judge refused a target below an entry of
		// the layer before it.
		for _, h := range s.hardlinks {
			if tree[h.target] != seenFile {
				refuse(HardTargetRefusal(h.raw, h.linkname, true))
			}
		}
		if len(layers) == 1 {
			return out // only its hard links need the tree
		}
		names := make([]string, 0, len(s.seen))
		for n := range s.seen {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			switch class := s.seen[n]; {
			case class == seenParent, class == seenDirLate:
				if lower := tree[n]; lower == seenLink || lower == seenFile {
					refuse(belowRefusal(s, n, lower))
				}
			case class == seenDir:
				if lower := tree[n]; lower == seenFile || lower == seenLink {
					replace(tree, links, n) // a directory replaces a file or link
				}
			default:
				replace(tree, links, n)
			}
		}
		for _, n := range names {
			// A parent's problem is its own (names has the parents).
			if p := tracked.Add(n); p != nil && p.Other != "" && p.Name == n {
				refuse(&Refusal{Name: n, Kind: Unportable, Reason: p.Reason})
			}
		}
		for _, n := range names {
			if c := s.seen[n]; c != seenParent || tree[n] == 0 {
				tree[n] = c
			}
		}
		for n, t := range s.links {
			links[n] = t
		}
		if i == 0 {
			continue
		}
		for _, r := range NewJudge(opts, links).Finish() {
			refuse(r)
			delete(links, r.Name)
		}
	}
	return out
}

// below refuses the entry raw when dir, or a directory above it, is a
// symlink or a file of the tree.
func below(tree map[string]byte, dir, raw string) *Refusal {
	for p := dir; p != "." && p != ""; p = path.Dir(p) {
		switch tree[p] {
		case seenLink:
			return &Refusal{Name: raw, Kind: LinkEscapes, Reason: fmt.Sprintf("reached through the symlink %s", p)}
		case seenFile:
			return &Refusal{Name: raw, Kind: Duplicate, Reason: fmt.Sprintf("below the file %s", p)}
		}
	}
	return nil
}

// belowRefusal names the first entry of s below n, the lower layer's link
// or file.
func belowRefusal(s *Summary, n string, lower byte) *Refusal {
	first := ""
	for m, c := range s.seen {
		if c != seenParent && strings.HasPrefix(m, n+"/") && (first == "" || m < first) {
			first = m
		}
	}
	if lower == seenLink {
		return &Refusal{Name: first, Kind: LinkEscapes, Reason: fmt.Sprintf("reached through the symlink %s", n)}
	}
	return &Refusal{Name: first, Kind: Duplicate, Reason: fmt.Sprintf("below the file %s", n)}
}

// replace removes p from the tree, and what is below it when it is a
// directory (only then is there anything below it: entries through links
// and files are refused).
func replace(tree map[string]byte, links map[string]string, p string) {
	switch tree[p] {
	case 0:
	case seenFile, seenLink:
		delete(tree, p)
		delete(links, p)
	default:
		forget(tree, links, p, true, nil)
	}
}

// forget removes from the tree what lies below p (and p itself when self),
// except the names keep holds.
func forget(tree map[string]byte, links map[string]string, p string, self bool, keep map[string]byte) {
	drop := func(n string) bool {
		if n == p {
			return self
		}
		_, kept := keep[n]
		return (p == "." || strings.HasPrefix(n, p+"/")) && !kept
	}
	for n := range tree {
		if drop(n) {
			delete(tree, n)
		}
	}
	for n := range links {
		if drop(n) {
			delete(links, n)
		}
	}
}
