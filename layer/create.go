package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// dirHandle is a directory of the tree the applier holds open (a link of
// its dirChain): the os.Root that confines every path below it, and, once
// asked for, the directory itself (file), whose descriptor the per-entry
// calls os.Root does not make cheaply use (createFile).
type dirHandle struct {
	root *os.Root
	file *os.File
}

// dir returns the directory itself, opened through the root the first time.
func (h *dirHandle) dir() (*os.File, error) {
	if h.file == nil {
		f, err := h.root.Open(".")
		if err != nil {
			return nil, err
		}
		h.file = f
	}
	return h.file, nil
}

func (h *dirHandle) close() {
	if h.file != nil {
		h.file.Close()
	}
	h.root.Close()
}

// openDir opens the directory name below parent (dir is its path in the
// tree), made (0700) if missing; a directory it makes is implicit (no
// entry described it), and gets the mode mkdir would give it (ApplyDirs).
func (a *Applier) openDir(parent *dirHandle, name, dir string) (*dirHandle, error) {
	r, err := parent.root.OpenRoot(name)
	if errors.Is(err, fs.ErrNotExist) {
		err = parent.root.Mkdir(name, 0o700)
		if err == nil {
			if _, ok := a.dirs[dir]; !ok {
				a.dirs[dir] = DirMeta{Mode: 0o777 &^ a.opts.Umask, Implicit: true}
			}
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		r, err = parent.root.OpenRoot(name)
	}
	if err != nil {
		return nil, err
	}
	return &dirHandle{root: r}, nil
}

// create makes the non-directory name (raw: its name in the tar) with mk
// in the directory that holds it (parents made). The staging directory
// starts empty and mk fails with fs.ErrExist when something is there
// already (O_EXCL, symlinkat, linkat), so no Lstat is needed to find out:
// in an image, what a lower layer wrote there is removed and mk tried once
// more; in an artifact, the name is refused (Duplicate).
func (a *Applier) create(name, raw string, mk func(at *dirHandle, base string) error) error {
	at, base, err := a.at(name)
	if err != nil {
		return err
	}
	err = mk(at, base)
	if !errors.Is(err, fs.ErrExist) {
		if err != nil {
			return entryErr(name, err)
		}
		return nil
	}
	if !a.opts.Image {
		return &Refusal{Name: raw, Kind: Duplicate, Reason: "conflicts with an earlier entry"}
	}
	if err := a.remove(name); err != nil {
		return err
	}
	if at, base, err = a.at(name); err != nil {
		return err
	}
	if err := mk(at, base); err != nil {
		return entryErr(name, err)
	}
	return nil
}

// file writes the regular file name with the bytes of r. It is created
// with its mode when the umask keeps that mode (no fchmod then), and its
// mtime is set on the open file where the OS can (setMtime: no lookup of
// the name again).
func (a *Applier) file(name, raw string, hdr *tar.Header, mode fs.FileMode, r io.Reader) error {
	var f *os.File
	var at *dirHandle
	var base string
	err := a.create(name, raw, func(h *dirHandle, b string) error {
		var err error
		f, err = createFile(h, b, mode.Perm())
		at, base = h, b
		return err
	})
	if err != nil {
		return err
	}
	if a.buf == nil {
		a.buf = make([]byte, copyBufSize)
	}
	n, err := writeSparse(f, readErrors{name, r}, a.buf) // long runs of zeros become holes
	if err == nil && hdr.Size >= 0 && n != hdr.Size {
		err = &ReadError{Name: name, Err: fmt.Errorf("%w: %d of %d bytes", io.ErrUnexpectedEOF, n, hdr.Size)}
	}
	if err == nil && a.opts.SameOwner {
		err = f.Chown(hdr.Uid, hdr.Gid)
	}
	if err == nil && (a.opts.SameOwner || !createsWithMode || mode != mode.Perm()&^a.umask) {
		err = f.Chmod(mode) // after Chown, which clears setuid and setgid
	}
	mtimeSet := false
	if err == nil && !hdr.ModTime.IsZero() {
		mtimeSet, err = setMtime(f, hdr.ModTime)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !hdr.ModTime.IsZero() && !mtimeSet {
		err = at.root.Chtimes(base, hdr.ModTime, hdr.ModTime)
	}
	var re *ReadError
	if err != nil && !errors.As(err, &re) {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err == nil {
		a.written.Files++
		a.written.Bytes += n
	}
	return err
}
