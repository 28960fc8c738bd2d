package verify

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
	"sort"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"
)

// member is one entry of a test archive.
type member struct {
	name, link string
	typ        byte
	body       []byte
}

// membersOf lists a layout directory as archive members: directories,
// then files, in sorted order.
func membersOf(t testing.TB, dir string) []member {
	t.Helper()
	var out []member
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m := member{name: filepath.ToSlash(rel), typ: tar.TypeReg}
		if d.IsDir() {
			m.typ, m.name = tar.TypeDir, m.name+"/"
		} else if m.body, err = os.ReadFile(p); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// tarMembers writes members as a tar stream.
func tarMembers(t testing.TB, members []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Linkname: m.link, Typeflag: m.typ, Mode: 0o644}
		if m.typ == tar.TypeReg {
			hdr.Size = int64(len(m.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawHeader is a hand-made tar header block (archive/tar's writer will not
// write sparse entries).
func rawHeader(name string, typ byte, size int64, gnu bool, realSize int64) []byte {
	h := make([]byte, 512)
	copy(h, name)
	copy(h[100:], "0000644\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], fmt.Sprintf("%011o\x00", size))
	copy(h[136:], "00000000000\x00")
	h[156] = typ
	if gnu {
		copy(h[257:], "ustar  \x00")
		copy(h[483:], fmt.Sprintf("%011o\x00", realSize))
	} else {
		copy(h[257:], "ustar\x0000")
	}
	copy(h[148:], "        ")
	sum := 0
	for _, b := range h {
		sum += int(b)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

func padBlock(b []byte) []byte { return append(b, make([]byte, (512-len(b)%512)%512)...) }

// paxRecords encodes PAX extended header records ("LEN key=value\n").
func paxRecords(kvs ...[2]string) []byte {
	var recs []byte
	for _, kv := range kvs {
		rec := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rec) + 2
		if len(fmt.Sprint(n+len(rec)))+len(rec) != n {
			n = len(fmt.Sprint(n)) + len(rec)
		}
		recs = append(recs, fmt.Sprintf("%d%s", n, rec)...)
	}
	return recs
}

// extended is a member preceded by an extension header of type typ (PAX
// 'x' or 'g', GNU 'L') holding ext: the member's own header names it
// short, the extension may say otherwise. No end-of-archive marker.
func extended(typ byte, ext []byte, short string, body []byte) []byte {
	out := rawHeader("././@Ext", typ, int64(len(ext)), typ == tar.TypeGNULongName, 0)
	out = append(out, padBlock(bytes.Clone(ext))...)
	out = append(out, rawHeader(short, tar.TypeReg, int64(len(body)), typ == tar.TypeGNULongName, 0)...)
	return append(out, padBlock(bytes.Clone(body))...)
}

// sparseTar is a tar of one sparse entry named name: no data, all hole,
// realSize bytes long when read. pax selects the PAX 1.0 format, otherwise
// the old GNU one.
func sparseTar(name string, realSize int64, pax bool) []byte {
	if !pax {
		return append(rawHeader(name, tar.TypeGNUSparse, 0, true, realSize), make([]byte, 1024)...)
	}
	recs := paxRecords([2]string{"GNU.sparse.major", "1"}, [2]string{"GNU.sparse.minor", "0"}, [2]string{"GNU.sparse.name", name}, [2]string{"GNU.sparse.realsize", fmt.Sprint(realSize)})
	out := rawHeader("PaxHeaders/"+name, tar.TypeXHeader, int64(len(recs)), false, 0)
	out = append(out, padBlock(recs)...)
	sparseMap := padBlock([]byte("0\n"))
	out = append(out, rawHeader(name, tar.TypeReg, int64(len(sparseMap)), false, 0)...)
	out = append(out, sparseMap...)
	return append(out, make([]byte, 1024)...)
}

func verifyBytes(t testing.TB, data []byte, opts Options) *Report {
	t.Helper()
	rep, err := VerifyArchive(context.Background(), bytes.NewReader(data), "test.tar", opts)
	if err != nil {
		t.Fatalf("VerifyArchive() error = %v, want a report", err)
	}
	return rep
}

func TestArchiveRules(t *testing.T) {
	f := newFx(t)
	md := f.std(nil)
	base := membersOf(t, f.dir)
	mdPath := blobPath(md)
	edit := func(fn func(ms []member) []member) []member {
		return fn(append([]member(nil), base...))
	}
	replace := func(name string, m member) []member {
		return edit(func(ms []member) []member {
			for i := range ms {
				if ms[i].name == name {
					ms[i] = m
				}
			}
			return ms
		})
	}
	devLayer := tarOf(t, entry{name: "dev/null", typ: tar.TypeChar})
	df := newFx(t)
	deepLayer(devLayer, compressed(t, devLayer, "zstd"), "application/vnd.oci.image.layer.v1.tar+zstd", nil)(df)

	cases := []struct {
		name    string
		members []member
		opts    Options
		code    Code
		sev     Severity
		loc     string
	}{
		{"duplicate member", append(edit(func(ms []member) []member { return ms }), member{name: "index.json", typ: tar.TypeReg, body: []byte(`{}`)}), Options{}, DuplicateMember, Error, "index.json"},
		{"dot-dot member", append(edit(func(ms []member) []member { return ms }), member{name: "../evil", typ: tar.TypeReg}), Options{}, UnsafeMember, Error, "../evil"},
		{"absolute member", append(edit(func(ms []member) []member { return ms }), member{name: "/etc/evil", typ: tar.TypeReg}), Options{}, UnsafeMember, Error, "/etc/evil"},
		{"blob as symlink", replace(mdPath, member{name: mdPath, typ: tar.TypeSymlink, link: "/etc/passwd"}), Options{}, NotRegularFile, Error, mdPath},
		{"blob as hard link", replace(mdPath, member{name: mdPath, typ: tar.TypeLink, link: "oci-layout"}), Options{}, NotRegularFile, Error, mdPath},
		{"index.json as symlink", replace("index.json", member{name: "index.json", typ: tar.TypeSymlink, link: "x"}), Options{}, NotRegularFile, Error, "index.json"},
		{"index.json as a directory", replace("index.json", member{name: "index.json/", typ: tar.TypeDir}), Options{}, NotRegularFile, Error, "index.json/"},
		{"oci-layout too large", replace("oci-layout", member{name: "oci-layout", typ: tar.TypeReg, body: bytes.Repeat([]byte(" "), 4<<20+1)}), Options{}, TooLarge, Error, "oci-layout"},
		{"oci-layout missing", edit(func(ms []member) []member {
			var out []member
			for _, m := range ms {
				if m.name != "oci-layout" {
					out = append(out, m)
				}
			}
			return out
		}), Options{}, LayoutMissing, Error, "oci-layout"},
		{"blob missing", edit(func(ms []member) []member {
			var out []member
			for _, m := range ms {
				if m.name != mdPath {
					out = append(out, m)
				}
			}
			return out
		}), Options{}, BlobMissing, Error, mdPath},
		{"blob corrupt", edit(func(ms []member) []member {
			for i := range ms {
				if ms[i].name == mdPath {
					ms[i].body = append([]byte{' '}, ms[i].body...)
				}
			}
			return ms
		}), Options{}, DigestMismatch, Error, mdPath},
		{"stray member", append(edit(func(ms []member) []member { return ms }), member{name: "manifest.json", typ: tar.TypeReg, body: []byte("[]")}), Options{}, StrayMember, Info, "manifest.json"},
		{"ingest leftover", append(edit(func(ms []member) []member { return ms }), member{name: "ingest/blob-1", typ: tar.TypeReg}), Options{}, IngestLeftover, Info, "ingest/blob-1"},
		{"blobs a file", replace("blobs/", member{name: "blobs", typ: tar.TypeReg}), Options{}, BlobsNotDirectory, Error, "blobs"},
		{"algorithm a file", replace("blobs/sha256/", member{name: "blobs/sha256", typ: tar.TypeReg}), Options{}, BadBlobName, Error, "blobs/sha256"},
		{"blob name too deep", append(edit(func(ms []member) []member { return ms }), member{name: "blobs/sha256/a/b", typ: tar.TypeReg}), Options{}, BadBlobName, Error, "blobs/sha256/a/b"},
		{"blob name not hex", append(edit(func(ms []member) []member { return ms }), member{name: "blobs/sha256/zz", typ: tar.TypeReg}), Options{}, BadBlobName, Warning, "blobs/sha256/zz"},
		{"stray temporary file in blobs/sha256", append(edit(func(ms []member) []member { return ms }), member{name: "blobs/sha256/.tmp-123", typ: tar.TypeReg, body: []byte("x")}), Options{}, BadBlobName, Warning, "blobs/sha256/.tmp-123"},
		{"stray file strict", append(edit(func(ms []member) []member { return ms }), member{name: "blobs/sha256/.tmp-123", typ: tar.TypeReg, body: []byte("x")}), Options{Strict: true}, BadBlobName, Error, "blobs/sha256/.tmp-123"},
		{"unreferenced blob", append(edit(func(ms []member) []member { return ms }), member{name: "blobs/sha256/" + digest.FromString("x").Encoded(), typ: tar.TypeReg, body: []byte("x")}), Options{}, UnreferencedBlob, Info, ""},
		{"pin mismatch", base, Options{Digest: digest.FromString("x").String()}, DigestPinMismatch, Error, "index.json"},
		{"deep layer with a device", membersOf(t, df.dir), Options{Deep: true}, TarDevice, Error, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := verifyBytes(t, tarMembers(t, tc.members), tc.opts)
			ok := false
			for _, g := range find(rep, tc.code) {
				ok = ok || (g.Severity == tc.sev && (tc.loc == "" || g.Location == tc.loc))
			}
			if !ok {
				t.Errorf("VerifyArchive() has no %s %s at %q:\n%s", tc.sev, tc.code, tc.loc, dump(rep))
			}
			if tc.sev == Error && !errors.Is(rep.Err(), ErrFailed) {
				t.Errorf("Report.Err() = %v, want ErrFailed", rep.Err())
			}
		})
	}

	t.Run("truncated", func(t *testing.T) {
		data := tarMembers(t, base)
		for _, cut := range []int{len(data) / 2, 700, 100} {
			rep := verifyBytes(t, data[:cut], Options{})
			if len(find(rep, ArchiveCorrupt)) == 0 || rep.OK() {
				t.Errorf("VerifyArchive(cut at %d) has no ARCHIVE_CORRUPT:\n%s", cut, dump(rep))
			}
		}
	})
	t.Run("sparse blob", func(t *testing.T) {
		// A blob member that would read as 1 TiB of zeros is refused, fast.
		for _, pax := range []bool{false, true} {
			data := tarMembers(t, base)
			data = append(data[:len(data)-1024], sparseTar("blobs/sha256/"+digest.FromString("z").Encoded(), 1<<40, pax)...)
			rep := verifyBytes(t, data, Options{})
			if len(find(rep, NotRegularFile)) != 1 {
				t.Errorf("VerifyArchive(sparse blob, pax %v):\n%s", pax, dump(rep))
			}
		}
	})
	t.Run("sparse entry in a layer", func(t *testing.T) {
		for _, pax := range []bool{false, true} {
			// Extract refuses a sparse entry (its holes are not bounded by
			// the layer's bytes): verify --deep says so, without reading
			// the terabyte.
			layer := sparseTar("files/hole", 1<<40, pax)
			df := newFx(t)
			deepLayer(layer, compressed(t, layer, "zstd"), "application/vnd.oci.image.layer.v1.tar+zstd", nil)(df)
			rep := run(t, df.dir, Options{Deep: true})
			if len(rep.Findings) != 1 || len(find(rep, TarSpecialFile)) != 1 {
				t.Errorf("Verify(layer with a sparse entry, pax %v):\n%s", pax, dump(rep))
			}
		}
	})
	t.Run("data after the end", func(t *testing.T) {
		data := append(tarMembers(t, base), "junk"...)
		rep := verifyBytes(t, data, Options{})
		if len(find(rep, ArchiveCorrupt)) != 1 {
			t.Errorf("VerifyArchive(junk after the end):\n%s", dump(rep))
		}
		if rep := verifyBytes(t, append(tarMembers(t, base), make([]byte, 10240)...), Options{}); len(rep.Findings) != 0 {
			t.Errorf("VerifyArchive(zero padding after the end):\n%s", dump(rep))
		}
	})
	t.Run("read error", func(t *testing.T) {
		data := tarMembers(t, base)
		broken := errors.New("device gone")
		r := io.MultiReader(bytes.NewReader(data), iotest.ErrReader(broken))
		if _, err := VerifyArchive(context.Background(), r, "x", Options{}); !errors.Is(err, broken) {
			t.Errorf("VerifyArchive(reader failing after the tar) error = %v, want %v", err, broken)
		}
		r = io.MultiReader(bytes.NewReader(data[:1500]), iotest.ErrReader(broken))
		if _, err := VerifyArchive(context.Background(), r, "x", Options{}); !errors.Is(err, broken) {
			t.Errorf("VerifyArchive(reader failing mid-member) error = %v, want %v", err, broken)
		}
	})
	t.Run("document budget spent", func(t *testing.T) {
		defer func(n int64) { maxArchiveDocuments = n }(maxArchiveDocuments)
		maxArchiveDocuments = 100 // less than the manifest, more than the empty config
		rep := verifyBytes(t, tarMembers(t, base), Options{})
		got := find(rep, TooLarge)
		if len(got) != 1 || got[0].Location != mdPath {
			t.Errorf("VerifyArchive(budget 100) TOO_LARGE = %+v, want one at %s:\n%s", got, mdPath, dump(rep))
		}
	})
	t.Run("not a tar", func(t *testing.T) {
		rep := verifyBytes(t, bytes.Repeat([]byte("not a tar "), 100), Options{})
		if len(find(rep, ArchiveCorrupt)) == 0 || len(find(rep, IndexMissing)) == 0 {
			t.Errorf("VerifyArchive(text):\n%s", dump(rep))
		}
	})
}

// TestArchiveRefusals: verify judges members by layout.ArchiveReader's
// rules (the ones import applies), reports each refusal with its code at
// the member's name, and goes on wherever the reader can. Every finding is
// listed, as "SEVERITY CODE location".
func TestArchiveRefusals(t *testing.T) {
	f := newFx(t)
	md := f.std(nil)
	base := membersOf(t, f.dir)
	mdPath := blobPath(md)
	var indexBody, mdBody []byte
	for _, m := range base {
		switch m.name {
		case "index.json":
			indexBody = m.body
		case mdPath:
			mdBody = m.body
		}
	}
	whole := tarMembers(t, base)
	// tail appends raw members to the archive of base, then the end marker.
	tail := func(raw ...[]byte) []byte {
		out := bytes.Clone(whole[:len(whole)-1024])
		for _, r := range raw {
			out = append(out, r...)
		}
		return append(out, make([]byte, 1024)...)
	}
	plus := func(ms ...member) []byte { return tarMembers(t, append(append([]member(nil), base...), ms...)) }
	long := "notes/" + strings.Repeat("x", 120)
	sha512Name := "blobs/sha512/" + digest.SHA512.FromString("x").Encoded()
	sha256Name := "blobs/sha256/" + digest.FromString("x").Encoded()
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		// Names a reader ignoring the extension records sees otherwise:
		// reading stops at them (the reader cannot go on safely).
		{"PAX path override", tail(extended(tar.TypeXHeader, paxRecords([2]string{"path", "notes.txt"}), "harmless", []byte("x"))),
			[]string{"E UNSAFE_MEMBER notes.txt"}},
		{"PAX path override to index.json", tail(extended(tar.TypeXHeader, paxRecords([2]string{"path", "index.json"}), "harmless", []byte(`{"schemaVersion":2,"manifests":[]}`))),
			[]string{"E UNSAFE_MEMBER index.json"}},
		// A PAX path is taken only for a blob name USTAR cannot hold, under
		// a header name that is its truncation.
		{"PAX path to a sha512 blob name under another name", tail(extended(tar.TypeXHeader, paxRecords([2]string{"path", sha512Name}), "harmless", []byte("x"))),
			[]string{"E UNSAFE_MEMBER " + sha512Name}},
		{"PAX path to a sha256 blob name", tail(extended(tar.TypeXHeader, paxRecords([2]string{"path", sha256Name}), sha256Name[:60], []byte("x"))),
			[]string{"E UNSAFE_MEMBER " + sha256Name}},
		{"GNU long name", tail(extended(tar.TypeGNULongName, []byte(long+"\x00"), "short", []byte("x"))),
			[]string{"E UNSAFE_MEMBER " + long}},
		{"PAX global header", tail(extended(tar.TypeXGlobalHeader, paxRecords([2]string{"comment", "hi"}), "after-global", []byte("x"))),
			[]string{"E UNSAFE_MEMBER ././@Ext"}},
		// A stream that ends where a header should be, with no
		// end-of-archive marker: cut at a member boundary.
		{"cut at a member boundary", whole[:len(whole)-1024], []string{"E ARCHIVE_CORRUPT test.tar"}},
		// A second copy with the same bytes: every reader sees the same.
		{"byte-identical copies", plus(member{name: "./index.json", typ: tar.TypeReg, body: indexBody}, member{name: "./" + mdPath, typ: tar.TypeReg, body: mdBody}), nil},
		// A second copy of a blob with other bytes: it is not the blob.
		{"blob copy with other bytes", plus(member{name: "./" + mdPath, typ: tar.TypeReg, body: []byte("x")}), []string{"E DIGEST_MISMATCH ./" + mdPath}},
		// Import refuses a link wherever it is, so verify fails it too.
		{"symlink outside the layout", plus(member{name: "evil", typ: tar.TypeSymlink, link: "/etc/passwd"}), []string{"E UNSAFE_MEMBER evil"}},
		{"unknown algorithm", plus(member{name: "blobs/md5/0123", typ: tar.TypeReg, body: []byte("x")}), []string{"W UNKNOWN_ALGORITHM blobs/md5/0123"}},
		{"file for an unknown algorithm's directory", plus(member{name: "blobs/md5", typ: tar.TypeReg}), []string{"E BAD_BLOB_NAME blobs/md5"}},
		// Many refusals before the layout's members: each is reported, and
		// the layout after them verifies as usual.
		{"one pass, every refusal", tarMembers(t, append([]member{
			{name: "evil", typ: tar.TypeSymlink, link: "/etc/passwd"},
			{name: "a//b", typ: tar.TypeReg, body: []byte("x")},
			{name: `a\b`, typ: tar.TypeReg, body: []byte("x")},
			{name: "../evil", typ: tar.TypeReg, body: []byte("x")},
			{name: "dev", typ: tar.TypeChar},
			{name: "x/", typ: tar.TypeDir},
			{name: "x", typ: tar.TypeReg, body: []byte("x")},
		}, append(base, member{name: "index.json", typ: tar.TypeReg, body: []byte("{}")})...)), []string{
			"E DUPLICATE_MEMBER index.json", "E DUPLICATE_MEMBER x",
			"E UNSAFE_MEMBER ../evil", `E UNSAFE_MEMBER a//b`, `E UNSAFE_MEMBER a\b`, "E UNSAFE_MEMBER dev", "E UNSAFE_MEMBER evil",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := verifyBytes(t, tc.data, Options{})
			var got []string
			for _, g := range rep.Findings {
				got = append(got, fmt.Sprintf("%s %s %s", g.Severity.letter(), g.Code, g.Location))
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("VerifyArchive() findings = %q, want %q:\n%s", got, tc.want, dump(rep))
			}
			if want := len(tc.want) == 0 || tc.want[0][0] != 'E'; rep.OK() != want {
				t.Errorf("Report.OK() = %v, want %v", rep.OK(), want)
			}
		})
	}
}

func TestArchiveMemberOrdersAndNames(t *testing.T) {
	f := newFx(t)
	f.imageStd(nil)
	base := membersOf(t, f.dir)
	orders := map[string][]member{"sorted": base}
	rev := append([]member(nil), base...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	orders["reversed"] = rev
	var files, dotted []member
	for _, m := range base {
		if m.typ == tar.TypeReg {
			files = append(files, m)
		}
		m.name = "./" + m.name
		dotted = append(dotted, m)
	}
	orders["no directories"] = files
	orders["dot-slash names"] = dotted
	for name, ms := range orders {
		t.Run(name, func(t *testing.T) {
			rep := verifyBytes(t, tarMembers(t, ms), Options{Deep: true, Strict: true})
			if len(rep.Findings) != 0 || rep.Summary.Bundles != 1 || rep.Summary.Blobs != 3 {
				t.Errorf("VerifyArchive(%s) = %+v:\n%s", name, rep.Summary, dump(rep))
			}
		})
	}
}

func TestArchiveFromStdin(t *testing.T) {
	f := newFx(t)
	md := f.std(nil)
	data := tarMembers(t, membersOf(t, f.dir))
	rep, err := Verify(context.Background(), "-", Options{Stdin: bytes.NewReader(data), Digest: md["digest"].(string), Deep: true})
	if err != nil || rep.Err() != nil || rep.Target != "-" || rep.Summary.Bundles != 1 {
		t.Fatalf("Verify(-) = %v, %v:\n%s", rep, err, dump(rep))
	}
	// A tag of an archive file selects one bundle, as in a layout.
	p := filepath.Join(t.TempDir(), "a.tar")
	os.WriteFile(p, data, 0o644)
	if rep := run(t, p+":v1", Options{}); rep.Err() != nil || rep.Summary.Bundles != 1 {
		t.Errorf("Verify(ARCHIVE:TAG):\n%s", dump(rep))
	}
	if rep := run(t, p+":nope", Options{}); len(find(rep, TagNotFound)) != 1 {
		t.Errorf("Verify(ARCHIVE:nope):\n%s", dump(rep))
	}
}

// FuzzVerifyArchive feeds arbitrary bytes to the archive verifier: it must
// return a report (never an error: the reader never fails), never panic,
// and pass nothing that lacks a layout.
func FuzzVerifyArchive(f *testing.F) {
	fx := newFx(f)
	fx.std(nil)
	good := tarMembers(f, membersOf(f, fx.dir))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	img := newFx(f)
	img.imageStd(nil)
	f.Add(tarMembers(f, membersOf(f, img.dir)))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := VerifyArchive(context.Background(), bytes.NewReader(data), "fuzz.tar", Options{Deep: true})
		if err != nil {
			t.Fatalf("VerifyArchive() error = %v", err)
		}
		if rep.OK() && (!bytes.Contains(data, []byte("oci-layout")) || !bytes.Contains(data, []byte("index.json"))) {
			t.Fatalf("report OK for an archive without oci-layout and index.json:\n%s", dump(rep))
		}
		if rep.Summary.Errors+rep.Summary.Warnings+rep.Summary.Infos != len(rep.Findings) {
			t.Fatalf("summary %+v does not count %d findings", rep.Summary, len(rep.Findings))
		}
	})
}
