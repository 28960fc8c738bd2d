package bundle

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/progress"
)

// entry is one file of a packed tree, found by scanTree before any byte is
// written, so that bad input is refused before a layout is touched.
type entry struct {
	name string // tar name, slash-separated, relative to the input's parent
	path string // path on disk
	info fs.FileInfo
	link string // symlink target
}

// tree is the sorted content of one PATH argument.
type tree struct {
	arg     string
	title   string // base name of the argument: the layer title
	entries []entry
	bytes   int64 // regular file bytes, for progress
}

// scanTree walks arg in lexical order (directories included, symlinks not
// followed) and refuses what a layer cannot carry: sockets, devices, FIFOs
// and names starting with ".wh." (whiteouts in OCI layers). Errors wrap
// ErrBadInput and name the offending path.
func scanTree(ctx context.Context, arg string) (*tree, error) {
	abs, err := filepath.Abs(arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", arg, ErrBadInput, err)
	}
	title := filepath.Base(abs)
	if title == string(filepath.Separator) || title == "." {
		return nil, fmt.Errorf("%s: %w: cannot pack a filesystem root", arg, ErrBadInput)
	}
	t := &tree{arg: arg, title: title}
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return badInput(p, err)
		}
		if err := context.Cause(ctx); err != nil {
			return err
		}
		rel, err := filepath.Rel(arg, p)
		if err != nil {
			return badInput(p, err)
		}
		name := title
		if rel != "." {
			name = path.Join(title, filepath.ToSlash(rel))
		}
		if strings.HasPrefix(d.Name(), ".wh.") || (rel == "." && strings.HasPrefix(title, ".wh.")) {
			return fmt.Errorf("%s: %w: names starting with .wh. are whiteouts in OCI layers", p, ErrBadInput)
		}
		info, err := d.Info()
		if err != nil {
			return badInput(p, err)
		}
		e := entry{name: name, path: p, info: info}
		switch mode := info.Mode(); {
		case mode.IsRegular():
			t.bytes += info.Size()
		case mode.IsDir():
			e.name += "/"
		case mode&fs.ModeSymlink != 0:
			if e.link, err = os.Readlink(p); err != nil {
				return badInput(p, err)
			}
		default:
			return fmt.Errorf("%s: %w: cannot pack a %s", p, ErrBadInput, kind(mode))
		}
		t.entries = append(t.entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func badInput(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w: %w", p, ErrBadInput, err) // both wrapped: exit.go classifies the errno
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// tarStats describes what writeTar wrote.
type tarStats struct {
	files int // regular files, hard links included
}

// writeTar writes t as a tar stream to w: headers built here (uid/gid 0, no
// owner names, permission bits kept, mtime at 1 s resolution and clamped to
// clamp when it is non-zero, USTAR unless a name or size needs PAX), hard
// links within the tree stored once, as tar hard links. It closes the tar
// writer (writing the trailer) but not w.
func writeTar(ctx context.Context, w io.Writer, t *tree, clamp time.Time, progress progress.Progress) (tarStats, error) {
	var st tarStats
	tw := tar.NewWriter(w)
	type inode struct{ dev, ino uint64 }
	seen := make(map[inode]string)
	buf := make([]byte, 1<<20)
	// pw stops a big file at a cancellation of ctx, reports progress, and
	// hides the tar writer's ReadFrom, so that io.CopyBuffer uses buf.
	pw := countio.NewWriter(tw, countio.WithContext(ctx), countio.WithProgress(progress))
	for _, e := range t.entries {
		if err := context.Cause(ctx); err != nil {
			return st, err
		}
		hdr := header(e, clamp)
		var f *os.File
		if e.info.Mode().IsRegular() {
			st.files++
			if sys, ok := e.info.Sys().(*syscall.Stat_t); ok && sys.Nlink > 1 {
				key := inode{uint64(sys.Dev), uint64(sys.Ino)}
				if first, dup := seen[key]; dup {
					hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
				} else {
					seen[key] = e.name
				}
			}
			if hdr.Typeflag == tar.TypeReg {
				var err error
				if f, err = openForPack(e); err != nil {
					return st, err
				}
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			closeIf(f)
			return st, fmt.Errorf("%s: tar header: %w", e.path, err)
		}
		if f != nil {
			n, err := io.CopyBuffer(pw, io.LimitReader(f, hdr.Size), buf)
			f.Close()
			if err != nil {
				return st, fmt.Errorf("%s: %w", e.path, err)
			}
			if n != hdr.Size {
				return st, fmt.Errorf("%s: %w: file shrank while packing (%d of %d bytes)", e.path, ErrBadInput, n, hdr.Size)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return st, fmt.Errorf("tar trailer: %w", err)
	}
	return st, nil
}

// openForPack opens a regular file found by scanTree, refusing it if it was
// replaced by something else since (a symlink, a FIFO).
func openForPack(e entry) (*os.File, error) {
	f, err := os.OpenFile(e.path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, badInput(e.path, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != e.info.Size() {
		f.Close()
		return nil, fmt.Errorf("%s: %w: changed while packing", e.path, ErrBadInput)
	}
	return f, nil
}

func closeIf(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// header builds the tar header of e; see writeTar for the rules.
func header(e entry, clamp time.Time) *tar.Header {
	mode := e.info.Mode()
	hdr := &tar.Header{
		Name:    e.name,
		Mode:    int64(mode.Perm()),
		ModTime: e.info.ModTime().Truncate(time.Second),
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
		hdr.Typeflag, hdr.Size = tar.TypeReg, e.info.Size()
	case mode.IsDir():
		hdr.Typeflag = tar.TypeDir
	default:
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.link
	}
	return hdr
}
