package layout

// A Store read from an archive (the tar export writes), in place: the one
// reading of "a layout as a stream of documents and blobs" that ls,
// inspect, extract and files share. Nothing is unpacked to disk.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MaxKept caps the bytes of small blobs (at most MaxDocumentSize each) a
// Store read from a stream keeps in memory while it looks for the blob
// asked for: the documents a later request may need.
const MaxKept = 32 << 20

// archiveBlobs is the archive behind a Store opened by OpenArchive or
// OpenArchiveStream.
type archiveBlobs struct {
	mu    sync.Mutex
	index []byte // index.json's bytes
	// A file: where each blob's bytes start (its member's data), and its size.
	file *os.File
	at   map[digest.Digest]blobAt
	// A stream: read forward only.
	ar     *ArchiveReader
	kept   map[digest.Digest][]byte
	keptN  int64
	passed map[digest.Digest]int64 // blobs gone by, not kept: their sizes
	cur    ArchiveMember           // a blob stat found, its bytes unread (Digest "" if none)
	layout []byte                  // oci-layout's bytes, once read
	done   bool                    // the stream is at its end
	closer io.Closer
}

type blobAt struct{ offset, size int64 }

// OpenArchive opens the archive file name as a read-only Store. It reads
// the tar headers once, judged by the rules of ArchiveReader, and keeps
// where each blob is; index.json and oci-layout are read and checked
// (CheckLayoutFile, ParseIndex at ReadIndex). A blob's bytes are read only
// when fetched, verified as a layout's are (Fetch): so a request for one
// layer reads that layer and the documents above it, whatever the order of
// the members (a peer's archive may hold blobs before index.json). The
// Store is safe for concurrent use; writing to it fails with ErrReadOnly.
// Close it when done. Errors: those of ArchiveReader (ErrUnsafeArchive,
// ErrBadArchive, ErrTooLarge), ErrBadArchive for an archive without
// oci-layout or index.json, and the file's.
func OpenArchive(ctx context.Context, name string) (*Store, error) {
	f, fi, err := openRegular(name)
	if err != nil {
		return nil, PathErr(name, err)
	}
	a := &archiveBlobs{file: f, at: map[digest.Digest]blobAt{}, closer: f}
	ar := NewArchiveReader(f)
	if fi.Size() > 0 {
		ar = NewSeekingArchiveReader(f)
	}
	for {
		if err := checkContext(ctx); err != nil {
			f.Close()
			return nil, err
		}
		m, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = a.member(ar, m, false)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if _, err := ar.Drain(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := a.complete(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Store{root: name, arc: a}, nil
}

// OpenArchiveStream opens the archive r (standard input, a split set's
// parts) as a read-only Store that reads r forward, once: it reads up to
// index.json, then each request reads on to the blob asked for, keeping
// the small blobs it passes (MaxKept) for later requests. A blob asked for
// after the stream went past it without keeping it fails with
// ErrArchiveOrder (a peer's archive with layers before index.json, or
// layers out of their manifest's order: read it from a file). Fetch
// readers are valid until the next request; the Store is not safe for
// concurrent use. The rules and errors are OpenArchive's; name is for
// messages. Close does not close r.
func OpenArchiveStream(ctx context.Context, r io.Reader, name string) (*Store, error) {
	a := &archiveBlobs{ar: NewArchiveReader(r), kept: map[digest.Digest][]byte{}, passed: map[digest.Digest]int64{}}
	for a.index == nil && !a.done {
		if err := a.advance(ctx, ""); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := a.complete(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Store{root: name, arc: a}, nil
}

// member takes in the member m that ar has just returned: the documents'
// bytes, and a blob's place (file) or bytes (stream, keep).
func (a *archiveBlobs) member(ar *ArchiveReader, m ArchiveMember, keep bool) error {
	switch m.Kind {
	case MemberLayoutFile, MemberIndex:
		data, err := ReadCapped(ar, MaxDocumentSize)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if m.Kind == MemberIndex {
			a.index = data
		} else if err := CheckLayoutFile(data); err != nil {
			return fmt.Errorf("%s: %w", LayoutFile, err)
		} else {
			a.layout = data
		}
	case MemberBlob:
		if a.file != nil {
			if _, dup := a.at[m.Digest]; !dup {
				a.at[m.Digest] = blobAt{ar.Offset(), m.Size}
			}
			return nil
		}
		if _, ok := a.kept[m.Digest]; ok {
			return nil
		}
		if m.Size <= MaxDocumentSize && a.keptN+m.Size <= MaxKept && keep {
			data, err := io.ReadAll(ar)
			if err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			a.kept[m.Digest], a.keptN = data, a.keptN+int64(len(data))
			return nil
		}
		a.passed[m.Digest] = m.Size
	}
	return nil
}

// complete checks what every archive of a layout must hold: oci-layout
// once the archive is read to its end (a stream may hold it after
// index.json, as skopeo writes it), and index.json.
func (a *archiveBlobs) complete() error {
	if a.layout == nil && (a.file != nil || a.done) {
		return fmt.Errorf("%w: no %s member: not an OCI layout archive", ErrBadArchive, LayoutFile)
	}
	if a.index == nil {
		return fmt.Errorf("%w: no %s member", ErrBadArchive, IndexFile)
	}
	return nil
}

// advance reads the next member of a stream. When it is the blob want, it
// stays the current member (its bytes unread) and advance reports it by
// returning errFound.
func (a *archiveBlobs) advance(ctx context.Context, want digest.Digest) error {
	if err := checkContext(ctx); err != nil {
		return err
	}
	if a.cur.Digest != "" {
		a.passed[a.cur.Digest], a.cur = a.cur.Size, ArchiveMember{}
	}
	m, err := a.ar.Next()
	if errors.Is(err, io.EOF) {
		a.done = true
		// What follows the end-of-archive marker is judged as import
		// judges it (ArchiveReader.Drain); reading it to its end also
		// lets a split set's reader check the last part and the whole.
		if _, err := a.ar.Drain(); err != nil {
			return err
		}
		return a.complete()
	}
	if err != nil {
		return err
	}
	if m.Kind == MemberBlob && want != "" && m.Digest == want {
		return errFound
	}
	return a.member(a.ar, m, true)
}

var errFound = errors.New("found")

// stat returns the size of the blob d, reading a stream on until it is
// found; ok is false when the archive has no such blob.
func (a *archiveBlobs) stat(ctx context.Context, d digest.Digest) (size int64, ok bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file != nil {
		b, ok := a.at[d]
		return b.size, ok, nil
	}
	if data, ok := a.kept[d]; ok {
		return int64(len(data)), true, nil
	}
	if n, ok := a.passed[d]; ok {
		return n, true, nil
	}
	for !a.done {
		if err := a.advance(ctx, d); errors.Is(err, errFound) {
			// Known now: kept if it is small, else left unread for open.
			m := a.ar.cur
			if m.Size <= MaxDocumentSize && a.keptN+m.Size <= MaxKept {
				return m.Size, true, a.member(a.ar, m, true)
			}
			a.cur = m
			return m.Size, true, nil
		} else if err != nil {
			return 0, false, err
		}
	}
	return 0, false, nil
}

// open returns a reader of the bytes of the blob desc names, not yet
// verified (Fetch verifies them).
func (a *archiveBlobs) open(ctx context.Context, desc ocispec.Descriptor) (io.Reader, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file != nil {
		b, ok := a.at[desc.Digest]
		if !ok {
			return nil, fmt.Errorf("%s: %w", desc.Digest, ErrBlobNotFound)
		}
		if b.size != desc.Size {
			return nil, fmt.Errorf("%s: %w: %d bytes in the archive, %d expected", desc.Digest, ErrSizeMismatch, b.size, desc.Size)
		}
		return io.NewSectionReader(a.file, b.offset, b.size), nil
	}
	if data, ok := a.kept[desc.Digest]; ok {
		return bytes.NewReader(data), nil
	}
	if _, ok := a.passed[desc.Digest]; ok {
		return nil, fmt.Errorf("%s: %w", desc.Digest, ErrArchiveOrder)
	}
	if a.cur.Digest == desc.Digest {
		a.passed[a.cur.Digest], a.cur = a.cur.Size, ArchiveMember{}
		return a.ar, nil
	}
	for !a.done {
		if err := a.advance(ctx, desc.Digest); errors.Is(err, errFound) {
			m := a.ar.cur
			if err := a.member(a.ar, m, true); err != nil { // kept if small
				return nil, err
			}
			if data, ok := a.kept[desc.Digest]; ok {
				return bytes.NewReader(data), nil
			}
			a.passed[desc.Digest] = m.Size // read once, by the caller
			return a.ar, nil
		} else if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: %w", desc.Digest, ErrBlobNotFound)
}

// ReadToEnd judges the rest of the archive of a Store opened by
// OpenArchiveStream: it reads the stream on to its end, each member judged
// by the rules of ArchiveReader, the end-of-archive marker required and
// only zero bytes allowed after it (ArchiveReader.Drain), as import reads
// it. A command that reads a stream in place calls it before it reports
// success: the blobs it fetched were verified, the rest of the stream was
// not. For a Store opened by OpenArchive (judged whole when opened) or a
// layout it does nothing. Fetch readers are invalid after it. Errors:
// those of ArchiveReader (ErrBadArchive, ErrUnsafeArchive, ErrTooLarge)
// and the stream's, wrapped with the archive's name.
func (s *Store) ReadToEnd(ctx context.Context) error {
	a := s.arc
	if a == nil || a.file != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for !a.done {
		if err := a.advance(ctx, ""); err != nil {
			return fmt.Errorf("%s: %w", s.root, err)
		}
	}
	return nil
}

// Close releases the archive of a Store opened by OpenArchive or
// OpenArchiveStream (not the reader given to OpenArchiveStream); for a
// layout it does nothing. It is idempotent.
func (s *Store) Close() error {
	if s.arc == nil || s.arc.closer == nil {
		return nil
	}
	err := s.arc.closer.Close()
	s.arc.closer = nil
	return err
}

// CloseWith makes Close of a Store opened by OpenArchiveStream close c
// too (the file its stream is read from).
func (s *Store) CloseWith(c io.Closer) {
	if s.arc != nil {
		s.arc.closer = c
	}
}

// IsArchive reports whether s reads an archive (OpenArchive,
// OpenArchiveStream) rather than a layout directory.
func (s *Store) IsArchive() bool { return s.arc != nil }

// CheckLayoutFile checks an oci-layout document strictly: strict JSON
// (ErrBadJSON), imageLayoutVersion 1.0.0 (ErrBadDocument).
func CheckLayoutFile(data []byte) error {
	var v ocispec.ImageLayout
	if err := DecodeStrict(data, &v); err != nil {
		return err
	}
	if v.Version != ocispec.ImageLayoutVersion {
		return fmt.Errorf("%w: imageLayoutVersion %q, not %q", ErrBadDocument, v.Version, ocispec.ImageLayoutVersion)
	}
	return nil
}
