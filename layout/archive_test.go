package layout

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

type testMember struct {
	name     string
	typeflag byte
	data     string
	format   tar.Format
	modTime  time.Time
}

// testArchive writes members with archive/tar (which writes PAX records and
// GNU long names when the format and name ask for them).
func testArchive(t *testing.T, members []testMember, trailer int) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		tf := m.typeflag
		if tf == 0 {
			tf = tar.TypeReg
		}
		h := &tar.Header{Name: m.name, Typeflag: tf, Mode: 0o644, Size: int64(len(m.data)), Format: m.format, ModTime: m.modTime}
		if tf != tar.TypeReg {
			h.Size = 0
		}
		if tf == tar.TypeSymlink {
			h.Linkname = "/etc/passwd"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := io.WriteString(tw, m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	buf.Write(make([]byte, trailer))
	return buf.Bytes()
}

// readAll reads every member, collecting members and errors; it stops at
// io.EOF or when the reader is broken.
func readAll(t *testing.T, data []byte) (*ArchiveReader, []ArchiveMember, []error) {
	t.Helper()
	ar := NewArchiveReader(bytes.NewReader(data))
	var members []ArchiveMember
	var errs []error
	for i := 0; i < 100; i++ {
		m, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return ar, members, errs
		}
		if err != nil {
			errs = append(errs, err)
			if ar.Broken() != nil {
				return ar, members, errs
			}
			continue
		}
		members = append(members, m)
	}
	t.Fatal("the reader does not end")
	return nil, nil, nil
}

func TestArchiveReaderKinds(t *testing.T) {
	blob := "hello"
	d := digest.FromString(blob)
	data := testArchive(t, []testMember{
		{name: "./", typeflag: tar.TypeDir},
		{name: "./oci-layout", data: `{"imageLayoutVersion":"1.0.0"}`, format: tar.FormatGNU},
		{name: "index.json", data: `{}`, format: tar.FormatPAX, modTime: time.Unix(1, 5e8)}, // PAX mtime: fine
		{name: "blobs/", typeflag: tar.TypeDir},
		{name: "blobs/sha256/", typeflag: tar.TypeDir},
		{name: "blobs/sha256/" + d.Encoded(), data: blob},
		{name: "blobs/sha256/.tmp-123", data: "partial"},
		{name: "blobs/md5/", typeflag: tar.TypeDir},
		{name: "blobs/md5/0123", data: "x"},
		{name: "manifest.json", data: "[]"},
		{name: "ingest/blob-1", data: "partial"},
		{name: "notes/readme.txt", data: "hi"},
		{name: "notes/", typeflag: tar.TypeDir},
	}, 8192)
	ar, members, errs := readAll(t, data)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := []struct {
		path string
		kind MemberKind
		note string
		dir  bool
		skip SkipReason
	}{
		{".", MemberDir, "", true, 0}, {"oci-layout", MemberLayoutFile, "", false, 0}, {"index.json", MemberIndex, "", false, 0},
		{"blobs", MemberDir, "", true, 0}, {"blobs/sha256", MemberDir, "", true, 0}, {"blobs/sha256/" + d.Encoded(), MemberBlob, "", false, 0},
		{"blobs/sha256/.tmp-123", MemberSkipped, "stray", false, SkipBlobName},
		{"blobs/md5", MemberSkipped, "", true, SkipAlgorithm}, {"blobs/md5/0123", MemberSkipped, "algorithm", false, SkipAlgorithm},
		{"manifest.json", MemberSkipped, "docker save", false, SkipDockerSave}, {"ingest/blob-1", MemberSkipped, "temporary", false, SkipIngest},
		{"notes/readme.txt", MemberSkipped, "not part of an OCI layout", false, SkipNotLayout}, {"notes", MemberSkipped, "", true, SkipNotLayout},
	}
	if len(members) != len(want) {
		t.Fatalf("%d members, want %d: %+v", len(members), len(want), members)
	}
	for i, w := range want {
		m := members[i]
		if m.Path != w.path || m.Kind != w.kind || !strings.Contains(m.Note, w.note) || (w.note == "" && m.Note != "") || m.Dir != w.dir || m.Skip != w.skip {
			t.Errorf("member %d = %+v, want %s kind %d note %q dir %v skip %d", i, m, w.path, w.kind, w.note, w.dir, w.skip)
		}
	}
	if members[5].Digest != d || members[5].Size != int64(len(blob)) {
		t.Errorf("blob member = %+v", members[5])
	}
	n, err := ar.Drain()
	if err != nil || n != 8192 {
		t.Errorf("Drain() = %d, %v, want the 8192 trailing bytes", n, err)
	}
	if ar.Offset() != int64(len(data)) {
		t.Errorf("Offset() = %d, want %d", ar.Offset(), len(data))
	}
	if _, err := ar.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next() after the end = %v", err)
	}
}

func TestArchiveReaderRead(t *testing.T) {
	data := testArchive(t, []testMember{{name: "oci-layout", data: "abc"}, {name: "index.json", data: "defg"}}, 0)
	ar := NewArchiveReader(bytes.NewReader(data))
	if _, err := ar.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("Read() before Next = %v, want io.EOF", err)
	}
	var got []string
	for {
		_, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(ar)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	if strings.Join(got, ",") != "abc,defg" {
		t.Errorf("contents = %q", got)
	}
}

// TestArchiveReaderPAXBlobName: a blob name USTAR cannot hold
// (blobs/sha512/<128 hex>) is read from the PAX path record archive/tar
// writes for it, the header's own name being its truncation.
func TestArchiveReaderPAXBlobName(t *testing.T) {
	d := digest.SHA512.FromString("x")
	name := "blobs/sha512/" + d.Encoded()
	_, members, errs := readAll(t, testArchive(t, []testMember{{name: "oci-layout", data: "{}"}, {name: name, data: "x"}}, 0))
	if len(errs) != 0 || len(members) != 2 || members[1].Kind != MemberBlob || members[1].Digest != d || members[1].Path != name {
		t.Errorf("read %+v, %v, want the blob %s", members, errs, d)
	}
}

func TestArchiveReaderRefusals(t *testing.T) {
	long := "d/" + strings.Repeat("x", 120) // no USTAR prefix split can hold it
	blobName := "blobs/sha256/" + digest.FromString("x").Encoded()
	// kind is the sentinel of the kind of refusal (nil: a name's); member,
	// what Next returns with the error.
	tests := []struct {
		name    string
		members []testMember
		want    error
		kind    error
		member  ArchiveMember
		msg     string
		fatal   bool
	}{
		{"symlink", []testMember{{name: "index.json", typeflag: tar.TypeSymlink}}, ErrUnsafeArchive, ErrMemberType, ArchiveMember{Name: "index.json", Path: "index.json", Kind: MemberIndex}, "symlink", false},
		{"symlink as a blob", []testMember{{name: blobName, typeflag: tar.TypeSymlink}}, ErrUnsafeArchive, ErrMemberType, ArchiveMember{Name: blobName, Path: blobName, Kind: MemberBlob, Digest: digest.FromString("x")}, "symlink", false},
		{"symlink elsewhere", []testMember{{name: "notes", typeflag: tar.TypeSymlink}}, ErrUnsafeArchive, ErrMemberType, ArchiveMember{Name: "notes", Path: "notes", Kind: MemberSkipped, Skip: SkipNotLayout, Note: "not part of an OCI layout"}, "symlink", false},
		{"blob as a directory", []testMember{{name: blobName + "/", typeflag: tar.TypeDir}}, ErrUnsafeArchive, ErrMemberType, ArchiveMember{Name: blobName + "/", Path: blobName, Kind: MemberBlob, Dir: true, Digest: digest.FromString("x")}, "regular file", false},
		{"absolute", []testMember{{name: "/oci-layout", data: "x"}}, ErrUnsafeArchive, nil, ArchiveMember{Name: "/oci-layout"}, "absolute", false},
		{"dot-dot", []testMember{{name: "a/../../b", data: "x"}}, ErrUnsafeArchive, nil, ArchiveMember{Name: "a/../../b"}, `".."`, false},
		{"backslash", []testMember{{name: `a\b`, data: "x"}}, ErrUnsafeArchive, nil, ArchiveMember{Name: `a\b`}, "backslash", false},
		{"directory with a bad blob name", []testMember{{name: "blobs/sha256/ABC/", typeflag: tar.TypeDir}}, ErrUnsafeArchive, ErrBlobName, ArchiveMember{Name: "blobs/sha256/ABC/", Path: "blobs/sha256/ABC", Dir: true}, "not a blob name", false},
		{"too deep under blobs", []testMember{{name: "blobs/sha256/a/b", data: "x"}}, ErrUnsafeArchive, ErrBlobName, ArchiveMember{Name: "blobs/sha256/a/b", Path: "blobs/sha256/a/b", Size: 1}, "blobs/<algorithm>", false},
		{"blobs as a file", []testMember{{name: "blobs", data: "x"}}, ErrUnsafeArchive, ErrMemberType, ArchiveMember{Name: "blobs", Path: "blobs", Kind: MemberDir, Size: 1}, "directory", false},
		{"directory and file", []testMember{{name: "x/", typeflag: tar.TypeDir}, {name: "x", data: "x"}}, ErrUnsafeArchive, ErrDuplicateMember, ArchiveMember{Name: "x", Path: "x", Kind: MemberSkipped, Skip: SkipNotLayout, Note: "not part of an OCI layout", Size: 1}, "a directory in one member", false},
		{"PAX path", []testMember{{name: long, data: "x", format: tar.FormatPAX}}, ErrUnsafeArchive, nil, ArchiveMember{Name: long}, "PAX path", true},
		{"GNU long name", []testMember{{name: long, data: "x", format: tar.FormatGNU}}, ErrUnsafeArchive, nil, ArchiveMember{Name: long}, "GNU long-name", true},
		{"oversize index.json", []testMember{{name: "index.json", data: strings.Repeat(" ", MaxDocumentSize+1)}}, ErrTooLarge, nil, ArchiveMember{Name: "index.json", Path: "index.json", Kind: MemberIndex, Size: MaxDocumentSize + 1}, "index.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The refused member sits between two good ones.
			members := append(append([]testMember{{name: "oci-layout", data: "{}"}}, tt.members...), testMember{name: "after", data: strings.Repeat("z", 700)})
			ar := NewArchiveReader(bytes.NewReader(testArchive(t, members, 0)))
			var got []ArchiveMember
			var errs []error
			for {
				m, err := ar.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					errs = append(errs, err)
					if m != tt.member {
						t.Errorf("Next() with %v = %+v, want %+v", err, m, tt.member)
					}
					if ar.Broken() != nil {
						break
					}
					continue
				}
				got = append(got, m)
			}
			if len(errs) != 1 || !errors.Is(errs[0], tt.want) || !strings.Contains(errs[0].Error(), tt.msg) {
				t.Fatalf("errors = %v, want one %v saying %q", errs, tt.want, tt.msg)
			}
			for _, kind := range []error{ErrMemberType, ErrDuplicateMember, ErrBlobName} {
				if want := kind == tt.kind; errors.Is(errs[0], kind) != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", errs[0], kind, !want, want)
				}
			}
			if tt.kind != nil && !errors.Is(errs[0], ErrUnsafeArchive) {
				t.Errorf("%v does not wrap ErrUnsafeArchive", errs[0])
			}
			if tt.name == "directory and file" {
				got = append(got[:1], got[2:]...) // without the directory x/
			}
			if (ar.Broken() != nil) != tt.fatal {
				t.Errorf("Broken() = %v, want broken %v", ar.Broken(), tt.fatal)
			}
			if !tt.fatal && (len(got) != 2 || got[1].Path != "after" || got[1].Size != 700) {
				t.Errorf("after the refusal the reader read %+v, want the next member intact", got)
			}
			if tt.fatal {
				if _, err := ar.Next(); err != ar.Broken() {
					t.Errorf("Next() after a fatal refusal = %v, want %v again", err, ar.Broken())
				}
			}
		})
	}
}

func TestArchiveReaderDuplicateDocument(t *testing.T) {
	same := testArchive(t, []testMember{{name: "index.json", data: "{}"}, {name: "./index.json", data: "{}"}}, 0)
	if _, _, errs := readAll(t, same); len(errs) != 0 {
		t.Errorf("the same bytes twice: %v", errs)
	}
	other := testArchive(t, []testMember{{name: "index.json", data: "{}"}, {name: "./index.json", data: "{ }"}, {name: "x", data: "x"}}, 0)
	ar := NewArchiveReader(bytes.NewReader(other))
	var names []string
	var errs []error
	for {
		m, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The second copy, read to its end: named, and no obstacle to
			// the next member.
			errs = append(errs, err)
			if m.Name != "./index.json" || m.Kind != MemberIndex || ar.Broken() != nil {
				t.Errorf("Next() with %v = %+v, broken %v, want ./index.json and going on", err, m, ar.Broken())
				break
			}
			continue
		}
		names = append(names, m.Name)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnsafeArchive) || !errors.Is(errs[0], ErrDuplicateMember) {
		t.Errorf("other bytes the second time: %v, want ErrUnsafeArchive and ErrDuplicateMember", errs)
	}
	if strings.Join(names, ",") != "index.json,./index.json,x" {
		t.Errorf("members read = %q, want all three", names)
	}
}

func TestArchiveReaderStreams(t *testing.T) {
	good := testArchive(t, []testMember{{name: "oci-layout", data: "{}"}, {name: "big", data: strings.Repeat("b", 5000)}}, 0)
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, "empty"},
		{"one byte", []byte{0}, "not a tar"},
		{"text", bytes.Repeat([]byte("not a tar "), 100), "not a tar"},
		{"zstd", append([]byte{0x28, 0xb5, 0x2f, 0xfd}, make([]byte, 600)...), "zstd"},
		{"cut in data", good[:2000], "truncated"},
		{"cut at a member", good[:len(good)-1024], "end-of-archive"},
		{"cut in the marker", good[:len(good)-1024+100], "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ar, _, errs := readAll(t, tt.data)
			if len(errs) != 1 || !errors.Is(errs[0], ErrBadArchive) || !strings.Contains(errs[0].Error(), tt.msg) || ar.Broken() == nil {
				t.Errorf("errors = %v, want one ErrBadArchive saying %q", errs, tt.msg)
			}
		})
	}
	// Only zeros may follow the end-of-archive marker.
	for _, tail := range [][]byte{[]byte("x"), append(make([]byte, 10000), good...)} {
		ar, _, errs := readAll(t, append(bytes.Clone(good), tail...))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if _, err := ar.Drain(); !errors.Is(err, ErrBadArchive) || !strings.Contains(err.Error(), "after the end") {
			t.Errorf("Drain() with %d bytes after the tar = %v, want ErrBadArchive", len(tail), err)
		}
	}
	// A failing source is returned as is, not as a bad archive.
	boom := errors.New("boom")
	ar := NewArchiveReader(io.MultiReader(bytes.NewReader(good[:1500]), errReader{boom}))
	var err error
	for err == nil {
		_, err = ar.Next()
	}
	if !errors.Is(err, boom) || errors.Is(err, ErrBadArchive) {
		t.Errorf("Next() on a failing source = %v, want boom", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestCanonicalName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"oci-layout", "oci-layout"}, {"./oci-layout", "oci-layout"}, {"blobs/", "blobs"}, {"./", "."},
		{".", "."}, {"././x", ""}, {"a//b", ""}, {"a/./b", ""}, {"", ""}, {"/x", ""}, {"x/..", ""}, {"a\x00b", ""},
	}
	for _, tt := range tests {
		got, why := canonicalName(tt.in)
		if got != tt.want || (tt.want == "") != (why != "") {
			t.Errorf("canonicalName(%q) = %q, %q, want %q", tt.in, got, why, tt.want)
		}
	}
}

// FuzzArchiveReader: whatever the stream, the reader ends, never panics,
// and every member it accepts has a local, canonical name of an allowed
// kind (only blobs carry a digest, and it is the name's).
func FuzzArchiveReader(f *testing.F) {
	d := digest.FromString("x")
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, 1024))
	for _, format := range []tar.Format{tar.FormatUSTAR, tar.FormatPAX, tar.FormatGNU} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, m := range []testMember{
			{name: "./oci-layout", data: "{}"}, {name: "blobs/", typeflag: tar.TypeDir},
			{name: "blobs/sha256/" + d.Encoded(), data: "x"}, {name: "d/" + strings.Repeat("y", 120), data: "z"},
			{name: "l", typeflag: tar.TypeSymlink},
		} {
			tf := m.typeflag
			if tf == 0 {
				tf = tar.TypeReg
			}
			h := &tar.Header{Name: m.name, Typeflag: tf, Size: int64(len(m.data)), Format: format, Linkname: "t"}
			if tf != tar.TypeReg {
				h.Size = 0
			}
			if tw.WriteHeader(h) == nil {
				io.WriteString(tw, m.data)
			}
		}
		tw.Close()
		f.Add(buf.Bytes())
	}
	f.Add(testArchiveF(f, []testMember{{name: "oci-layout", data: "{}"}, {name: "blobs/sha256/" + d.Encoded(), data: strings.Repeat("b", 3000)},
		{name: "skipped", data: strings.Repeat("s", 1500)}, {name: "index.json", data: "{}"}, {name: "l", typeflag: tar.TypeSymlink},
		{name: "blobs/sha256/" + d.Encoded(), data: strings.Repeat("c", 513)}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The seeking reader of a file judges every member as the
		// streaming reader does.
		want := readSequence(NewArchiveReader(bytes.NewReader(data)), len(data))
		if got := readSequence(NewSeekingArchiveReader(bytes.NewReader(data)), len(data)); got != want {
			t.Fatalf("the seeking reader reads\n%s\nthe streaming reader\n%s", got, want)
		}
		ar := NewArchiveReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			if i > len(data)/512+2 {
				t.Fatalf("more members than blocks")
			}
			m, err := ar.Next()
			if errors.Is(err, io.EOF) {
				ar.Drain()
				return
			}
			if err != nil {
				if ar.Broken() != nil {
					return
				}
				continue
			}
			if p, why := canonicalName(m.Name); why != "" || p != m.Path || (m.Path != "." && !filepathIsLocal(m.Path)) {
				t.Fatalf("accepted %q as %q (%s)", m.Name, m.Path, why)
			}
			switch m.Kind {
			case MemberBlob:
				if p, _ := BlobPath(m.Digest); p != m.Path {
					t.Fatalf("blob %q has digest %s", m.Path, m.Digest)
				}
			case MemberLayoutFile, MemberIndex, MemberDir, MemberSkipped:
				if m.Digest != "" {
					t.Fatalf("%q: a digest on a %d", m.Path, m.Kind)
				}
			default:
				t.Fatalf("%q: kind %d", m.Path, m.Kind)
			}
			if i%2 == 0 {
				io.Copy(io.Discard, ar)
			}
		}
	})
}

func filepathIsLocal(p string) bool { return filepath.IsLocal(p) }

// testArchiveF is testArchive for a fuzz seed.
func testArchiveF(f *testing.F, members []testMember) []byte {
	t := &testing.T{}
	data := testArchive(t, members, 0)
	if t.Failed() {
		f.Fatal("seed archive")
	}
	return data
}

// readSequence reads every member of ar (the data of every other member,
// the rest left to Next) and describes what it saw: each member, or the
// kind of each error, and the data read.
func readSequence(ar *ArchiveReader, size int) string {
	var b strings.Builder
	for i := 0; i <= size/512+2; i++ {
		m, err := ar.Next()
		if errors.Is(err, io.EOF) {
			b.WriteString("EOF\n")
			return b.String()
		}
		if err != nil {
			fmt.Fprintf(&b, "error: unsafe %v bad %v too large %v broken %v member %+v\n", errors.Is(err, ErrUnsafeArchive),
				errors.Is(err, ErrBadArchive), errors.Is(err, ErrTooLarge), ar.Broken() != nil, m)
			if ar.Broken() != nil {
				return b.String()
			}
			continue
		}
		fmt.Fprintf(&b, "%+v\n", m)
		if i%2 == 0 {
			data, err := io.ReadAll(ar)
			fmt.Fprintf(&b, "data %q error %v\n", data, err != nil)
		}
	}
	return b.String()
}

// countingFile counts the bytes read from a file-like reader.
type countingFile struct {
	*bytes.Reader
	n int64
}

func (c *countingFile) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	c.n += int64(n)
	return n, err
}

func TestSeekingArchiveReaderSkipsData(t *testing.T) {
	var members []testMember
	for i, n := range []int{1 << 20, 3<<20 + 7, 1, 2 << 20} {
		members = append(members, testMember{name: "blobs/sha256/" + digest.FromString(fmt.Sprint(i)).Encoded(), data: strings.Repeat(string(rune('a'+i)), n)})
	}
	members = append(members, testMember{name: "index.json", data: `{"schemaVersion":2}`})
	data := testArchive(t, members, 0)
	f := &countingFile{Reader: bytes.NewReader(data)}
	ar := NewSeekingArchiveReader(f)
	var got []string
	for {
		m, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind == MemberBlob {
			// Offset is where the data starts: read it from there.
			first := make([]byte, 1)
			if _, err := bytes.NewReader(data).ReadAt(first, ar.Offset()); err != nil || m.Size > 1 && first[0] != data[ar.Offset()+m.Size-1] {
				t.Errorf("%s: the byte at Offset() %d is %q, not the member's", m.Name, ar.Offset(), first)
			}
		}
		got = append(got, m.Path)
	}
	if len(got) != len(members) {
		t.Errorf("members = %q, want %d", got, len(members))
	}
	if f.n > int64(len(members))*(16<<10) {
		t.Errorf("reading the headers of a %d-byte archive read %d bytes, want the headers only (a 16 KiB buffer's worth a member)", len(data), f.n)
	}
	if ar.Offset() > int64(len(data)) {
		t.Errorf("Offset() = %d, past the archive's %d bytes", ar.Offset(), len(data))
	}
}
