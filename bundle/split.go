package bundle

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/atomicfile"
)

// Part is one piece of a split archive.
type Part struct {
	Name   string        `json:"name"`
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

// SplitWriter writes a stream as parts FILE.000, FILE.001, … of at most size
// bytes each, hashing each part. A part is created when its first byte
// arrives, so there is never an empty part. Each part is written under a
// temporary name next to it (atomicfile) and synced and closed when full;
// Commit names them (PartName: one suffix width for the whole set) and
// publishes them all, Remove drops them.
type SplitWriter struct {
	base  string
	size  int64
	f     *atomicfile.File // the part being written
	h     hash.Hash
	n     int64
	parts []Part
	files []*atomicfile.File // one per part, closed but the last
	made  int                // parts committed
}

// NewSplitWriter returns a writer of the parts of file.
func NewSplitWriter(file string, size int64) *SplitWriter {
	return &SplitWriter{base: file, size: size}
}

// PartName is the name of part i of a set of n parts of file: the index
// zero-padded to the width of the last one, at least 3 (FILE.000 …
// FILE.999, or FILE.0000 … FILE.1234), so that every part of a set has one
// width and `cat FILE.[0-9]*` joins them in order.
func PartName(file string, i, n int) string {
	return fmt.Sprintf("%s.%0*d", file, max(3, len(strconv.Itoa(n-1))), i)
}

// PartOf reads name as a part of a split archive: FILE.N, N of at least 3
// digits. It returns FILE and N.
func PartOf(name string) (string, int, bool) {
	dot := strings.LastIndexByte(name, '.')
	digits := name[dot+1:]
	if dot < 0 || len(digits) < 3 || strings.Trim(digits, "0123456789") != "" {
		return "", 0, false
	}
	n, err := strconv.Atoi(digits)
	return name[:dot], n, err == nil
}

func (s *SplitWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if s.f == nil {
			// Named when the set is complete (Commit): the width depends
			// on the number of parts.
			name := PartName(s.base, len(s.parts), len(s.parts)+1)
			f, err := atomicfile.NextTo(name, 0o644)
			if err != nil {
				return written, err
			}
			s.f, s.h, s.n = f, sha256.New(), 0
			s.files = append(s.files, f)
			s.parts = append(s.parts, Part{Name: name})
		}
		chunk := p
		if room := s.size - s.n; int64(len(chunk)) > room {
			chunk = chunk[:room]
		}
		n, err := s.f.Write(chunk)
		s.h.Write(chunk[:n])
		s.n += int64(n)
		written += n
		p = p[n:]
		if err != nil {
			return written, err
		}
		if s.n == s.size {
			if err := s.closePart(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// closePart syncs and closes the current part, still under its temporary
// name, and records its digest.
func (s *SplitWriter) closePart() error {
	f := s.f
	s.f = nil
	last := &s.parts[len(s.parts)-1]
	last.Digest, last.Size = digest.NewDigest(digest.SHA256, s.h), s.n
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", last.Name, err)
	}
	return nil
}

// Commit finishes the last part and publishes every part (mode 0644) in
// order under its PartName, unless ctx is cancelled. On failure, Remove
// drops what is left.
func (s *SplitWriter) Commit(ctx context.Context) error {
	if s.f != nil {
		if err := s.closePart(); err != nil {
			return err
		}
	}
	if s.made == 0 {
		for i := range s.parts {
			s.parts[i].Name = PartName(s.base, i, len(s.parts))
		}
	}
	for ; s.made < len(s.files); s.made++ {
		if err := s.files[s.made].Commit(ctx, s.parts[s.made].Name); err != nil {
			return err
		}
	}
	return nil
}

// Parts returns the parts written, in order.
func (s *SplitWriter) Parts() []Part { return s.parts }

// Remove deletes every part, committed or not (after a failed export).
func (s *SplitWriter) Remove() {
	for i, f := range s.files {
		if i < s.made {
			os.Remove(s.parts[i].Name)
		}
		f.Abort()
	}
	s.f = nil
}

// RemoveStaleParts removes the parts of file that are not among parts:
// those of an earlier split export to the same name (FILE.N, N of 3 or more
// digits, in FILE's directory), which `cat FILE.[0-9]*` would otherwise
// join with the new ones. Errors name the part.
func RemoveStaleParts(file string, parts []Part) error {
	keep := map[string]bool{}
	for _, p := range parts {
		keep[filepath.Base(p.Name)] = true
	}
	dir, base := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if b, _, ok := PartOf(e.Name()); ok && b == base && !keep[e.Name()] && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// ChecksumName is the name of the checksum list of a split archive.
func ChecksumName(file string) string { return file + ".sha256" }

// WriteChecksumFile writes FILE.sha256, mode 0644, atomically (atomicfile:
// on failure or cancellation of ctx no list is left): one "HEX  NAME" line
// per part, then one for the whole archive under the name FILE, with names
// relative to the list's directory, as sha256sum writes them. In that
// directory, `sha256sum -c --ignore-missing FILE.sha256` checks the parts,
// and once they are joined (`cat FILE.[0-9]* > FILE`) `sha256sum -c` checks
// everything. It returns the list's name.
func WriteChecksumFile(ctx context.Context, file string, parts []Part, whole digest.Digest) (string, error) {
	var b bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&b, "%s  %s\n", p.Digest.Encoded(), filepath.Base(p.Name))
	}
	fmt.Fprintf(&b, "%s  %s\n", whole.Encoded(), filepath.Base(file))
	name := ChecksumName(file)
	return name, atomicfile.WriteFile(ctx, filepath.Dir(name), name, b.Bytes(), 0o644)
}

// maxChecksumFile caps a checksum list read from the user.
const maxChecksumFile = 1 << 20

// ReadChecksumFile reads a list written by WriteChecksumFile (or sha256sum)
// and returns the parts it names, with paths joined to the list's
// directory, and the whole archive's digest (its last line). Names must be
// local file names; errors wrap ErrBadInput.
func ReadChecksumFile(name string) ([]Part, digest.Digest, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxChecksumFile+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > maxChecksumFile {
		return nil, "", fmt.Errorf("%s: %w: larger than %d bytes", name, ErrBadInput, maxChecksumFile)
	}
	var entries []Part
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" {
			continue
		}
		sum, file, ok := strings.Cut(text, " ")
		file = strings.TrimPrefix(strings.TrimPrefix(file, " "), "*")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 64 || strings.ToLower(sum) != sum {
			return nil, "", fmt.Errorf("%s:%d: %w: not a sha256sum line", name, line, ErrBadInput)
		}
		if !filepath.IsLocal(file) || strings.ContainsAny(file, `/\`) {
			return nil, "", fmt.Errorf("%s:%d: %w: %q is not a file name in the list's directory", name, line, ErrBadInput, file)
		}
		entries = append(entries, Part{Name: filepath.Join(filepath.Dir(name), file), Digest: digest.NewDigestFromEncoded(digest.SHA256, sum)})
	}
	if len(entries) < 2 {
		return nil, "", fmt.Errorf("%s: %w: want a line per part and one for the whole archive", name, ErrBadInput)
	}
	return entries[:len(entries)-1], entries[len(entries)-1].Digest, nil
}

// PartsFromArgs returns the parts named on a command line, in order. When
// they are all parts of one FILE (FILE.N) and FILE.sha256 is next to them,
// they must be the parts it lists, in its order, and carry its digests, and
// the whole archive's digest is returned too, so that a damaged part is
// named; without the list their numbers must run from 0 up, each once.
// Parts out of order, missing or not listed fail with ErrBadInput naming
// them (`cat FILE.*` of an older set past 999 parts put FILE.1000 after
// FILE.100). Other arguments are read unchecked (every blob is still
// verified on import).
func PartsFromArgs(args []string) ([]Part, digest.Digest, error) {
	parts := make([]Part, len(args))
	index := make([]int, len(args))
	base := ""
	for i, a := range args {
		parts[i] = Part{Name: a}
		b, n, ok := PartOf(a)
		if !ok || i > 0 && filepath.Clean(b) != filepath.Clean(base) {
			return parts, "", nil
		}
		base, index[i] = b, n
	}
	list := ChecksumName(base)
	if _, err := os.Stat(list); err != nil {
		return parts, "", checkPartNumbers(args, index)
	}
	listed, whole, err := ReadChecksumFile(list)
	if err != nil {
		return nil, "", err
	}
	at := map[string]int{}
	for i, p := range listed {
		at[filepath.Clean(p.Name)] = i
	}
	for i, a := range args {
		j, ok := at[filepath.Clean(a)]
		switch {
		case !ok:
			return nil, "", fmt.Errorf("%s: %w: not a part %s lists", a, ErrBadInput, list)
		case j != i:
			return nil, "", fmt.Errorf("%s: %w: parts out of order: given as part %d, %s lists it as part %d", a, ErrBadInput, i+1, list, j+1)
		}
		parts[i].Digest = listed[i].Digest
	}
	if len(listed) != len(args) {
		return nil, "", fmt.Errorf("%s lists %d parts, %d given: %w", list, len(listed), len(args), ErrBadInput)
	}
	return parts, whole, nil
}

// checkPartNumbers refuses parts (numbered index) given out of order or with
// a number missing.
func checkPartNumbers(args []string, index []int) error {
	for i := 1; i < len(index); i++ {
		if index[i] <= index[i-1] {
			return fmt.Errorf("%s: %w: parts out of order: given after %s", args[i], ErrBadInput, args[i-1])
		}
	}
	for i, n := range index {
		if n != i {
			return fmt.Errorf("%s: %w: given as part %d, but its number says part %d (a part is missing)", args[i], ErrBadInput, i+1, n+1)
		}
	}
	return nil
}

// PartsReader reads the parts of a split archive in order as one stream.
// When parts carry digests, each part is hashed as it is read and a part
// that does not match fails the read at its end with ErrBadPart naming it;
// when whole is set, the end of the stream is io.EOF only if the whole
// stream hashes to it.
type PartsReader struct {
	parts   []Part
	whole   digest.Digest
	i       int
	f       *os.File
	h       hash.Hash
	all     hash.Hash
	err     error
	Current string // the part being read, for messages
}

// NewPartsReader returns a reader of parts (digests optional) checked
// against whole (optional).
func NewPartsReader(parts []Part, whole digest.Digest) *PartsReader {
	return &PartsReader{parts: parts, whole: whole, all: sha256.New()}
}

func (r *PartsReader) Read(p []byte) (int, error) {
	for r.err == nil {
		if r.f == nil {
			if r.i == len(r.parts) {
				if r.whole != "" && digest.NewDigest(digest.SHA256, r.all) != r.whole {
					r.err = fmt.Errorf("%w: the joined parts do not hash to %s, the list's last line", ErrBadPart, r.whole)
					break
				}
				r.err = io.EOF
				break
			}
			f, err := os.Open(r.parts[r.i].Name)
			if err != nil {
				r.err = err
				break
			}
			r.f, r.h, r.Current = f, sha256.New(), r.parts[r.i].Name
		}
		n, err := r.f.Read(p)
		r.h.Write(p[:n])
		r.all.Write(p[:n])
		if errors.Is(err, io.EOF) {
			err = r.endPart()
		}
		if err != nil {
			r.err = err
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, r.err
}

// endPart closes the current part and checks its digest.
func (r *PartsReader) endPart() error {
	r.f.Close()
	r.f = nil
	want := r.parts[r.i].Digest
	r.i++
	if want != "" {
		if got := digest.NewDigest(digest.SHA256, r.h); got != want {
			return fmt.Errorf("%s: %w: sha256 %s, the list says %s", r.Current, ErrBadPart, got.Encoded(), want.Encoded())
		}
	}
	return nil
}

// Explain is called after a reader of the stream failed with err: if the
// part being read when it failed is damaged, it returns an error naming the
// part (a damaged part explains a corrupt tar or blob better than the
// symptom); otherwise err. It reads the rest of that part.
func (r *PartsReader) Explain(err error) error {
	if err == nil || errors.Is(err, ErrBadPart) {
		return err
	}
	if errors.Is(r.err, ErrBadPart) {
		// Found already, by a read ahead of where the consumer failed.
		return fmt.Errorf("%w (which explains: %v)", r.err, err)
	}
	if r.f == nil || r.parts[r.i].Digest == "" {
		return err
	}
	if _, cerr := io.Copy(r.h, r.f); cerr != nil {
		return err
	}
	if perr := r.endPart(); perr != nil {
		return fmt.Errorf("%w (which explains: %v)", perr, err)
	}
	return err
}

// Close closes the part being read, if any.
func (r *PartsReader) Close() error {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	return nil
}
