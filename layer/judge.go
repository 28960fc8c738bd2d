package layer

import (
	"archive/tar"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// Kind is the reason kind of a refusal, which verify maps to its stable
// finding codes.
type Kind int

const (
	// UnsafeName: an absolute, "..", non-canonical, backslash or NUL name;
	// an entry outside the artifact layer's title; a root entry that is not
	// a directory; a whiteout where whiteouts do not belong.
	UnsafeName Kind = iota + 1
	// Duplicate: a name seen before in the layer, or one below a file.
	Duplicate
	// LinkEscapes: a symlink whose target leaves the root (or is absolute,
	// in an artifact), a link loop, an entry reached through a symlink, a
	// hard link that names no regular file earlier in the layer (in an
	// image: earlier in the layer or left by a lower layer).
	LinkEscapes
	// Device: a character or block device.
	Device
	// SpecialFile: a FIFO, a sparse file or an unknown entry type.
	SpecialFile
	// TooLarge: an entry that declares more bytes than the layer holds.
	TooLarge
	// Unportable: a name the file system of Options.Names cannot hold, or
	// one it holds as the same file as an earlier name (NameRules). It
	// also wraps ErrUnportable.
	Unportable
)

// Refusal is a rule an entry breaks. It wraps ErrUnsafe (and, of Kind
// Unportable, ErrUnportable). Its text names the entry (and a link's
// target) and the reason; verify and extract print the same text.
type Refusal struct {
	Name   string // the entry's name, as in the tar
	Target string // a link's target, as in the tar ("" for other entries)
	Hard   bool   // Target is a hard link's
	Kind   Kind
	Reason string
	// outside: a symlink whose target leaves the root, which
	// Options.AllowOutsideLinks may keep (not a loop, not an empty target).
	outside bool
}

func (r *Refusal) Error() string {
	switch {
	case r.Target != "" && r.Hard:
		return fmt.Sprintf("%s => %s: %s", r.Name, r.Target, r.Reason)
	case r.Target != "":
		return fmt.Sprintf("%s -> %s: %s", r.Name, r.Target, r.Reason)
	}
	return fmt.Sprintf("%s: %s", r.Name, r.Reason)
}

func (r *Refusal) Unwrap() []error {
	if r.Kind == Unportable {
		return []error{ErrUnsafe, ErrUnportable}
	}
	return []error{ErrUnsafe}
}

// LeavesRoot reports whether r refuses a symlink only because its target
// leaves the layer (an absolute target, or one climbing out of the title or
// the root): what Options.AllowOutsideLinks keeps. A loop or an empty
// target is refused whatever the options, and reports false.
func (r *Refusal) LeavesRoot() bool { return r.outside }

// Options say which layer a judge judges.
type Options struct {
	// Image: a layer of an image (whiteouts allowed, absolute symlinks
	// resolved from the image root).
	Image bool
	// Scope, in an artifact layer, is its title: every entry must be the
	// title or below it ("" for none), and a symlink may not leave it.
	Scope string
	// InferScope, in an artifact layer whose title is not known yet, takes
	// the top-level name of the first entry as the scope symlinks may not
	// leave, without refusing entries outside it: the caller holds the
	// entries to the title once it knows it (verify reads a layer before
	// the manifest that titles it).
	InferScope bool
	// AllowOutsideLinks keeps a symlink whose target leaves the root (or is
	// absolute, in an artifact) instead of refusing it; Entry.Kept says so.
	AllowOutsideLinks bool
	// MaxSize caps the bytes an entry may declare (< 0: no cap).
	MaxSize int64
	// MaxTracked caps the names remembered for the duplicate, hard-link and
	// link checks (0: no cap); past it, Limited reports true and later
	// names are judged without that memory.
	MaxTracked int
	// Summarize keeps what CheckImage needs of an image layer (Summary).
	Summarize bool
	// Names, when set, refuses a name its rules cannot hold and one that
	// is the same file there as a name of the tree (Unportable); the
	// applier shares one across the layers it applies.
	Names *Names
}

// Entry is an entry a judge accepts.
type Entry struct {
	// Name is the canonical name ("" for the root entry).
	Name string
	// Whiteout: an image whiteout (".wh.NAME" or the opaque marker).
	Whiteout bool
	// Kept is the refusal Options.AllowOutsideLinks waived (nil if none).
	Kept *Refusal
}

// what a judge remembers of a name of the layer
const (
	seenFile   = 'f' // a regular file or a hard link to one
	seenDir    = 'd'
	seenParent = 'p' // a directory made as the parent of an entry
	// seenDirLate: a directory entry after entries below it, which the
	// applier wrote in what the tree had there (a lower layer's file
	// refuses them) before the entry could replace it.
	seenDirLate = 'D'
	seenLink    = 'l'
)

// maxHops caps the symlinks followed while resolving one path (as the
// kernel's 40).
const maxHops = 40

// Judge applies the layer rules to the entries of one layer, in order. It
// is not safe for concurrent use.
type Judge struct {
	opts    Options
	seen    map[string]byte
	links   map[string]string
	limited bool
	// clean is a directory no path of which (itself included) is a link
	// or a file: parents checks only what an entry's directory adds to it,
	// so that an entry costs its new components, not its depth.
	clean string
	// floor is the scope as components: ".." may not go above it.
	floor []string
	// whiteouts are the layer's whiteouts, and hardlinks its hard links
	// to no file of the layer, with Options.Summarize.
	whiteouts []whiteout
	hardlinks []hardlink
}

// NewJudge returns a judge of one layer. links holds the symlinks already
// in the tree (path → target), from lower layers of an image; the judge
// adds the layer's symlinks to it. nil starts an empty tree.
func NewJudge(opts Options, links map[string]string) *Judge {
	if links == nil {
		links = map[string]string{}
	}
	j := &Judge{opts: opts, seen: map[string]byte{}, links: links}
	j.setScope(opts.Scope)
	return j
}

// setScope makes scope the title entries and links must stay below.
func (j *Judge) setScope(scope string) {
	j.opts.Scope, j.floor = scope, splitPath(scope)
}

// Limited reports whether MaxTracked was reached.
func (j *Judge) Limited() bool { return j.limited }

// Seen reports whether the layer so far has an entry at name, or below it.
func (j *Judge) Seen(name string) bool {
	_, ok := j.seen[name]
	return ok
}

// Entry judges hdr, the next entry of the layer. It returns the entry's
// canonical name, or a *Refusal. A refused entry is not remembered.
func (j *Judge) Entry(hdr *tar.Header) (Entry, error) {
	refuse := func(kind Kind, format string, args ...any) (Entry, error) {
		return Entry{}, &Refusal{Name: hdr.Name, Kind: kind, Reason: fmt.Sprintf(format, args...)}
	}
	name, why := Clean(hdr.Name)
	if why != "" {
		return refuse(UnsafeName, "%s", why)
	}
	if IsSparse(hdr) {
		// archive/tar expands holes itself: a few bytes could declare a
		// file of any size.
		return refuse(SpecialFile, "sparse file")
	}
	if name == "" {
		if hdr.Typeflag != tar.TypeDir {
			return refuse(UnsafeName, "the layer's root entry is %s, not a directory", typeName(hdr.Typeflag))
		}
		return Entry{}, nil
	}
	if j.opts.InferScope && j.floor == nil {
		first, _, _ := strings.Cut(name, "/")
		j.floor = []string{first}
	}
	if err := j.parents(hdr.Name, name); err != nil {
		return Entry{}, err
	}
	if base := path.Base(name); strings.HasPrefix(base, ".wh.") {
		return j.whiteout(hdr.Name, name, base)
	}
	if err := InScope(hdr.Name, name, j.opts.Scope); err != nil {
		return Entry{}, err
	}
	prev, dup := j.seen[name]
	if dup && !(prev == seenParent && hdr.Typeflag == tar.TypeDir) {
		if prev == seenParent {
			return refuse(Duplicate, "conflicts with an earlier entry")
		}
		return refuse(Duplicate, "duplicate entry")
	}
	if j.opts.MaxSize >= 0 && hdr.Size > j.opts.MaxSize && hdr.Typeflag == tar.TypeReg {
		return refuse(TooLarge, "declares %d bytes in a layer of %d", hdr.Size, j.opts.MaxSize)
	}
	e, class, err := j.classify(hdr, name, dup)
	if err != nil {
		return Entry{}, err
	}
	if p := j.opts.Names.Add(name); p != nil {
		return refuse(Unportable, "%s", p.Reason)
	}
	j.remember(name, class)
	if (class == seenFile || class == seenLink) && (j.clean == name || strings.HasPrefix(j.clean, name+"/")) {
		j.clean = ""
	}
	if class == seenLink {
		j.links[name] = hdr.Linkname
	}
	return e, nil
}

// classify judges hdr by its type (Entry's second half): the links' rules,
// the types a layer may not hold. It returns the entry and the class the
// judge remembers its name as; dup says the name was seen as a parent.
func (j *Judge) classify(hdr *tar.Header, name string, dup bool) (Entry, byte, error) {
	refuse := func(kind Kind, reason string) (Entry, byte, error) {
		return Entry{}, 0, &Refusal{Name: hdr.Name, Kind: kind, Reason: reason}
	}
	e := Entry{Name: name}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if dup {
			return e, seenDirLate, nil
		}
		return e, seenDir, nil
	case tar.TypeReg:
		return e, seenFile, nil
	case tar.TypeSymlink:
		kept, err := j.symlink(hdr, name)
		if err != nil {
			return Entry{}, 0, err
		}
		e.Kept = kept
		return e, seenLink, nil
	case tar.TypeLink:
		if err := j.hardlink(hdr, name); err != nil {
			return Entry{}, 0, err
		}
		return e, seenFile, nil
	case tar.TypeChar, tar.TypeBlock:
		return refuse(Device, "device node")
	case tar.TypeFifo:
		return refuse(SpecialFile, "FIFO")
	}
	return refuse(SpecialFile, fmt.Sprintf("tar entry type %q", hdr.Typeflag))
}

// InScope refuses the entry raw (canonical name) in an artifact layer
// titled scope when it is not the title or below it ("" scope: no rule).
func InScope(raw, name, scope string) error {
	if scope != "" && name != scope && !strings.HasPrefix(name, scope+"/") {
		return &Refusal{Name: raw, Kind: UnsafeName, Reason: fmt.Sprintf("outside the layer's title %q", scope)}
	}
	return nil
}

// parents refuses an entry below a symlink or a file.
func (j *Judge) parents(raw, name string) error {
	dir := parentDir(name)
	i := strings.IndexByte(name, '/')
	if j.clean != "" && (dir == j.clean || strings.HasPrefix(dir, j.clean+"/")) {
		if dir == j.clean {
			return nil
		}
		i = next(name, len(j.clean)) // the first directory below clean
	}
	for ; i >= 0; i = next(name, i) {
		p := name[:i]
		if _, ok := j.links[p]; ok {
			return &Refusal{Name: raw, Kind: LinkEscapes, Reason: fmt.Sprintf("reached through the symlink %s", p)}
		}
		if j.seen[p] == seenFile {
			return &Refusal{Name: raw, Kind: Duplicate, Reason: fmt.Sprintf("below the file %s", p)}
		}
	}
	if dir != "." {
		j.clean = dir
	}
	return nil
}

func next(s string, i int) int {
	k := strings.IndexByte(s[i+1:], '/')
	if k < 0 {
		return -1
	}
	return i + 1 + k
}

// remember records name (and its parents as directories) unless the cap is
// reached.
func (j *Judge) remember(name string, class byte) {
	if j.opts.MaxTracked > 0 && len(j.seen) >= j.opts.MaxTracked {
		j.limited = true
		return
	}
	j.seen[name] = class
	for p := parentDir(name); p != "."; p = parentDir(p) {
		if _, ok := j.seen[p]; ok {
			break
		}
		j.seen[p] = seenParent
	}
}

func (j *Judge) whiteout(raw, name, base string) (Entry, error) {
	if !j.opts.Image {
		return Entry{}, &Refusal{Name: raw, Kind: UnsafeName, Reason: "whiteout in a layer that is not an image layer"}
	}
	if !strings.HasPrefix(base, ".wh..wh.") { // ".wh..wh..opq", other AUFS metadata
		if hidden := strings.TrimPrefix(base, ".wh."); hidden == "" || hidden == "." || hidden == ".." {
			return Entry{}, &Refusal{Name: raw, Kind: UnsafeName, Reason: fmt.Sprintf("whiteout of %q", hidden)}
		}
	}
	if j.opts.Summarize {
		j.summarizeWhiteout(raw, name, base)
	}
	return Entry{Name: name, Whiteout: true}, nil
}

// symlink judges a symlink's target; a waived refusal is returned as kept.
func (j *Judge) symlink(hdr *tar.Header, name string) (*Refusal, error) {
	r := j.linkProblem(name, hdr.Linkname)
	if r == nil {
		return nil, nil
	}
	r.Name = hdr.Name
	if r.outside && j.opts.AllowOutsideLinks {
		return r, nil
	}
	return nil, r
}

// linkProblem resolves the symlink name -> target through the links known.
func (j *Judge) linkProblem(name, target string) *Refusal {
	refuse := func(outside bool, why string) *Refusal {
		return &Refusal{Name: name, Target: target, Kind: LinkEscapes, Reason: why, outside: outside}
	}
	switch {
	case target == "" || strings.ContainsRune(target, 0):
		return refuse(false, "empty target or NUL in target")
	case path.IsAbs(target) && !j.opts.Image:
		return refuse(true, "absolute target")
	}
	var at []string
	if !path.IsAbs(target) {
		at = splitPath(path.Dir(name))
	}
	if why, outside := j.resolve(at, target); why != "" {
		return refuse(outside, why)
	}
	return nil
}

// resolve walks rel from the directory at (components below the root),
// following the links known, and says why it leaves the root ("" if it
// does not) and whether that is leaving it (rather than a loop). In an
// image, an absolute target starts again at the root.
func (j *Judge) resolve(at []string, rel string) (why string, outside bool) {
	todo := splitPath(rel)
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(at) <= len(j.floor) {
				if len(j.floor) > 0 {
					return fmt.Sprintf("target escapes the layer's title %q", strings.Join(j.floor, "/")), true
				}
				return "target escapes the root", true
			}
			at = at[:len(at)-1]
			continue
		}
		p := strings.Join(append(at, c), "/")
		t, isLink := j.links[p]
		if !isLink {
			at = append(at, c)
			continue
		}
		if hops++; hops > maxHops {
			return "too many levels of symbolic links", false
		}
		if path.IsAbs(t) {
			if !j.opts.Image {
				return fmt.Sprintf("goes through %s, a link to an absolute path", p), true
			}
			at = at[:0]
		}
		todo = append(splitPath(t), todo...)
	}
	// Only the title itself, as a link, can lead beside it without "..".
	if len(j.floor) > 0 && (len(at) < len(j.floor) || !slices.Equal(at[:len(j.floor)], j.floor)) {
		return fmt.Sprintf("target escapes the layer's title %q", strings.Join(j.floor, "/")), true
	}
	return "", false
}

func splitPath(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}

// hardlink judges a hard link: it must name a regular file earlier in the
// layer (and so within the title of an artifact) or, in an image, one a
// lower layer left, which the judge cannot see: it accepts a target the
// layer has no entry at, below no symlink or file of the tree nor below the
// link itself, and (with Options.Summarize) keeps it for CheckImage; the
// applier checks the tree it writes (HardTargetRefusal).
func (j *Judge) hardlink(hdr *tar.Header, name string) error {
	refuse := func(why string) error {
		return &Refusal{Name: hdr.Name, Target: hdr.Linkname, Hard: true, Kind: LinkEscapes, Reason: why}
	}
	target, why := Clean(hdr.Linkname)
	switch {
	case why != "":
		return refuse(why)
	case target == "":
		return refuse("empty target")
	case target == name:
		return refuse("link to itself")
	case InScope(hdr.Linkname, target, j.opts.Scope) != nil:
		return refuse(fmt.Sprintf("target outside the layer's title %q", j.opts.Scope))
	case j.limited || j.seen[target] == seenFile:
		return nil
	case j.opts.Image && j.seen[target] == 0 && !strings.HasPrefix(target, name+"/") && !j.aboveIsLink(target):
		if j.opts.Summarize {
			j.hardlinks = append(j.hardlinks, hardlink{raw: hdr.Name, linkname: hdr.Linkname, target: target})
		}
		return nil
	}
	return HardTargetRefusal(hdr.Name, hdr.Linkname, j.opts.Image)
}

// aboveIsLink reports whether a directory above name is a symlink of the
// tree or a file or symlink of the layer.
func (j *Judge) aboveIsLink(name string) bool {
	for p := path.Dir(name); p != "."; p = path.Dir(p) {
		if _, ok := j.links[p]; ok || j.seen[p] == seenFile {
			return true
		}
	}
	return false
}

// HardTargetRefusal is the refusal of the hard link raw => linkname whose
// target is not a regular file it may name: earlier in the layer or, in an
// image, earlier in the layer or left by a lower layer (not a symlink, not
// a directory, not removed by a whiteout since). The judge, CheckImage and
// the applier (which looks at the tree it writes) give the same text.
func HardTargetRefusal(raw, linkname string, image bool) *Refusal {
	why := "the target is not a regular file earlier in the layer"
	if image {
		why = "the target is not a regular file earlier in the layer or a lower one"
	}
	return &Refusal{Name: raw, Target: linkname, Hard: true, Kind: LinkEscapes, Reason: why}
}

// Finish judges every symlink of the tree again, now that the layer is
// complete: a later entry may have made a link that an earlier target goes
// through, or a link judged before it was itself in the tree may now
// lead to itself (a loop, refused even with Options.AllowOutsideLinks).
// It returns the refusals, sorted by name (links leaving the root aside,
// with Options.AllowOutsideLinks).
func (j *Judge) Finish() []*Refusal {
	names := make([]string, 0, len(j.links))
	for n := range j.links {
		// An artifact's links never lead out of their title: those of the
		// other layers (titles) were judged when their layer ended.
		if len(j.floor) == 0 || InScope(n, n, strings.Join(j.floor, "/")) == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []*Refusal
	for _, n := range names {
		r := j.linkProblem(n, j.links[n])
		if r == nil {
			continue
		}
		if r.outside && j.opts.AllowOutsideLinks {
			continue // kept again; a loop is refused even when kept
		}
		delete(j.links, n) // refused once: not again, nor through it
		out = append(out, r)
	}
	return out
}

// Forget drops what the tree no longer holds: name and everything below
// it (an image's whiteouts and replacements remove what lower layers
// wrote), but not what this layer's entries made (a link replacing a lower
// layer's directory is judged, then the directory is removed).
func (j *Judge) Forget(name string) {
	for n := range j.links {
		if j.seen[n] == seenLink { // this layer's link, judged before the removal
			continue
		}
		if n == name || strings.HasPrefix(n, name+"/") {
			delete(j.links, n)
		}
	}
}

func typeName(flag byte) string {
	switch flag {
	case tar.TypeReg:
		return "a regular file"
	case tar.TypeSymlink:
		return "a symlink"
	case tar.TypeLink:
		return "a hard link"
	}
	return fmt.Sprintf("of type %q", flag)
}
