package layout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/atomicfile"
)

// Exists reports whether the blob desc names is in the layout. A blob that is
// present with a size other than desc.Size is an error wrapping
// ErrSizeMismatch; a present symlink or non-regular file wraps ErrNotRegular.
func (s *Store) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	path, err := s.blobFile(desc.Digest)
	if err != nil {
		return false, err
	}
	if s.arc != nil {
		size, ok, err := s.arc.stat(ctx, desc.Digest)
		if ok && err == nil && size != desc.Size {
			return false, fmt.Errorf("%s: %w: %d bytes in the archive, %d expected", desc.Digest, ErrSizeMismatch, size, desc.Size)
		}
		return ok, err
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("%s: %w", desc.Digest, ErrNotRegular)
	}
	if fi.Size() != desc.Size {
		return false, fmt.Errorf("%s: %w: %d bytes on disk, %d expected", desc.Digest, ErrSizeMismatch, fi.Size(), desc.Size)
	}
	return true, nil
}

// Fetch opens the blob desc names. The caller closes the reader. The reader
// verifies as it goes: reading past desc.Size bytes, or reaching the end with
// a different digest, fails with ErrSizeMismatch or ErrDigestMismatch instead
// of io.EOF, so a caller that reads to the end never trusts bad bytes.
// A missing blob wraps ErrBlobNotFound.
func (s *Store) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return s.fetch(ctx, desc, true)
}

// FetchHashed is Fetch for a blob whose digest the caller has just
// checked (push, after verifying what it sends, whose receiver checks
// every digest again): the file's size is checked on open, and the reader
// ends after desc.Size bytes, without hashing them once more. For a blob
// of a directory layout the reader is a *HashedBlob: a connection can send
// the file without copying it through user space (sendfile). The caller
// closes it. Errors as Fetch's.
func (s *Store) FetchHashed(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return s.fetch(ctx, desc, false)
}

// HashedBlob is FetchHashed's reader of a blob file: its desc.Size bytes,
// read from offset 0.
type HashedBlob struct {
	r io.Reader
	f *os.File
}

func (b *HashedBlob) Read(p []byte) (int, error) { return b.r.Read(p) }

// Close closes the file.
func (b *HashedBlob) Close() error { return b.f.Close() }

// SyscallConn is the file's (syscall.Conn), so that a network connection
// copying the blob (io.Copy into a *net.TCPConn, as net/http sends a
// request body) sends it with sendfile instead of reading and writing it.
func (b *HashedBlob) SyscallConn() (syscall.RawConn, error) { return b.f.SyscallConn() }

// Offset is the file's read offset: the bytes read or sent so far.
func (b *HashedBlob) Offset() (int64, error) { return b.f.Seek(0, io.SeekCurrent) }

// fetch opens the blob file of desc, a regular file of desc.Size bytes
// (ErrBlobNotFound, ErrNotRegular, ErrSizeMismatch otherwise), read
// through a Verifier when verify is set (a blob of an archive always is).
func (s *Store) fetch(ctx context.Context, desc ocispec.Descriptor, verify bool) (io.ReadCloser, error) {
	path, err := s.blobFile(desc.Digest)
	if err != nil {
		return nil, err
	}
	if s.arc != nil {
		r, err := s.arc.open(ctx, desc)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(NewVerifier(r, desc)), nil
	}
	f, fi, err := openRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", desc.Digest, ErrBlobNotFound)
	}
	if err != nil {
		return nil, err
	}
	if fi.Size() != desc.Size {
		f.Close()
		return nil, fmt.Errorf("%s: %w: %d bytes on disk, %d expected", desc.Digest, ErrSizeMismatch, fi.Size(), desc.Size)
	}
	if !verify {
		return &HashedBlob{r: io.LimitReader(f, desc.Size), f: f}, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{NewVerifier(f, desc), f}, nil
}

// FetchAll reads a whole blob of at most limit bytes into memory, verified.
func (s *Store) FetchAll(ctx context.Context, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	if desc.Size > limit {
		return nil, fmt.Errorf("%s: %w: %d bytes, at most %d allowed", desc.Digest, ErrTooLarge, desc.Size, limit)
	}
	rc, err := s.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Verifier passes through exactly desc.Size bytes of r while hashing them.
// At the end of r it returns io.EOF only if the size and digest match, and
// otherwise an error wrapping ErrSizeMismatch or ErrDigestMismatch.
type Verifier struct {
	r    io.Reader
	desc ocispec.Descriptor
	d    digest.Digester
	n    int64
}

// NewVerifier returns a Verifier of r against desc. desc.Digest must have
// been validated (ValidateDigest).
func NewVerifier(r io.Reader, desc ocispec.Descriptor) *Verifier {
	return &Verifier{r: r, desc: desc, d: desc.Digest.Algorithm().Digester()}
}

func (v *Verifier) Read(p []byte) (int, error) {
	if rem := v.desc.Size - v.n + 1; int64(len(p)) > rem {
		p = p[:rem] // read one byte past the end to notice extra data
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	if v.n > v.desc.Size {
		return 0, fmt.Errorf("%s: %w: more than %d bytes", v.desc.Digest, ErrSizeMismatch, v.desc.Size)
	}
	v.d.Hash().Write(p[:n])
	if errors.Is(err, io.EOF) {
		if v.n != v.desc.Size {
			return n, fmt.Errorf("%s: %w: %d bytes, %d expected", v.desc.Digest, ErrSizeMismatch, v.n, v.desc.Size)
		}
		if got := v.d.Digest(); got != v.desc.Digest {
			return n, fmt.Errorf("%s: %w (got %s)", v.desc.Digest, ErrDigestMismatch, got)
		}
	}
	return n, err
}

// Put stores the content of r as the blob desc names, verifying it on the way
// (at most desc.Size+1 bytes are read). A blob already present is a no-op and
// r is not read. Put is atomic: on any error nothing is committed and the
// temporary file is removed; the error wraps ErrSizeMismatch,
// ErrDigestMismatch or ErrBadDigest for bad content.
func (s *Store) Put(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if err := ValidateDigest(desc.Digest); err != nil {
		return err
	}
	if ok, err := s.Exists(ctx, desc); ok || err != nil {
		return err
	}
	w, err := s.newWriter(desc.Digest.Algorithm())
	if err != nil {
		return err
	}
	defer w.Abort()
	// The writer hashes what it writes: reading one byte past the end
	// notices extra data, and its digest is the check.
	if _, err := io.Copy(w, io.LimitReader(r, desc.Size+1)); err != nil {
		return err
	}
	switch {
	case w.n > desc.Size:
		return fmt.Errorf("%s: %w: more than %d bytes", desc.Digest, ErrSizeMismatch, desc.Size)
	case w.n < desc.Size:
		return fmt.Errorf("%s: %w: %d bytes, %d expected", desc.Digest, ErrSizeMismatch, w.n, desc.Size)
	}
	if got := w.d.Digest(); got != desc.Digest {
		return fmt.Errorf("%s: %w (got %s)", desc.Digest, ErrDigestMismatch, got)
	}
	_, err = w.Commit(ctx, desc.MediaType)
	return err
}

// Writer writes a blob whose digest is not known in advance (pack streams a
// layer through it). It hashes while writing to a temporary file under
// ingest/; Commit publishes it. Abort (or a failed Commit) removes it.
type Writer struct {
	s    *Store
	f    *atomicfile.File
	d    digest.Digester
	n    int64
	done bool
}

// NewWriter starts a sha256 blob. The caller must call Commit or Abort.
func (s *Store) NewWriter(ctx context.Context) (*Writer, error) {
	return s.newWriter(digest.SHA256)
}

func (s *Store) newWriter(alg digest.Algorithm) (*Writer, error) {
	if s.arc != nil {
		return nil, fmt.Errorf("%s: %w", s.root, ErrReadOnly)
	}
	f, err := atomicfile.New(filepath.Join(s.root, IngestDir), "blob", 0o444)
	if err != nil {
		return nil, err
	}
	return &Writer{s: s, f: f, d: alg.Digester()}, nil
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.d.Hash().Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Size returns the number of bytes written so far.
func (w *Writer) Size() int64 { return w.n }

// Commit publishes the content as blobs/<alg>/<hex>, read-only, through
// atomicfile (sync, rename, sync of the directory), and returns the blob's
// descriptor. If the blob is already present the temporary file is dropped.
// Commit is atomic: on failure or cancellation of ctx no blob is published
// and the temporary file is removed.
func (w *Writer) Commit(ctx context.Context, mediaType string) (ocispec.Descriptor, error) {
	if w.done {
		return ocispec.Descriptor{}, errors.New("blob writer already finished")
	}
	w.done = true
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: w.d.Digest(), Size: w.n}
	if err := checkContext(ctx); err != nil {
		w.f.Abort()
		return desc, err
	}
	if ok, err := w.s.Exists(ctx, desc); ok || err != nil {
		w.f.Abort()
		return desc, err
	}
	path, _ := BlobPath(desc.Digest)
	if err := os.MkdirAll(filepath.Join(w.s.root, BlobsDir, desc.Digest.Algorithm().String()), 0o755); err != nil {
		w.f.Abort()
		return desc, err
	}
	if err := w.f.Commit(ctx, filepath.Join(w.s.root, filepath.FromSlash(path))); err != nil {
		return desc, fmt.Errorf("commit blob %s: %w", desc.Digest, err)
	}
	return desc, nil
}

// Abort drops an uncommitted blob; after Commit it does nothing.
func (w *Writer) Abort() {
	if !w.done {
		w.done = true
		w.f.Abort()
	}
}

// PutBytes stores data as a blob of the given media type and returns its
// descriptor; it is Put for small documents built in memory.
func (s *Store) PutBytes(ctx context.Context, mediaType string, data []byte) (ocispec.Descriptor, error) {
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	return desc, s.Put(ctx, desc, bytes.NewReader(data))
}
