package layer

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/ocibundle/ocibundle/countio"
)

// ApplyOptions are the knobs of an Applier.
type ApplyOptions struct {
	// Image: the layers are an image's, applied as a root filesystem
	// (whiteouts, opaque directories, later layers replacing earlier ones).
	Image bool
	// AllowOutsideLinks creates symlinks whose targets leave the root (see
	// Options.AllowOutsideLinks). Nothing is ever written through them.
	AllowOutsideLinks bool
	// PreservePermissions keeps setuid, setgid and sticky bits and ignores
	// the umask.
	PreservePermissions bool
	// SameOwner sets the owners recorded in the entries (it needs root).
	SameOwner bool
	// Umask masks the permission bits unless PreservePermissions.
	Umask fs.FileMode
	// Names are the name rules of the file system written to
	// (NameRulesFor(runtime.GOOS) on the host): an entry it cannot hold,
	// or one that would land on a file already in the tree under another
	// name, is refused (Unportable, ErrUnportable). Zero: no rule.
	Names NameRules
	// Select, when set, chooses the entries written (name canonical, dir
	// for a directory entry): every entry is judged as without it, but
	// one it rejects is not written (the directories above a written
	// entry are made). Whiteouts apply whatever it says. A hard link
	// whose target was not written fails with the file system's error.
	Select func(name string, dir bool) bool
}

// Applier applies layers, in order, to a directory it reaches only
// through an os.Root. Every entry is judged first (Judge); an entry is
// never reached through a symlink, so nothing is written through one. It
// is not safe for concurrent use. Close it when done. A regular file's
// aligned 4 KiB blocks of zeros are left as holes (writeSparse), except on
// Windows.
type Applier struct {
	root *os.Root
	opts ApplyOptions
	// judge judges the current layer. An artifact keeps one judge for all
	// its layers (no name twice in the tree); an image gets one per layer,
	// sharing links, the symlinks of the tree.
	judge *Judge
	links map[string]string
	// names are the tree's names under opts.Names, across layers.
	names *Names
	// dirs holds the metadata of directory entries, applied by ApplyDirs
	// when everything else is written (a read-only directory would stop
	// its children).
	dirs map[string]DirMeta
	// chain keeps open the directories on the path to the last entry's
	// (entries come in tree order): an entry is reached by opening the
	// components that differ, not by a walk from the root. A removal
	// drops what it removed.
	chain dirChain[*dirHandle]
	// buf is what a file's content is copied through (writeSparse).
	buf []byte
	// umask is the process's, which the kernel applies to a file created
	// with its mode (file).
	umask fs.FileMode
	// written counts what was made (Written).
	written Counts
}

// DirMeta is what a directory gets once its content is written.
type DirMeta struct {
	Mode     fs.FileMode
	Mtime    time.Time // zero: leave as it is
	UID, GID int
	Implicit bool // made as a parent, not described by an entry
}

// NewApplier returns an applier writing below root, which it does not
// close.
func NewApplier(root *os.Root, opts ApplyOptions) *Applier {
	a := &Applier{root: root, opts: opts, links: map[string]string{}, dirs: map[string]DirMeta{}, umask: Umask()}
	a.chain = dirChain[*dirHandle]{root: &dirHandle{root: root}, open: a.openDir, close: (*dirHandle).close}
	if !opts.Names.IsZero() {
		// An earlier name collides only while the tree still holds it (a
		// whiteout or a replacement may have removed it).
		a.names = NewNames(opts.Names, func(name string) bool {
			_, err := root.Lstat(name)
			return err == nil
		}, 0)
	}
	a.judge = NewJudge(a.judgeOptions(""), a.links)
	return a
}

func (a *Applier) judgeOptions(scope string) Options {
	return Options{Image: a.opts.Image, Scope: scope, AllowOutsideLinks: a.opts.AllowOutsideLinks, MaxSize: -1, Names: a.names}
}

// ReadError is an error reading a layer's tar stream (a malformed header,
// a body cut short, the reader's own error): not a verdict on an entry.
type ReadError struct {
	Name string // the entry being read ("" between entries)
	Err  error
}

func (e *ReadError) Error() string {
	if e.Name == "" {
		return "tar: " + e.Err.Error()
	}
	return e.Name + ": " + e.Err.Error()
}

func (e *ReadError) Unwrap() error { return e.Err }

// Apply reads the tar stream r to its end-of-archive marker and applies
// its entries. In an artifact, scope is the layer's title (every entry is
// it or below it); maxSize, when >= 0, caps the bytes an entry may declare.
// Errors: a *Refusal (ErrUnsafe) for an entry the rules refuse, a
// *ReadError when r cannot be read as a tar, ErrUnsafe for an entry the
// directory cannot take (a path through a file), or the file system's
// error. After an error the directory is half written: the caller removes
// it.
func (a *Applier) Apply(ctx context.Context, r io.Reader, scope string, maxSize int64) error {
	a.judge = nextJudge(a.judge, a.judgeOptions(scope), a.links, maxSize)
	err := readLayer(ctx, r, a.judge, a.entry)
	a.chain.truncate(0)
	return err
}

// nextJudge returns the judge of the next layer: an image's own (sharing
// links, the tree's symlinks), an artifact's the same j for all its layers.
func nextJudge(j *Judge, opts Options, links map[string]string, maxSize int64) *Judge {
	if opts.Image {
		opts.MaxSize = maxSize
		return NewJudge(opts, links)
	}
	j.startLayer(opts.Scope, maxSize)
	return j
}

// readLayer reads the tar stream r to its end-of-archive marker, giving
// each entry to entry, in order, then returns the first of j's final
// refusals. A stream that cannot be read is a *ReadError. The entries are
// parsed ahead on another goroutine (entryParser), done with r when
// readLayer returns.
func readLayer(ctx context.Context, r io.Reader, j *Judge, entry func(*tar.Header, io.Reader) error) error {
	p := newEntryParser(ctx, r)
	defer p.close()
	for {
		b, ok := <-p.batches
		if !ok {
			break
		}
		if err := applyBatch(ctx, p, b, entry); err != nil {
			return err
		}
	}
	for _, r := range j.Finish() {
		return r
	}
	return nil
}

// applyBatch gives the entries of b to entry, then b back to p (a
// handoff entry, always the last, also gives the tar reader back).
func applyBatch(ctx context.Context, p *entryParser, b *aheadBatch, entry func(*tar.Header, io.Reader) error) error {
	var body aheadBody
	for _, e := range b.entries {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if e.err != nil {
			return e.err
		}
		r := io.Reader(p.tr)
		if !e.handoff {
			body.r.Reset(e.body)
			body.err = e.bodyErr
			r = &body
		}
		if err := entry(e.hdr, r); err != nil {
			return err
		}
	}
	handoff := len(b.entries) > 0 && b.entries[len(b.entries)-1].handoff
	p.free <- b
	if handoff {
		p.resume <- struct{}{}
	}
	return nil
}

// WriteFile writes the file name (an artifact layer that is not a tar: the
// blob is the file) with the bytes of r, judged as the next layer of the
// artifact (CheckArtifact judges the same).
// Errors: a *Refusal (ErrUnsafe) when the judge refuses name (not local or
// canonical, a name an earlier layer wrote, below an earlier file or
// symlink), ErrUnsafe when the directory cannot take it (a path through a
// file), a *ReadError wrapping the error of r or of ctx, or the file
// system's error naming the file. A refused name
// leaves the directory untouched; after any other error the file may be
// there, partly written (the caller removes the directory, as after Apply).
func (a *Applier) WriteFile(ctx context.Context, name string, r io.Reader) error {
	if err := a.judge.fileLayer(name); err != nil {
		return err
	}
	// No size to check, no mtime to set: the blob's digest and size are
	// the caller's to check.
	return a.file(name, name, &tar.Header{Size: -1}, 0o666&^a.opts.Umask, countio.NewReader(r, countio.WithContext(ctx)))
}

// entry applies one tar entry.
func (a *Applier) entry(hdr *tar.Header, r io.Reader) error {
	e, err := a.judge.Entry(hdr)
	if err != nil {
		return err
	}
	name := e.Name
	if name == "" {
		return nil // the root directory itself ("./")
	}
	if e.Whiteout {
		return a.whiteout(hdr.Name, name)
	}
	if a.opts.Select != nil && !a.opts.Select(name, hdr.Typeflag == tar.TypeDir) {
		return nil // judged, not written
	}
	// Only an image layer may replace what is there, and only what lower
	// layers wrote (the judge refuses names the layer has already): in an
	// artifact, an entry that finds its name taken is refused (create, dir).
	mode := a.mode(hdr.Mode)
	switch hdr.Typeflag {
	case tar.TypeDir:
		return a.dir(name, hdr, mode)
	case tar.TypeSymlink:
		return a.symlink(name, hdr)
	case tar.TypeLink:
		return a.hardlink(name, hdr)
	}
	return a.file(name, hdr.Name, hdr, mode, r)
}

// mode turns tar mode bits into the permission to set.
func (a *Applier) mode(tarMode int64) fs.FileMode {
	m := fs.FileMode(tarMode) & fs.ModePerm
	if !a.opts.PreservePermissions {
		return m &^ a.opts.Umask
	}
	if tarMode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if tarMode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if tarMode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// dir makes the directory name, or keeps the one there: mkdir first, an
// Lstat only when something is there (an earlier entry's parent, or in an
// image what a lower layer wrote, which a directory replaces unless it is
// one).
func (a *Applier) dir(name string, hdr *tar.Header, mode fs.FileMode) error {
	at, base, err := a.at(name)
	if err != nil {
		return err
	}
	err = at.root.Mkdir(base, 0o700)
	if errors.Is(err, fs.ErrExist) {
		fi, lerr := at.root.Lstat(base)
		switch {
		case lerr != nil:
			return entryErr(name, lerr)
		case fi.IsDir():
			err = nil
		case !a.opts.Image:
			return &Refusal{Name: hdr.Name, Kind: Duplicate, Reason: "conflicts with an earlier entry"}
		default:
			if err := a.remove(name); err != nil { // an image replaces a file with a directory
				return err
			}
			if at, base, err = a.at(name); err != nil {
				return err
			}
			err = at.root.Mkdir(base, 0o700)
		}
	}
	if err != nil {
		return entryErr(name, err)
	}
	a.dirs[name] = DirMeta{Mode: mode, Mtime: hdr.ModTime, UID: hdr.Uid, GID: hdr.Gid}
	return nil
}

func (a *Applier) symlink(name string, hdr *tar.Header) error {
	var at *dirHandle
	var base string
	err := a.create(name, hdr.Name, func(h *dirHandle, b string) error {
		at, base = h, b
		return h.root.Symlink(hdr.Linkname, b)
	})
	if err != nil {
		return err
	}
	a.written.Symlinks++
	if a.opts.SameOwner {
		if err := at.root.Lchown(base, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return a.lchtimes(at, base, name, hdr.ModTime)
}

// hardlink links name to a regular file of the tree. In an image the
// judge has not seen what lower layers wrote: the tree must hold a regular
// file at the target, reached through directories only.
func (a *Applier) hardlink(name string, hdr *tar.Header) error {
	target, _ := Clean(hdr.Linkname) // judged: neither name nor below it
	// The directory that holds name first, as for every entry (Tree.entry's
	// order): below a lower layer's file is refused before the target is read.
	if _, _, err := a.at(name); err != nil {
		return err
	}
	if a.opts.Image && !a.regularFile(target) {
		return HardTargetRefusal(hdr.Name, hdr.Linkname, true)
	}
	if a.opts.Select != nil && !a.opts.Select(target, false) && !a.regularFile(target) {
		return fmt.Errorf("%s: %w: a hard link to %s, which no pattern selects", hdr.Name, ErrTargetNotSelected, hdr.Linkname)
	}
	var at *dirHandle
	var base string
	err := a.create(name, hdr.Name, func(h *dirHandle, b string) error {
		at, base = h, b
		return a.root.Link(target, name)
	})
	if err != nil {
		return err
	}
	return a.countLink(at, base, name)
}

// whiteout applies an image whiteout entry: ".wh..wh..opq" hides what lower
// layers put in its directory, ".wh.NAME" removes NAME. What the current
// layer wrote stays, whatever the order of the entries.
func (a *Applier) whiteout(raw, name string) error {
	dir, base := path.Dir(name), path.Base(name)
	if base == ".wh..wh..opq" {
		if r := a.belowFile(name); r != nil { // of a lower layer
			r.Name = raw
			return r
		}
		if dir == "." {
			dir = ""
		}
		return a.opaque(dir)
	}
	if strings.HasPrefix(base, ".wh..wh.") {
		return nil // other AUFS metadata: nothing to apply
	}
	victim := path.Join(dir, strings.TrimPrefix(base, ".wh."))
	if a.judge.Seen(victim) {
		return nil
	}
	err := a.remove(victim)
	if err != nil {
		if r := a.belowFile(victim); r != nil { // of a lower layer
			r.Name = raw
			return r
		}
	}
	return err
}

// opaque removes, below dir, everything the current layer did not write.
func (a *Applier) opaque(dir string) error {
	d := dir
	if d == "" {
		d = "."
	}
	// Only a real directory: hiding the content of what a symlink names
	// would reach into another directory.
	if fi, err := a.root.Lstat(d); err != nil || !fi.IsDir() {
		return nil
	}
	f, err := a.root.Open(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return entryErr(d, err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return entryErr(d, err)
	}
	for _, n := range names {
		child := path.Join(dir, n)
		if !a.judge.Seen(child) {
			if err := a.remove(child); err != nil {
				return err
			}
			continue
		}
		if fi, err := a.root.Lstat(child); err == nil && fi.IsDir() {
			if err := a.opaque(child); err != nil {
				return err
			}
		}
	}
	return nil
}

// remove deletes name (a symlink itself, a directory with its content),
// and forgets the directories and links that went with it.
func (a *Applier) remove(name string) error {
	a.chain.drop(name)
	if err := a.root.RemoveAll(name); err != nil {
		return entryErr(name, err)
	}
	for d := range a.dirs {
		if d == name || strings.HasPrefix(d, name+"/") {
			delete(a.dirs, d)
		}
	}
	a.judge.Forget(name)
	return nil
}

// at returns the directory that holds name (made, 0700, if missing) and
// name's base name.
func (a *Applier) at(name string) (*dirHandle, string, error) {
	r, err := a.chain.at(parentDir(name))
	if err != nil {
		if rf := a.belowFile(name); rf != nil {
			return nil, "", rf
		}
		return nil, "", entryErr(name, err)
	}
	return r, path.Base(name), nil
}

// lstatDown calls fn with the Lstat of each path from the first component
// of p down to p, reaching each through the directory above it (one open
// per level, not a walk from the root per level), while fn returns true
// and the path is a directory.
func (a *Applier) lstatDown(p string, fn func(prefix string, fi fs.FileInfo, err error) bool) {
	cur := a.root
	defer func() {
		if cur != a.root {
			cur.Close()
		}
	}()
	end := 0
	for end < len(p) {
		start := end
		if end = strings.IndexByte(p[start:], '/'); end < 0 {
			end = len(p)
		} else {
			end += start
		}
		c := p[start:end]
		fi, err := cur.Lstat(c)
		if !fn(p[:end], fi, err) || err != nil || !fi.IsDir() || end == len(p) {
			return
		}
		next, err := cur.OpenRoot(c)
		if err != nil {
			return
		}
		if cur != a.root {
			cur.Close()
		}
		cur, end = next, end+1
	}
}

// regularFile reports whether the tree holds a regular file at name, each
// directory above it a directory, not a symlink.
func (a *Applier) regularFile(name string) bool {
	regular := false
	a.lstatDown(name, func(p string, fi fs.FileInfo, err error) bool {
		if err == nil && p == name {
			regular = fi.Mode().IsRegular()
		}
		return err == nil && fi.IsDir()
	})
	return regular
}

// belowFile refuses name when a directory above it is a file (in an
// image, of a lower layer: the judge refuses it within a layer).
func (a *Applier) belowFile(name string) *Refusal {
	var r *Refusal
	if dir := parentDir(name); dir != "." {
		a.lstatDown(dir, func(p string, fi fs.FileInfo, err error) bool {
			if err == nil && fi.Mode().IsRegular() {
				r = &Refusal{Name: name, Kind: Duplicate, Reason: fmt.Sprintf("below the file %s", p)}
			}
			return err == nil
		})
	}
	return r
}

// Close releases what the applier holds open (not the root) and what it
// remembers of the entries (the judge's names, one per entry of the tree):
// after Close, only DirMode and ApplyDirs may be called.
func (a *Applier) Close() {
	a.chain.truncate(0)
	a.judge, a.links, a.names = nil, nil, nil
}

// entryErr wraps an error from writing name into the root. Errors of the
// environment (disk full, permissions, I/O) pass through; anything else
// means the layer asked for something impossible or unsafe (a path
// through a file, a link out of the root), which is ErrUnsafe.
func entryErr(name string, err error) error {
	for _, env := range []error{fs.ErrPermission, syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS, syscall.EMFILE} {
		if errors.Is(err, env) {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return fmt.Errorf("%s: %w: %v", name, ErrUnsafe, err)
}

// readErrors marks the errors of a layer's reader as *ReadError, so that
// an io.Copy from it into a file tells bad content from a failed write.
type readErrors struct {
	name string
	r    io.Reader
}

func (re readErrors) Read(p []byte) (int, error) {
	n, err := re.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &ReadError{Name: re.name, Err: err}
	}
	return n, err
}
