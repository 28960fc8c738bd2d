package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ocibundle/ocibundle/glob"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/progress"
)

// entry is one file of a packed tree, found by scanTree before any byte is
// written, so that bad input is refused before a layout is touched.
type entry struct {
	name string // tar name, slash-separated, relative to the input's parent
	path string // path on disk
	stat fileStat
	link string // symlink target
	// followed: path is a symlink, and stat describes what it points to
	// (--dereference).
	followed bool
}

// fileStat is what pack keeps of a file's lstat (its stat with
// --dereference): small and without pointers, as a tree of 300,000 files
// holds 300,000 of them until its layer is written.
type fileStat struct {
	mode  fs.FileMode
	size  int64     // bytes
	mtime int64     // Unix seconds (tar keeps whole seconds)
	id    [2]uint64 // device, inode
	links uint64    // hard links; 0 where the system reports no identity (then id is zero)
}

// statOf keeps what pack needs of fi.
func statOf(fi fs.FileInfo) fileStat {
	id, links, _ := fileID(fi)
	return fileStat{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime().Unix(), id: id, links: links}
}

// tree is the sorted content of one PATH argument.
type tree struct {
	arg     string
	title   string // base name of the argument: the layer title
	entries []entry
	bytes   int64 // regular file bytes, for progress
}

// scanOptions are the pack options that decide what a tree holds.
type scanOptions struct {
	dereference bool           // store what symlinks point to (tar -h)
	keepLinks   bool           // store symlinks that leave the tree as they are
	exclude     *glob.Excludes // .gitignore-style patterns on names relative to the PATH
}

// scanner walks one PATH argument.
type scanner struct {
	ctx   context.Context
	t     *tree
	opts  scanOptions
	judge *layer.Judge
	// walking holds the directories being walked (device, inode), so that
	// --dereference does not loop through a link to one of them.
	walking map[[2]uint64]bool
}

// scanTree walks arg in lexical order (directories included, symlinks
// followed only with dereference) and refuses, before anything is written,
// what a layer cannot carry or extract would refuse: sockets, devices,
// FIFOs, names starting with ".wh." (whiteouts in OCI layers), and every
// entry the layer rules refuse (a name with a backslash, a symlink whose
// target leaves the tree unless keepLinks). Errors wrap ErrBadInput, name
// the offending path and say the way out.
func scanTree(ctx context.Context, arg string, opts scanOptions) (*tree, error) {
	abs, err := filepath.Abs(arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", arg, ErrBadInput, err)
	}
	title := filepath.Base(abs)
	if title == string(filepath.Separator) || title == "." {
		return nil, fmt.Errorf("%s: %w: cannot pack a filesystem root", arg, ErrBadInput)
	}
	s := &scanner{
		ctx: ctx, t: &tree{arg: arg, title: title}, opts: opts, walking: map[[2]uint64]bool{},
		judge: layer.NewJudge(layer.Options{Scope: title, AllowOutsideLinks: opts.keepLinks, MaxSize: -1}, nil),
	}
	info, err := os.Lstat(arg)
	if err != nil {
		return nil, badInput(arg, err)
	}
	if err := s.visit(arg, title, statOf(info), nil); err != nil {
		return nil, err
	}
	// A link judged before a later one changed where it leads.
	for _, r := range s.judge.Finish() {
		return nil, s.refused(filepath.Join(filepath.Dir(arg), filepath.FromSlash(r.Name)), r)
	}
	return s.t, nil
}

// visit adds the file p (tar name name, described by st from lstat) and,
// for a directory, what it holds: what list returns, or when list is nil
// what children reads.
func (s *scanner) visit(p, name string, st fileStat, list func() ([]child, error)) error {
	if err := context.Cause(s.ctx); err != nil {
		return err
	}
	e := entry{name: name, path: p, stat: st}
	if st.mode&fs.ModeSymlink != 0 && s.opts.dereference {
		fi, err := os.Stat(p)
		if err != nil {
			return s.unfollowable(p, err)
		}
		e.stat, e.followed = statOf(fi), true
	}
	switch mode := e.stat.mode; {
	case mode.IsRegular():
		s.t.bytes += e.stat.size
	case mode.IsDir():
		e.name += "/"
	case mode&fs.ModeSymlink != 0:
		var err error
		if e.link, err = os.Readlink(p); err != nil {
			return badInput(p, err)
		}
	default:
		return fmt.Errorf("%s: %w: cannot pack a %s", p, ErrBadInput, layer.KindOf(mode))
	}
	hdr := header(e, time.Time{})
	if _, err := s.judge.Entry(&hdr); err != nil {
		return s.refused(p, err)
	}
	s.t.entries = append(s.t.entries, e)
	if !e.stat.mode.IsDir() {
		return nil
	}
	if e.stat.links > 0 {
		if s.walking[e.stat.id] {
			return fmt.Errorf("%s: %w: --dereference: a link to a directory that holds it (a loop); --exclude %s leaves it out",
				p, ErrBadInput, quotePattern(filepath.Base(p)))
		}
		s.walking[e.stat.id] = true
		defer delete(s.walking, e.stat.id)
	}
	if list == nil {
		list = func() ([]child, error) { return s.children(p, name) }
	}
	children, err := list()
	if err != nil {
		return err
	}
	lists, stop := s.listAhead(children)
	defer stop()
	for i, c := range children {
		if c.err != nil {
			return badInput(c.path, c.err)
		}
		if err := s.visit(c.path, c.name, c.stat, lists[i]); err != nil {
			return err
		}
	}
	return nil
}

// listAhead reads the directories among cs (children, each in turn) on a
// goroutine of its own, at most listsAhead ahead of the walk, so that the
// walk's judging of one directory and the reads and lstats of the next run
// on two cores. lists[i] returns the children of cs[i] (nil for a file, for
// which visit reads nothing); stop ends the goroutine early. What is read,
// and so every result and error, is what visit would read without it.
func (s *scanner) listAhead(cs []child) (lists []func() ([]child, error), stop func()) {
	type listing struct {
		cs  []child
		err error
	}
	lists = make([]func() ([]child, error), len(cs))
	var dirs []int
	var chans []chan listing
	tokens := make(chan struct{}, listsAhead)
	for i, c := range cs {
		if c.err != nil || !c.stat.mode.IsDir() {
			continue
		}
		ch := make(chan listing, 1)
		dirs, chans = append(dirs, i), append(chans, ch)
		lists[i] = func() ([]child, error) {
			l := <-ch
			<-tokens // one more may be read ahead
			return l.cs, l.err
		}
	}
	if len(dirs) == 0 {
		return lists, func() {}
	}
	done := make(chan struct{})
	go func() {
		for k, i := range dirs {
			select {
			case tokens <- struct{}{}:
			case <-done:
				return
			}
			var l listing
			l.cs, l.err = s.children(cs[i].path, cs[i].name)
			chans[k] <- l
		}
	}()
	return lists, func() { close(done) }
}

// listsAhead is how many directories listAhead reads ahead of the walk.
const listsAhead = 2

// child is a directory entry read by scanner.children.
type child struct {
	path, name string // as visit takes them
	stat       fileStat
	err        error // of its lstat, reported when visit comes to it
}

// children reads the directory p (tar name name) and lstats what it holds
// that no --exclude pattern leaves out, relative to the open directory (one
// name for the kernel to resolve, not the whole path), in lexical order. The
// directory is closed before any child is visited, so that a deep tree holds
// no descriptors.
func (s *scanner) children(p, name string) ([]child, error) {
	dir, err := os.Open(p)
	if err != nil {
		return nil, badInput(p, err)
	}
	defer dir.Close()
	ds, err := dir.ReadDir(-1)
	if err != nil {
		return nil, badInput(p, err)
	}
	slices.SortFunc(ds, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	out := make([]child, 0, len(ds))
	for _, d := range ds {
		c := child{path: filepath.Join(p, d.Name()), name: name + "/" + d.Name()}
		if s.excluded(c.path, c.name, d) {
			continue
		}
		c.stat, c.err = lstatAt(dir, d.Name())
		out = append(out, c)
	}
	return out, nil
}

// excluded reports whether an --exclude pattern leaves out the entry named
// name (found as d at p), before anything of it is read: the pattern sees
// the name relative to the PATH, and whether it is stored as a directory
// (with --dereference, a symlink to one is: it is stat'ed, not read).
func (s *scanner) excluded(p, name string, d fs.DirEntry) bool {
	if s.opts.exclude == nil {
		return false
	}
	dir := d.IsDir()
	if d.Type()&fs.ModeSymlink != 0 && s.opts.dereference {
		fi, err := os.Stat(p)
		dir = err == nil && fi.IsDir()
	}
	_, rel, _ := strings.Cut(name, "/") // below the title
	return s.opts.exclude.Match(rel, dir)
}

// refused turns a refusal of the layer rules about the file p into pack's
// one line: the file, the reason, and the way out.
func (s *scanner) refused(p string, err error) error {
	var r *layer.Refusal
	if !errors.As(err, &r) {
		return badInput(p, err)
	}
	if r.Kind == layer.LinkEscapes && !r.Hard && r.LeavesRoot() {
		return fmt.Errorf("%s -> %s: %w: %s; --dereference stores what it points to, --keep-links stores the link as it is",
			p, r.Target, ErrBadInput, r.Reason)
	}
	if p == s.t.arg {
		// The PATH itself: its base name is the layer's title, which
		// --exclude (on the entries below a PATH) cannot leave out.
		return fmt.Errorf("%s: %w: %s; extract could not write it: the base name of a PATH is its layer's title, rename it",
			p, ErrBadInput, r.Reason)
	}
	// A loop or an empty target no option keeps: leaving it out is the way.
	subject := p
	switch {
	case r.Target != "" && r.Hard:
		subject = p + " => " + r.Target
	case r.Target != "":
		subject = p + " -> " + r.Target
	}
	return fmt.Errorf("%s: %w: %s; extract could not write it: --exclude %s leaves it out",
		subject, ErrBadInput, r.Reason, quotePattern(filepath.Base(p)))
}

// unfollowable is pack's one line for a symlink --dereference cannot
// follow (dangling, a loop, unreadable): the link, its target, the reason
// (the errno stays wrapped, for the exit class) and the way out (--exclude,
// below the PATH).
func (s *scanner) unfollowable(p string, err error) error {
	target, _ := os.Readlink(p)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if p == s.t.arg {
		return fmt.Errorf("%s -> %s: %w: --dereference: %w", p, target, ErrBadInput, err)
	}
	return fmt.Errorf("%s -> %s: %w: --dereference: %w; --exclude %s leaves it out",
		p, target, ErrBadInput, err, quotePattern(filepath.Base(p)))
}

// quotePattern returns a shell-quoted --exclude pattern matching name
// exactly (glob.Escape), at any depth.
func quotePattern(name string) string {
	return "'" + strings.ReplaceAll(glob.Escape(name), "'", `'\''`) + "'"
}

func badInput(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w: %w", p, ErrBadInput, err) // both wrapped: exit.go classifies the errno
}

// tarStats describes what writeTar wrote.
type tarStats struct {
	files int // regular files, hard links included
}

// writeTar writes t as a tar stream to w: headers built here (uid/gid 0, no
// owner names, permission bits kept, mtime at 1 s resolution and clamped to
// clamp when it is non-zero, USTAR unless a name or size needs PAX), hard
// links within the tree stored once, as tar hard links, and the trailer. The
// stream is assembled in one reused buffer of tarChunk bytes (headers
// formatted into it, file contents read straight into it) and reaches w in
// writes of that size: the bytes are copied once between the files and w.
// A file that shrank since the scan fails with ErrBadInput. It does not close w.
func writeTar(ctx context.Context, w io.Writer, t *tree, clamp time.Time, progress progress.Progress) (tarStats, error) {
	var st tarStats
	s := &tarStream{w: w, buf: make([]byte, 0, tarChunk), progress: progress}
	defer s.dir.close()
	seen := make(map[[2]uint64]string)
	for _, e := range t.entries {
		if err := context.Cause(ctx); err != nil {
			return st, err
		}
		hdr := header(e, clamp)
		var f io.ReadCloser
		if e.stat.mode.IsRegular() {
			st.files++
			if e.stat.links > 1 {
				if first, dup := seen[e.stat.id]; dup {
					hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
				} else {
					seen[e.stat.id] = e.name
				}
			}
			if hdr.Typeflag == tar.TypeReg {
				var err error
				if f, err = s.dir.open(e); err != nil {
					return st, err
				}
			}
		}
		if err := s.header(&hdr); err != nil {
			if f != nil {
				f.Close()
			}
			return st, fmt.Errorf("%s: tar header: %w", e.path, err)
		}
		if f != nil {
			err := s.content(ctx, f, hdr.Size)
			f.Close()
			if err != nil {
				return st, fmt.Errorf("%s: %w", e.path, err)
			}
		}
	}
	// The trailer: two zero blocks, as tar.Writer.Close writes them.
	if err := s.zeros(2 * tarBlock); err != nil {
		return st, fmt.Errorf("tar trailer: %w", err)
	}
	if err := s.flush(); err != nil {
		return st, fmt.Errorf("tar trailer: %w", err)
	}
	return st, nil
}

// tarChunk is the size of writeTar's buffer and of its writes (bytes).
const tarChunk = 1 << 20

// tarStream is writeTar's buffer: the stream is appended to buf and handed
// to w whenever buf is full.
type tarStream struct {
	w        io.Writer
	buf      []byte
	scratch  bytes.Buffer // for appendHeader
	progress progress.Progress
	dir      parentDir
}

// parentDir is the directory of the last file writeTar opened, kept open
// while the files of a directory follow each other, so that each is opened
// relative to it (openInDir).
type parentDir struct {
	path string
	f    *os.File
}

// open opens the regular file e (openInDir) in its parent directory.
func (d *parentDir) open(e entry) (io.ReadCloser, error) {
	if p := filepath.Dir(e.path); d.f == nil || p != d.path {
		d.close()
		f, err := os.Open(p)
		if err != nil {
			return nil, badInput(e.path, err)
		}
		d.path, d.f = p, f
	}
	return openInDir(d.f, e)
}

func (d *parentDir) close() {
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

// header appends the header of hdr (appendHeader).
func (s *tarStream) header(hdr *tar.Header) error {
	if len(s.buf)+tarBlock > cap(s.buf) {
		if err := s.flush(); err != nil {
			return err
		}
	}
	var err error
	s.buf, err = appendHeader(s.buf, hdr, &s.scratch)
	return err
}

// content reads size bytes of f straight into the buffer, then the padding
// to the next block. Bytes f has beyond size are not read (the header says
// size); fewer is ErrBadInput.
func (s *tarStream) content(ctx context.Context, f io.Reader, size int64) error {
	for left := size; left > 0; {
		if len(s.buf) == cap(s.buf) {
			if err := context.Cause(ctx); err != nil {
				return err
			}
			if err := s.flush(); err != nil {
				return err
			}
		}
		room := s.buf[len(s.buf):cap(s.buf)]
		if int64(len(room)) > left {
			room = room[:left]
		}
		n, err := f.Read(room)
		s.buf = s.buf[:len(s.buf)+n]
		left -= int64(n)
		s.progress.Add(int64(n))
		if err == io.EOF || (err == nil && n == 0) {
			return fmt.Errorf("%w: file shrank while packing (%d of %d bytes)", ErrBadInput, size-left, size)
		}
		if err != nil {
			return err
		}
	}
	return s.zeros(tarPadding(size))
}

// zeros appends n zero bytes.
func (s *tarStream) zeros(n int64) error {
	for n > 0 {
		if len(s.buf) == cap(s.buf) {
			if err := s.flush(); err != nil {
				return err
			}
		}
		k := min(n, int64(cap(s.buf)-len(s.buf)))
		s.buf = append(s.buf, make([]byte, k)...)
		n -= k
	}
	return nil
}

// flush hands the buffer to w.
func (s *tarStream) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	return err
}

// openForPack opens a regular file found by scanTree, refusing it if it was
// replaced by something else since (a symlink, a FIFO).
func openForPack(e entry) (*os.File, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK
	if !e.followed {
		flags = layout.ReadNoFollow
	}
	f, err := os.OpenFile(e.path, flags, 0)
	if err != nil {
		return nil, badInput(e.path, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != e.stat.size {
		f.Close()
		return nil, fmt.Errorf("%s: %w: changed while packing", e.path, ErrBadInput)
	}
	return f, nil
}

// header builds the tar header of e; see writeTar for the rules.
func header(e entry, clamp time.Time) tar.Header {
	mode := e.stat.mode
	hdr := tar.Header{
		Name:    e.name,
		Mode:    int64(mode.Perm()),
		ModTime: time.Unix(e.stat.mtime, 0),
	}
	if mode&fs.ModeSetuid != 0 {
		hdr.Mode |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		hdr.Mode |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	if !clamp.IsZero() && hdr.ModTime.After(clamp) {
		hdr.ModTime = clamp
	}
	switch {
	case mode.IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, e.stat.size
	case mode.IsDir():
		hdr.Typeflag = tar.TypeDir
	default:
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.link
	}
	return hdr
}
