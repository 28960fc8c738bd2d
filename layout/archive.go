package layout

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layer"
)

// The rules for reading an archive of a layout (a tar file) that may be
// hostile. They live here, in one place, for every reader of archives
// (import, and verify's archive mode).
//
// Allowed members, each with an optional "./" prefix: "." (a directory),
// oci-layout and index.json (regular files of at most MaxDocumentSize
// bytes), blobs and blobs/<alg> (directories) and blobs/<alg>/<encoded>
// (regular files whose name is a valid digest). A regular file or directory
// with any other safe name is skipped with a note (docker save's
// manifest.json and repositories, a layout's ingest/ leftovers, a regular
// file in blobs/<alg>/ whose name is not a digest, …); any other name under
// blobs/ that is not a blob's (deeper, or a directory) is refused.
//
// Refused whatever the name: symlinks, hard links, devices, FIFOs and other
// special types; absolute names, ".." elements, backslashes, NUL bytes,
// non-canonical names ("a//b", "a/./b"), names over MaxMemberName bytes;
// names set or changed by PAX path/linkpath records or GNU long-name/link
// records (readers that ignore those see another name), except a PAX path
// for a blob name USTAR cannot hold (blobs/sha512/<128 hex>) whose header
// name is its truncation, as archive/tar and GNU tar write it (a reader
// ignoring PAX sees no valid blob name); sparse files; PAX
// global headers; PAX extended headers over MaxPAXHeader bytes; a second
// oci-layout or index.json with different bytes; a name that is a
// directory in one member and a file in another.
//
// A reader that stops at the first refusal (import) needs only
// ErrUnsafeArchive; one that reports every problem (verify) tells the
// kinds apart with ErrMemberType, ErrDuplicateMember and ErrBlobName,
// places them with the member Next returns alongside the error, and says
// why with MemberError.Reason.
const (
	// MaxMemberName caps a member's name.
	MaxMemberName = 4 << 10
	// MaxPAXHeader caps the extension records (PAX or GNU) before a member.
	MaxPAXHeader = 64 << 10
	// MaxMembers caps the members of an archive (a layout of that many
	// blobs is not a bundle).
	MaxMembers = 1 << 20
)

// MemberKind says what an archive member is to a layout.
type MemberKind int

const (
	// MemberDir is ".", blobs or blobs/<alg>: nothing to write.
	MemberDir MemberKind = iota + 1
	// MemberLayoutFile is oci-layout.
	MemberLayoutFile
	// MemberIndex is index.json.
	MemberIndex
	// MemberBlob is blobs/<alg>/<encoded>; Digest is the digest the name
	// encodes (validated) and Size the member's size.
	MemberBlob
	// MemberSkipped is a safe member that is not part of a layout; Note says
	// what it is. Its content is never written anywhere.
	MemberSkipped
)

// SkipReason says why a member is MemberSkipped.
type SkipReason int

const (
	// SkipNotLayout: a name that is not part of an OCI layout.
	SkipNotLayout SkipReason = iota + 1
	// SkipDockerSave: docker save's manifest.json or repositories.
	SkipDockerSave
	// SkipIngest: a temporary file (or directory) under ingest/.
	SkipIngest
	// SkipAlgorithm: blobs/<alg> or blobs/<alg>/<name> for an algorithm
	// other than those of Algorithms: its blobs cannot be checked.
	SkipAlgorithm
	// SkipBlobName: a regular file in blobs/<alg>/ whose name is not a
	// digest (a crashed writer's temporary file).
	SkipBlobName
)

// ArchiveMember is one member of an archive, judged by the rules above.
type ArchiveMember struct {
	Name   string // the name as stored in the archive
	Path   string // canonical: no "./" prefix, no trailing "/"
	Kind   MemberKind
	Dir    bool          // a directory member
	Digest digest.Digest // MemberBlob only
	Size   int64
	Skip   SkipReason // MemberSkipped only
	Note   string     // MemberSkipped only: why it is skipped ("" for a directory)
}

// ArchiveReader reads the members of an archive one by one, enforcing the
// rules above. It is not safe for concurrent use.
//
// Errors: a refused member wraps ErrUnsafeArchive (or ErrTooLarge for the
// caps) and names the member; a stream that is not a complete tar archive
// (empty, not a tar, truncated, corrupt) wraps ErrBadArchive; an error of
// the underlying reader is returned as is. After a refused link, device,
// sparse file, unsafe name, type mismatch, bad blob name or duplicate the
// reader can go on to the next member; after any other error (Broken
// reports it) it cannot.
type ArchiveReader struct {
	src     *countio.Reader
	tr      *tar.Reader
	cur     ArchiveMember
	hasCur  bool
	pad     int64 // padding after the current member, read by the next Next
	broken  error
	members int
	done    bool

	// A file (NewSeekingArchiveReader): the data a caller leaves unread is
	// skipped by a seek. skipped counts the bytes skipped so; remain is
	// the data left of the current member when Next was called, lead the
	// part of it tar.Reader read (not skipped) in that call.
	buf                   *bufio.Reader
	seeker                io.ReadSeeker
	skipped, remain, lead int64
	curRead               int64 // bytes of the current member read so far

	capture []byte // the bytes read during one call of tar.Reader.Next
	hash    hash.Hash
	seen    map[string]seenMember

	// capturing is set within that call, overflow once capture is full.
	capturing, overflow bool
}

type seenMember struct {
	dir bool
	sum []byte // oci-layout and index.json: the sha256 of their bytes
}

// NewArchiveReader returns a reader of the archive r. It reads r
// sequentially and never seeks.
func NewArchiveReader(r io.Reader) *ArchiveReader { return newArchiveReader(r, 1<<20) }

func newArchiveReader(r io.Reader, bufSize int) *ArchiveReader {
	a := &ArchiveReader{seen: map[string]seenMember{}}
	a.buf = bufio.NewReaderSize(r, bufSize)
	a.src = countio.NewReader(a.buf, countio.WithTee(captureWriter{a}))
	a.tr = tar.NewReader(a.src)
	return a
}

// NewSeekingArchiveReader is NewArchiveReader for a file read from its
// current offset: the data of a member that the caller leaves unread (a
// blob, a skipped member) is skipped by a seek instead of read, so that
// reading the members' headers costs a read of the headers only. The
// rules are the same; oci-layout and index.json are still read whole.
func NewSeekingArchiveReader(f io.ReadSeeker) *ArchiveReader {
	// A small buffer: what it reads ahead of a header is mostly data
	// to skip.
	a := newArchiveReader(f, 16<<10)
	a.seeker = f
	a.tr = tar.NewReader(seekingSource{a})
	return a
}

// seekingSource is what tar.Reader reads from with a seeker: tar.Reader
// skips the data a caller did not read with Seek(n, io.SeekCurrent).
type seekingSource struct{ a *ArchiveReader }

func (s seekingSource) Read(p []byte) (int, error) { return s.a.src.Read(p) }

func (s seekingSource) Seek(off int64, whence int) (int64, error) {
	a := s.a
	if whence != io.SeekCurrent || off < 0 {
		return 0, errors.New("seek: only forward from the current offset")
	}
	if off > 0 {
		n := min(off, int64(a.buf.Buffered()))
		if _, err := a.buf.Discard(int(n)); err != nil {
			return 0, err
		}
		if rest := off - n; rest > 0 {
			if _, err := a.seeker.Seek(rest, io.SeekCurrent); err != nil {
				return 0, err
			}
			a.buf.Reset(a.seeker)
		}
		a.skipped += off
	}
	return a.Offset(), nil
}

// Offset returns the offset in the archive of what the reader reads next
// (bytes read or skipped so far): after Next, where the member's data
// starts.
func (a *ArchiveReader) Offset() int64 { return a.src.N() + a.skipped }

// Drain reads the rest of the underlying stream (what follows the
// end-of-archive marker: a tar writer's record padding) and returns how many
// bytes it read, so that a caller hashing the stream sees all of it and a
// writer on a pipe is not cut off. Only zero bytes may follow the marker:
// anything else (a second archive that `tar --ignore-zeros` would read) is
// an error wrapping ErrBadArchive.
func (a *ArchiveReader) Drain() (int64, error) {
	var n, nonzero int64
	buf := make([]byte, 64<<10)
	for {
		k, err := a.src.Read(buf)
		n += int64(k)
		for _, c := range buf[:k] {
			if c != 0 {
				nonzero++
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if nonzero > 0 && a.done {
		return n, fmt.Errorf("%w: %d bytes of data after the end of the tar", ErrBadArchive, nonzero)
	}
	return n, nil
}

// Broken returns the error that stopped the reader, or nil.
func (a *ArchiveReader) Broken() error { return a.broken }

// Read reads the content of the current member. For oci-layout and
// index.json it refuses more than MaxDocumentSize bytes; the archive's
// header has already been checked against that cap by Next.
func (a *ArchiveReader) Read(p []byte) (int, error) {
	if a.broken != nil {
		return 0, a.broken
	}
	if !a.hasCur {
		return 0, io.EOF
	}
	n, err := a.tr.Read(p)
	a.curRead += int64(n)
	if a.hash != nil {
		a.hash.Write(p[:n])
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = a.fail(a.streamError(err))
	}
	return n, err
}

// Next finishes the current member (reading what the caller left) and
// returns the next one; io.EOF after the end-of-archive marker.
//
// With an error about a member, Next also returns that member as far as it
// was judged: Name always (empty for an error of the stream between
// members); Path, Dir, Kind and Digest once its name passed the rules. It
// is the current member, not a new one, for a second copy of oci-layout or
// index.json whose bytes differ (seen once they are read) and for a stream
// that ends inside the current member's data.
func (a *ArchiveReader) Next() (ArchiveMember, error) {
	if a.broken != nil {
		return ArchiveMember{}, a.broken
	}
	if a.done {
		return ArchiveMember{}, io.EOF
	}
	if m, err := a.finishCurrent(); err != nil {
		return m, err
	}
	a.members++
	if a.members > MaxMembers {
		return ArchiveMember{}, a.fail(fmt.Errorf("%w: more than %d members", ErrUnsafeArchive, MaxMembers))
	}
	start := a.src.N()
	a.capture = a.capture[:0]
	a.capturing, a.overflow = true, false
	skipped := a.skipped
	hdr, err := a.tr.Next()
	a.capturing = false
	a.lead, a.remain = a.remain-(a.skipped-skipped), 0
	if errors.Is(err, io.EOF) {
		return ArchiveMember{}, a.end(start)
	}
	if err != nil {
		if start == 0 && a.src.Err() == nil {
			return ArchiveMember{}, a.fail(notTar(a.capture, err))
		}
		return ArchiveMember{}, a.fail(a.streamError(err))
	}
	m, err := a.judge(hdr)
	if err != nil {
		return m, err
	}
	a.cur, a.hasCur, a.curRead = m, true, 0
	if m.Kind == MemberLayoutFile || m.Kind == MemberIndex {
		a.hash = sha256.New()
	}
	return m, nil
}

// finishCurrent reads the rest of the current member and applies the rules
// that need its bytes (a second copy of a document must be the same). On
// error it returns the member the error is about.
func (a *ArchiveReader) finishCurrent() (ArchiveMember, error) {
	if !a.hasCur {
		// A refused member the caller went past: skip its data here, so
		// that tar.Reader.Next reads headers only.
		if _, err := io.Copy(io.Discard, a.tr); err != nil {
			return ArchiveMember{}, a.fail(a.streamError(err))
		}
		return ArchiveMember{}, nil
	}
	m := a.cur
	if a.seeker != nil && a.hash == nil && !m.Dir {
		// tar.Reader.Next seeks past the rest.
		a.remain = m.Size - a.curRead
	} else if _, err := io.Copy(io.Discard, a); err != nil {
		return m, err
	}
	a.hasCur = false
	if a.hash == nil {
		return ArchiveMember{}, nil
	}
	sum := a.hash.Sum(nil)
	a.hash = nil
	prev := a.seen[m.Path]
	if prev.sum != nil && !bytes.Equal(prev.sum, sum) {
		// The member is read to its end: the reader can go on.
		return m, refusal(m.Name, ErrUnsafeArchive, ErrDuplicateMember, "a second copy with different bytes (readers disagree on which one counts)")
	}
	a.seen[m.Path] = seenMember{sum: sum}
	return ArchiveMember{}, nil
}

// end checks what tar.Reader took for the end of the archive: an empty
// file, or a stream cut at a member boundary (no zero block), is refused.
func (a *ArchiveReader) end(start int64) error {
	if start == 0 && len(a.capture) == 0 {
		return a.fail(fmt.Errorf("%w: an empty file", ErrBadArchive))
	}
	rest := a.capture
	if int64(len(rest)) >= a.lead+a.pad {
		rest = rest[a.lead+a.pad:]
	}
	if len(rest) < blockSize || !isZero(rest[:blockSize]) {
		return a.fail(fmt.Errorf("%w: truncated after %d bytes: no end-of-archive marker", ErrBadArchive, a.Offset()))
	}
	a.done = true
	return io.EOF
}

func (a *ArchiveReader) fail(err error) error {
	a.broken = err
	a.hasCur = false
	return err
}

// streamError classifies an error of tar.Reader.
func (a *ArchiveReader) streamError(err error) error {
	switch {
	case a.src.Err() != nil:
		return err // the underlying reader's own error
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: truncated after %d bytes", ErrBadArchive, a.Offset())
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong), errors.Is(err, tar.ErrInsecurePath):
		return fmt.Errorf("%w: corrupt tar header after %d bytes: %v", ErrBadArchive, a.Offset(), err)
	}
	return fmt.Errorf("%w: after %d bytes: %v", ErrBadArchive, a.Offset(), err)
}

// notTar explains why the first bytes are not a tar archive.
func notTar(head []byte, err error) error {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return fmt.Errorf("%w: gzip-compressed data, not a tar archive (decompress it first)", ErrBadArchive)
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return fmt.Errorf("%w: zstd-compressed data, not a tar archive (decompress it first)", ErrBadArchive)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: not a tar archive (shorter than one header)", ErrBadArchive)
	}
	return fmt.Errorf("%w: not a tar archive: %v", ErrBadArchive, err)
}

const blockSize = 512

// judge applies the rules to one header and what was read to get it. With
// an error it returns the member as far as it judged it (see Next).
func (a *ArchiveReader) judge(hdr *tar.Header) (ArchiveMember, error) {
	name := hdr.Name
	m := ArchiveMember{Name: name}
	ext, final, err := a.extensions()
	if err != nil {
		return m, a.fail(fmt.Errorf("%s: %w", quoteName(name), err))
	}
	// The padding after this member: from the size tar.Reader used.
	a.pad = 0
	switch {
	case hdr.Typeflag == tar.TypeXGlobalHeader || hdr.Typeflag == tar.TypeGNUSparse:
		a.pad = blockPadding(final.size)
	case !headerOnly(hdr.Typeflag):
		a.pad = blockPadding(hdr.Size)
	}
	fatal := func(format string, args ...any) (ArchiveMember, error) {
		return m, a.fail(refusal(name, ErrUnsafeArchive, nil, format, args...))
	}
	switch {
	case hdr.Typeflag == tar.TypeXGlobalHeader:
		return fatal("a PAX global header (readers disagree on whether it applies)")
	case ext.gnuLong:
		return fatal("a name set by a GNU long-name record")
	case ext.pax > MaxPAXHeader:
		return m, a.fail(refusal(name, ErrTooLarge, nil, "PAX records of %d bytes, at most %d allowed", ext.pax, MaxPAXHeader))
	}
	if _, ok := hdr.PAXRecords["linkpath"]; ok {
		return fatal("a name set by a PAX linkpath record (the header says %q)", final.name)
	}
	if _, ok := hdr.PAXRecords["path"]; ok && !paxBlobName(name, final.name) {
		return fatal("a name set by a PAX path record (the header says %q)", final.name)
	}
	sparse := layer.IsSparse(hdr)
	why := ""
	if len(name) > MaxMemberName {
		why = fmt.Sprintf("a name of %d bytes, at most %d allowed", len(name), MaxMemberName)
	} else {
		m.Path, why = canonicalName(name)
	}
	isDir := hdr.Typeflag == tar.TypeDir
	var kindErr error // what the name requires of the member, judged below
	if why == "" {
		m.Dir = isDir
		if !isDir {
			m.Size = hdr.Size
		}
		m, kindErr = classify(m)
	}
	refuse := func(kind error, format string, args ...any) (ArchiveMember, error) {
		return m, refusal(name, ErrUnsafeArchive, kind, format, args...)
	}
	if sparse {
		// archive/tar has read (or skipped) a sparse map: where the next
		// header starts is not something to trust.
		return m, a.fail(refusal(name, ErrUnsafeArchive, ErrMemberType, "a sparse file"))
	}
	if why != "" {
		return refuse(nil, "%s", why)
	}
	if what := wrongType(hdr); what != "" {
		return refuse(ErrMemberType, "%s", what)
	}
	p := m.Path
	if prev, ok := a.seen[p]; ok && prev.dir != isDir {
		return refuse(ErrDuplicateMember, "a directory in one member and a file in another")
	}
	if isDir {
		a.seen[p] = seenMember{dir: true}
	} else if _, ok := a.seen[p]; !ok {
		a.seen[p] = seenMember{}
	}
	return m, kindErr
}

// wrongType describes a member that is neither a regular file nor a
// directory, the only types a layout archive may hold ("" for those two).
func wrongType(hdr *tar.Header) string {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir:
		return ""
	case tar.TypeSymlink:
		return fmt.Sprintf("a symlink (to %q)", hdr.Linkname)
	case tar.TypeLink:
		return fmt.Sprintf("a hard link (to %q)", hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return "a device"
	case tar.TypeFifo:
		return "a FIFO"
	}
	return fmt.Sprintf("a member of type %q: only regular files and directories are allowed", hdr.Typeflag)
}

// classify sets what m (a regular file or directory with a canonical name)
// is to a layout, and returns the refusal its name and type call for.
func classify(m ArchiveMember) (ArchiveMember, error) {
	p := m.Path
	parts := strings.Split(p, "/")
	switch {
	case p == ".":
		return want(m, MemberDir, true)
	case p == LayoutFile:
		return document(want(m, MemberLayoutFile, false))
	case p == IndexFile:
		return document(want(m, MemberIndex, false))
	case parts[0] == BlobsDir && len(parts) <= 2:
		if len(parts) == 2 && !knownAlgorithm(parts[1]) {
			return skip(m, SkipAlgorithm, "blobs of an algorithm this tool cannot check"), nil
		}
		return want(m, MemberDir, true)
	case parts[0] == BlobsDir && len(parts) == 3:
		if !knownAlgorithm(parts[1]) {
			return skip(m, SkipAlgorithm, "a blob of an algorithm this tool cannot check"), nil
		}
		d := digest.Digest(parts[1] + ":" + parts[2])
		switch err := ValidateDigest(d); {
		case err != nil && !m.Dir:
			// A stray file (a crashed writer's .tmp-123): readers ignore
			// what is not a blob (image-layout.md).
			return skip(m, SkipBlobName, fmt.Sprintf("a stray file, not a blob: %v", err)), nil
		case err != nil:
			return m, refusal(m.Name, ErrUnsafeArchive, ErrBlobName, "not a blob name: %v", err)
		}
		m.Digest = d
		return want(m, MemberBlob, false)
	case parts[0] == BlobsDir:
		return m, refusal(m.Name, ErrUnsafeArchive, ErrBlobName, "not blobs/<algorithm>/<encoded digest>")
	case p == "manifest.json" || p == "repositories":
		return skip(m, SkipDockerSave, "docker save's "+p+": ignored (the OCI part of the archive is used)"), nil
	case parts[0] == IngestDir:
		return skip(m, SkipIngest, "a temporary file left in the layout the archive was made from"), nil
	}
	return skip(m, SkipNotLayout, "not part of an OCI layout"), nil
}

// want returns m as kind, refused if its type is not the one that kind
// must have.
func want(m ArchiveMember, kind MemberKind, dir bool) (ArchiveMember, error) {
	m.Kind = kind
	if m.Dir != dir {
		what := "a regular file"
		if dir {
			what = "a directory"
		}
		return m, refusal(m.Name, ErrUnsafeArchive, ErrMemberType, "must be %s", what)
	}
	return m, nil
}

func skip(m ArchiveMember, why SkipReason, note string) ArchiveMember {
	m.Kind, m.Skip, m.Note = MemberSkipped, why, note
	if m.Dir {
		m.Note = ""
	}
	return m
}

// document applies the size cap of oci-layout and index.json.
func document(m ArchiveMember, err error) (ArchiveMember, error) {
	if err == nil && m.Size > MaxDocumentSize {
		err = refusal(m.Name, ErrTooLarge, nil, "%d bytes, at most %d allowed", m.Size, MaxDocumentSize)
	}
	return m, err
}
