package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/verify"
)

// rawHeader builds one 512-byte tar header block by hand, for the shapes
// archive/tar's writer refuses to make (PAX and GNU records, sparse, …).
// magic is "ustar\x0000" (USTAR/PAX) or "ustar  \x00" (GNU).
func rawHeader(name string, typeflag byte, size int64, magic string) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], "00000000000\x00")
	b[156] = typeflag
	copy(b[257:265], magic)
	for i := 148; i < 156; i++ {
		b[i] = ' '
	}
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// rawData pads data to whole blocks.
func rawData(data []byte) []byte {
	return append(bytes.Clone(data), make([]byte, -len(data)&511)...)
}

const (
	ustarMagic = "ustar\x0000"
	gnuMagic   = "ustar  \x00"
)

// paxRecord formats one PAX record ("%d key=value\n", the length counting
// itself).
func paxRecord(k, v string) string {
	rec := " " + k + "=" + v + "\n"
	n := len(rec)
	for len(fmt.Sprint(n))+len(rec) != n {
		n = len(fmt.Sprint(n)) + len(rec)
	}
	return fmt.Sprint(n) + rec
}

// arcMember is one member of a test archive.
type arcMember struct {
	name     string
	typeflag byte
	data     []byte
	link     string
}

// buildArchive writes members with archive/tar, then appends raw bytes
// (before the end-of-archive marker) and the marker unless cut.
func buildArchive(t testing.TB, members []arcMember, raw []byte, marker bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		tf := m.typeflag
		if tf == 0 {
			tf = tar.TypeReg
		}
		h := &tar.Header{Name: m.name, Typeflag: tf, Mode: 0o644, Linkname: m.link, Format: tar.FormatUSTAR}
		if tf == tar.TypeReg {
			h.Size = int64(len(m.data))
		}
		if tf == tar.TypeChar {
			h.Devmajor, h.Devminor = 1, 3
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	buf.Write(raw)
	if marker {
		buf.Write(make([]byte, 1024))
	}
	return buf.Bytes()
}

// validMembers returns the members of the export of a freshly packed
// layout (oci-layout, index.json, the blobs), its archive bytes and the
// pack result.
func validMembers(t testing.TB) ([]arcMember, []byte, PackResult) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(src, []byte("payload of the test bundle\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Pack(ctx, filepath.Join(dir, "L"), []string{src}, PackOptions{Tags: []string{"v1"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := Export(ctx, &buf, []string{filepath.Join(dir, "L")}, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	var members []arcMember
	tr := tar.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, _ := io.ReadAll(tr)
		members = append(members, arcMember{name: h.Name, data: data})
	}
	return members, buf.Bytes(), res
}

// fileSet lists every path under root (relative), with sizes.
func fileSet(t *testing.T, root string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	must(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m[rel] = fi.Size()
		if d.Type()&os.ModeSymlink != 0 {
			m[rel] = -1
		}
		return nil
	}))
	return m
}

func TestImportHostile(t *testing.T) {
	good, _, res := validMembers(t)
	layoutM, indexM, blobs := good[0], good[1], good[2:]
	manifestHex := res.Digest.Encoded()
	with := func(extra ...arcMember) []arcMember {
		return append(append([]arcMember{layoutM, indexM}, extra...), blobs...)
	}
	pax := func(records string, then []byte) []byte {
		return append(append(rawHeader("PaxHeaders/x", tar.TypeXHeader, int64(len(records)), ustarMagic), rawData([]byte(records))...), then...)
	}
	regular := func(name string, data string) []byte {
		return append(rawHeader(name, tar.TypeReg, int64(len(data)), ustarMagic), rawData([]byte(data))...)
	}
	valid := buildArchive(t, with(), nil, true)
	bigIndex := append([]byte(`{"schemaVersion":2,"manifests":[],"annotations":{"x":"`), bytes.Repeat([]byte("a"), layout.MaxDocumentSize)...)
	bigIndex = append(bigIndex, `"}}`...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(valid)
	zw.Close()
	badBlob := bytes.Clone(blobs[1].data)
	badBlob[0] ^= 1
	ambiguous := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"manifests":[]}`)
	ambiguousDigest := digest.FromBytes(ambiguous)
	ambiguousIndex, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: ambiguousDigest, Size: int64(len(ambiguous))}}})
	missingIndex, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("absent"), Size: 6}}})
	// A graph that is whole but breaks a rule only verify knows: a layer
	// descriptor whose mediaType is not a media type.
	payload := []byte("payload")
	badLayer := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.test","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"not a media type","digest":"` + digest.FromBytes(payload).String() + `","size":7}]}`)
	badLayerIndex, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(badLayer), Size: int64(len(badLayer))}}})
	badDigestIndex := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../etc","size":1}]}`)

	tests := []struct {
		name    string
		archive []byte
		want    error
		names   string // the message must contain this
	}{
		{"absolute name", buildArchive(t, with(arcMember{name: "/etc/evil", data: []byte("x")}), nil, true), layout.ErrUnsafeArchive, "/etc/evil"},
		{"dot-dot name", buildArchive(t, with(arcMember{name: "blobs/../../evil", data: []byte("x")}), nil, true), layout.ErrUnsafeArchive, "blobs/../../evil"},
		{"dot-dot after ./", buildArchive(t, with(arcMember{name: "./../evil", data: []byte("x")}), nil, true), layout.ErrUnsafeArchive, "./../evil"},
		{"symlink", buildArchive(t, with(arcMember{name: "evil", typeflag: tar.TypeSymlink, link: "/etc/passwd"}), nil, true), layout.ErrUnsafeArchive, "evil"},
		{"symlink as a blob", buildArchive(t, append([]arcMember{layoutM, indexM, {name: "blobs/sha256/" + manifestHex, typeflag: tar.TypeSymlink, link: "/etc/passwd"}}, blobs...), nil, true), layout.ErrUnsafeArchive, manifestHex},
		{"hard link", buildArchive(t, with(arcMember{name: "blobs/sha256/" + strings.Repeat("0", 64), typeflag: tar.TypeLink, link: "/etc/passwd"}), nil, true), layout.ErrUnsafeArchive, strings.Repeat("0", 64)},
		{"device", buildArchive(t, with(arcMember{name: "dev", typeflag: tar.TypeChar}), nil, true), layout.ErrUnsafeArchive, "dev"},
		{"FIFO", buildArchive(t, with(arcMember{name: "fifo", typeflag: tar.TypeFifo}), nil, true), layout.ErrUnsafeArchive, "fifo"},
		{"backslash", buildArchive(t, with(arcMember{name: `blobs\sha256\x`, data: []byte("x")}), nil, true), layout.ErrUnsafeArchive, `blobs\\sha256\\x`},
		{"non-canonical", buildArchive(t, with(arcMember{name: "blobs//sha256/" + manifestHex, data: []byte("x")}), nil, true), layout.ErrUnsafeArchive, "blobs//sha256"},
		{"PAX path override", buildArchive(t, with(), pax(paxRecord("path", "index.json"), regular("harmless", `{"schemaVersion":2,"manifests":[]}`)), true), layout.ErrUnsafeArchive, `the header says "harmless"`},
		{"PAX linkpath", buildArchive(t, with(), pax(paxRecord("linkpath", "/etc/passwd"), regular("harmless2", "x")), true), layout.ErrUnsafeArchive, "linkpath"},
		{"PAX too large", buildArchive(t, with(), pax(paxRecord("comment", strings.Repeat("c", layout.MaxPAXHeader)), regular("big-pax", "x")), true), layout.ErrTooLarge, "big-pax"},
		{"PAX global header", buildArchive(t, with(), append(rawHeader("pax_global_header", tar.TypeXGlobalHeader, int64(len(paxRecord("comment", "hi"))), ustarMagic), rawData([]byte(paxRecord("comment", "hi")))...), true), layout.ErrUnsafeArchive, "global"},
		{"GNU long name", buildArchive(t, with(), append(append(rawHeader("././@LongLink", tar.TypeGNULongName, 11, gnuMagic), rawData([]byte("index.json\x00"))...), regular("short", "x")...), true), layout.ErrUnsafeArchive, "GNU long-name"},
		{"GNU sparse", buildArchive(t, with(), rawHeader("sparse", tar.TypeGNUSparse, 0, gnuMagic), true), layout.ErrUnsafeArchive, "sparse"},
		{"PAX sparse", buildArchive(t, with(), pax(paxRecord("GNU.sparse.major", "1")+paxRecord("GNU.sparse.minor", "0")+paxRecord("GNU.sparse.name", "sp")+paxRecord("GNU.sparse.realsize", "10"), regular("sp-raw", "0\n"+strings.Repeat("\x00", 510))), true), layout.ErrUnsafeArchive, "sparse"},
		{"duplicate index.json, other bytes", buildArchive(t, with(arcMember{name: "./index.json", data: []byte(`{"schemaVersion":2,"manifests":[]}`)}), nil, true), layout.ErrUnsafeArchive, "index.json"},
		{"duplicate blob, other bytes", buildArchive(t, append(with(), arcMember{name: blobs[1].name, data: badBlob}), nil, true), layout.ErrDigestMismatch, blobs[1].name},
		{"directory and file", buildArchive(t, with(arcMember{name: "x/", typeflag: tar.TypeDir}, arcMember{name: "x", data: []byte("1")}), nil, true), layout.ErrUnsafeArchive, "x"},
		{"oci-layout as a directory", buildArchive(t, append([]arcMember{{name: "oci-layout/", typeflag: tar.TypeDir}, indexM}, blobs...), nil, true), layout.ErrUnsafeArchive, "oci-layout"},
		{"oversize index.json", buildArchive(t, append([]arcMember{layoutM, {name: "index.json", data: bigIndex}}, blobs...), nil, true), layout.ErrTooLarge, "index.json"},
		{"bad blob name", buildArchive(t, with(arcMember{name: "blobs/sha256/zz/", typeflag: tar.TypeDir}), nil, true), layout.ErrUnsafeArchive, "blobs/sha256/zz"},
		{"blob bytes do not match the name", buildArchive(t, append([]arcMember{layoutM, indexM, {name: blobs[1].name, data: badBlob}}, blobs[0]), nil, true), layout.ErrDigestMismatch, blobs[1].name},
		{"truncated in a blob", valid[:len(valid)/2+7], layout.ErrBadArchive, "truncated"},
		{"truncated at a member boundary", buildArchive(t, with(), nil, false), layout.ErrBadArchive, "end-of-archive"},
		{"a second archive after the first", append(bytes.Clone(valid), buildArchive(t, []arcMember{{name: "evil", data: []byte("x")}}, nil, true)...), layout.ErrBadArchive, "after the end"},
		{"not a tar", []byte(strings.Repeat("this is not a tar archive\n", 40)), layout.ErrBadArchive, "not a tar"},
		{"short garbage", []byte("hello"), layout.ErrBadArchive, "not a tar"},
		{"gzip", gz.Bytes(), layout.ErrBadArchive, "gzip"},
		{"empty file", nil, layout.ErrBadArchive, "empty"},
		{"no oci-layout", buildArchive(t, append([]arcMember{indexM}, blobs...), nil, true), layout.ErrBadArchive, "oci-layout"},
		{"no index.json", buildArchive(t, append([]arcMember{layoutM}, blobs...), nil, true), layout.ErrBadArchive, "index.json"},
		{"bad oci-layout", buildArchive(t, append([]arcMember{{name: "oci-layout", data: []byte(`{"imageLayoutVersion":"2.0.0"}`)}, indexM}, blobs...), nil, true), layout.ErrBadDocument, "oci-layout"},
		{"missing blob", buildArchive(t, []arcMember{layoutM, {name: "index.json", data: missingIndex}}, nil, true), layout.ErrBlobNotFound, digest.FromString("absent").Encoded()},
		{"ambiguous manifest", buildArchive(t, []arcMember{layoutM, {name: "index.json", data: ambiguousIndex}, {name: "blobs/sha256/" + ambiguousDigest.Encoded(), data: ambiguous},
			{name: "blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", data: []byte("{}")}}, nil, true), layout.ErrBadDocument, "ambiguous"},
		{"a rule of verify", buildArchive(t, []arcMember{layoutM, {name: "index.json", data: badLayerIndex}, {name: "blobs/sha256/" + digest.FromBytes(badLayer).Encoded(), data: badLayer},
			{name: "blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", data: []byte("{}")}, {name: "blobs/sha256/" + digest.FromBytes(payload).Encoded(), data: payload}}, nil, true), verify.ErrFailed, "not a media type"},
		{"invalid digest in index.json", buildArchive(t, []arcMember{layoutM, {name: "index.json", data: badDigestIndex}}, nil, true), layout.ErrBadDigest, "index.json"},
		{"duplicate JSON key", buildArchive(t, []arcMember{layoutM, {name: "index.json", data: []byte(`{"schemaVersion":2,"manifests":[],"manifests":[]}`)}}, nil, true), layout.ErrBadJSON, "index.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dst := filepath.Join(parent, "layout")
			// A pre-existing layout with a bundle of its own.
			src := filepath.Join(t.TempDir(), "own.txt")
			must(t, os.WriteFile(src, []byte("own\n"), 0o644))
			_, err := Pack(ctx, dst, []string{src}, PackOptions{Tags: []string{"own"}})
			must(t, err)
			indexBefore, err := os.ReadFile(filepath.Join(dst, "index.json"))
			must(t, err)
			filesBefore := fileSet(t, parent)

			_, err = Import(ctx, dst, bytes.NewReader(tt.archive), ImportOptions{})
			t.Logf("Import() = %v", err)
			if err == nil {
				t.Fatal("Import() = nil, want a refusal")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Import() = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.names) {
				t.Errorf("Import() = %v, want a message naming %q", err, tt.names)
			}
			indexAfter, err := os.ReadFile(filepath.Join(dst, "index.json"))
			must(t, err)
			if !bytes.Equal(indexBefore, indexAfter) {
				t.Errorf("index.json changed:\n%s", indexAfter)
			}
			// Nothing new except verified blobs; nothing left in ingest/.
			for p, size := range fileSet(t, parent) {
				if _, ok := filesBefore[p]; ok {
					continue
				}
				if !strings.HasPrefix(p, filepath.Join("layout", "blobs", "sha256")+"/") || size < 0 {
					t.Errorf("Import() left %s", p)
					continue
				}
				data, err := os.ReadFile(filepath.Join(parent, p))
				must(t, err)
				if "sha256:"+filepath.Base(p) != digest.FromBytes(data).String() {
					t.Errorf("Import() left %s, which does not match its name", p)
				}
			}
			rep, err := verify.Verify(ctx, dst, verify.Options{})
			must(t, err)
			if !rep.OK() {
				var b bytes.Buffer
				rep.WriteText(&b)
				t.Errorf("the layout does not verify after the refusal:\n%s", b.String())
			}
		})
	}
}

func TestImportRoundTrip(t *testing.T) {
	dir, res := packedLayout(t, "v1")
	store, err := layout.Open(dir)
	must(t, err)
	referrer(t, store, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: res.Digest, Size: res.Size}, "sbom")
	data, _ := exportBytes(t, []string{dir}, ExportOptions{})
	dst := filepath.Join(t.TempDir(), "imported")
	got, err := Import(ctx, dst, bytes.NewReader(data), ImportOptions{})
	must(t, err)
	sameBlobs(t, dst, dir)
	want, err := os.ReadFile(filepath.Join(dir, "index.json"))
	must(t, err)
	have, err := os.ReadFile(filepath.Join(dst, "index.json"))
	must(t, err)
	if !bytes.Equal(want, have) {
		t.Errorf("index.json:\n%s\nwant\n%s", have, want)
	}
	if got.Written != got.Blobs || got.Archive.Digest != digest.FromBytes(data) || got.Archive.Size != int64(len(data)) || len(got.Entries) != 2 || got.Entries[0].Status != "added" {
		t.Errorf("Import() = %+v", got)
	}
	rep, err := verify.Verify(ctx, dst, verify.Options{Strict: true})
	must(t, err)
	if !rep.OK() || rep.Summary.Warnings != 0 {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Errorf("the imported layout does not verify clean:\n%s", b.String())
	}
	// And the import exports to the same bytes again.
	again, _ := exportBytes(t, []string{dst}, ExportOptions{})
	if !bytes.Equal(again, data) {
		t.Error("export of the imported layout differs from the original export")
	}
	// A second import writes nothing and changes nothing.
	second, err := Import(ctx, dst, bytes.NewReader(data), ImportOptions{})
	must(t, err)
	if second.Written != 0 || second.Entries[0].Status != "unchanged" {
		t.Errorf("second Import() = %+v", second)
	}
}

func TestImportMemberOrderAndPeers(t *testing.T) {
	good, _, _ := validMembers(t)
	// Blobs first, index.json last, "./" prefixes, a root directory entry,
	// GNU-format headers, docker save's files and a stray file.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(name string, tf byte, data []byte) {
		h := &tar.Header{Name: name, Typeflag: tf, Mode: 0o644, Size: int64(len(data)), Format: tar.FormatGNU}
		if tf == tar.TypeDir {
			h.Size = 0
		}
		must(t, tw.WriteHeader(h))
		_, err := tw.Write(data)
		must(t, err)
	}
	write("./", tar.TypeDir, nil)
	write("./blobs/", tar.TypeDir, nil)
	write("./blobs/sha256/", tar.TypeDir, nil)
	for i := len(good) - 1; i >= 2; i-- {
		write("./"+good[i].name, tar.TypeReg, good[i].data)
	}
	write("manifest.json", tar.TypeReg, []byte(`[]`))
	write("repositories", tar.TypeReg, []byte(`{}`))
	write("README.txt", tar.TypeReg, []byte(`hello`))
	write("./blobs/sha256/.tmp-123", tar.TypeReg, []byte(`partial`)) // a crashed writer's
	write("./index.json", tar.TypeReg, good[1].data)
	write("./oci-layout", tar.TypeReg, good[0].data)
	write("./index.json", tar.TypeReg, good[1].data) // the same bytes again: fine
	must(t, tw.Close())
	dst := filepath.Join(t.TempDir(), "L")
	res, err := Import(ctx, dst, &buf, ImportOptions{})
	must(t, err)
	sort.Strings(res.Warnings)
	if len(res.Warnings) != 4 || !strings.Contains(res.Warnings[0], ".tmp-123") || !strings.Contains(res.Warnings[1], "README.txt") || !strings.Contains(res.Warnings[2], "manifest.json") || !strings.Contains(res.Warnings[3], "repositories") {
		t.Errorf("warnings = %q", res.Warnings)
	}
	if len(res.Entries) != 1 || !reflect.DeepEqual(res.Entries[0].Tags, []string{"v1"}) {
		t.Errorf("entries = %+v", res.Entries)
	}
	for _, skipped := range []string{"README.txt", "blobs/sha256/.tmp-123"} {
		if _, err := os.Stat(filepath.Join(dst, skipped)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the skipped member %s was written", skipped)
		}
	}
}

func TestImportMerge(t *testing.T) {
	a, ra := packedLayout(t, "v1")
	dataA, _ := exportBytes(t, []string{a}, ExportOptions{})
	dst := filepath.Join(t.TempDir(), "dst")
	src := filepath.Join(t.TempDir(), "other.txt")
	must(t, os.WriteFile(src, []byte("other\n"), 0o644))
	rb, err := Pack(ctx, dst, []string{src}, PackOptions{Tags: []string{"v1", "keep"}})
	must(t, err)
	before, err := os.ReadFile(filepath.Join(dst, "index.json"))
	must(t, err)

	_, err = Import(ctx, dst, bytes.NewReader(dataA), ImportOptions{})
	if !errors.Is(err, layout.ErrTagConflict) || !strings.Contains(err.Error(), ra.Digest.String()) || !strings.Contains(err.Error(), rb.Digest.String()) {
		t.Fatalf("Import(conflicting tag) = %v, want ErrTagConflict naming both digests", err)
	}
	after, err := os.ReadFile(filepath.Join(dst, "index.json"))
	must(t, err)
	if !bytes.Equal(before, after) {
		t.Error("a refused merge changed index.json")
	}
	res, err := Import(ctx, dst, bytes.NewReader(dataA), ImportOptions{Force: true})
	must(t, err)
	if res.Entries[0].Status != layout.EntryMoved || res.Entries[0].Previous != rb.Digest {
		t.Errorf("Import(--force) entries = %+v", res.Entries)
	}
	store, err := layout.Open(dst)
	must(t, err)
	for tag, want := range map[string]digest.Digest{"v1": ra.Digest, "keep": rb.Digest} {
		desc, err := store.Resolve(ctx, layout.Reference{Path: dst, Tag: tag})
		must(t, err)
		if desc.Digest != want {
			t.Errorf("tag %s = %s, want %s", tag, desc.Digest, want)
		}
	}
}

func TestImportInterruptedThenRerun(t *testing.T) {
	dir, _ := packedLayout(t, "v1")
	data, _ := exportBytes(t, []string{dir}, ExportOptions{})
	hdrs := archiveHeaders(t, data)
	dst := filepath.Join(t.TempDir(), "dst")
	// Cut the stream in the middle of the last blob.
	last := int(hdrs[len(hdrs)-1].Size)
	cut := data[:len(data)-1024-(-last&511)-last/2]
	// Into a new layout, a refused import leaves nothing.
	_, err := Import(ctx, dst, bytes.NewReader(cut), ImportOptions{})
	if !errors.Is(err, layout.ErrBadArchive) {
		t.Fatalf("Import(truncated) = %v, want ErrBadArchive", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused import into a new layout left %s (%v)", dst, err)
	}
	// Into an existing one, it keeps the blobs it wrote for a re-run.
	_, err = layout.Create(ctx, dst)
	must(t, err)
	if _, err = Import(ctx, dst, bytes.NewReader(cut), ImportOptions{}); !errors.Is(err, layout.ErrBadArchive) {
		t.Fatalf("Import(truncated) = %v, want ErrBadArchive", err)
	}
	rep, err := verify.Verify(ctx, dst, verify.Options{})
	must(t, err)
	if !rep.OK() || rep.Summary.Bundles != 0 {
		t.Fatalf("after an interrupted import: %+v", rep.Summary)
	}
	res, err := Import(ctx, dst, bytes.NewReader(data), ImportOptions{})
	must(t, err)
	if res.Written != 1 || res.Blobs != len(hdrs)-4 {
		t.Errorf("re-run wrote %d of %d blobs, want only the one cut", res.Written, res.Blobs)
	}
	sameBlobs(t, dst, dir)
}

func TestImportIntoNonLayout(t *testing.T) {
	_, data, _ := validMembers(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "precious"), []byte("x"), 0o644))
	if _, err := Import(ctx, dir, bytes.NewReader(data), ImportOptions{}); !errors.Is(err, layout.ErrNotLayout) {
		t.Errorf("Import(into a non-layout directory) = %v, want ErrNotLayout", err)
	}
	if got := fileSet(t, dir); !reflect.DeepEqual(got, map[string]int64{".": got["."], "precious": 1}) {
		t.Errorf("the directory changed: %v", got)
	}
	// A garbage stream into a missing directory does not create it.
	missing := filepath.Join(t.TempDir(), "new")
	if _, err := Import(ctx, missing, strings.NewReader("garbage"), ImportOptions{}); !errors.Is(err, layout.ErrBadArchive) {
		t.Errorf("Import(garbage) = %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Import(garbage) created %s", missing)
	}
}

func FuzzImport(f *testing.F) {
	good, valid, _ := validMembers(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(buildArchive(f, append([]arcMember{{name: "evil", typeflag: tar.TypeSymlink, link: "/"}}, good...), nil, true))
	f.Add(buildArchive(f, good, append(rawHeader("././@LongLink", tar.TypeGNULongName, 11, gnuMagic), rawData([]byte("index.json\x00"))...), true))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "L")
		_, err := Import(ctx, dst, bytes.NewReader(data), ImportOptions{})
		for p := range fileSet(t, parent) {
			if p != "." && p != "L" && !strings.HasPrefix(p, "L/") {
				t.Fatalf("Import() wrote %s outside the layout", p)
			}
		}
		if _, serr := os.Stat(dst); serr != nil {
			return
		}
		if fs := fileSet(t, filepath.Join(dst, "ingest")); len(fs) > 1 {
			t.Fatalf("Import() = %v left %v in ingest/", err, fs)
		}
		rep, verr := verify.Verify(ctx, dst, verify.Options{})
		if verr != nil || !rep.OK() {
			var b bytes.Buffer
			if rep != nil {
				rep.WriteText(&b)
			}
			t.Fatalf("Import() = %v, and the layout does not verify: %v\n%s", err, verr, b.String())
		}
	})
}

// TestImportHoldsOffGC: the blobs an import has committed but not yet named
// in index.json are not collected by a gc that runs meanwhile.
func TestImportHoldsOffGC(t *testing.T) {
	_, data, res := validMembers(t)
	dst := filepath.Join(t.TempDir(), "dst")
	src := filepath.Join(t.TempDir(), "own.txt")
	must(t, os.WriteFile(src, []byte("own\n"), 0o644))
	_, err := Pack(ctx, dst, []string{src}, PackOptions{Tags: []string{"own"}})
	must(t, err)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Import(ctx, dst, pr, ImportOptions{})
		done <- err
	}()
	// Everything but the end-of-archive marker: every blob is committed.
	go pw.Write(data[:len(data)-1024])
	manifest := filepath.Join(dst, "blobs", "sha256", res.Digest.Encoded())
	for i := 0; ; i++ {
		if _, err := os.Stat(manifest); err == nil {
			break
		}
		if i > 2000 {
			t.Fatal("the import did not commit the manifest")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The import holds the blob lock shared: an exclusive lock (gc's) is
	// refused (a deterministic probe, not a wait), and a gc waits.
	if err := probeBlobLock(t, dst); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("probe of the blob lock during the import = %v, want EWOULDBLOCK", err)
	}
	gcDone := make(chan error, 1)
	go func() {
		_, err := GC(ctx, dst, GCOptions{})
		gcDone <- err
	}()
	go func() { pw.Write(data[len(data)-1024:]); pw.Close() }()
	must(t, <-done)
	must(t, <-gcDone)
	rep, err := verify.Verify(ctx, dst, verify.Options{})
	must(t, err)
	if !rep.OK() || rep.Summary.Bundles != 2 {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Errorf("after import and gc:\n%s", b.String())
	}
}

// A blob the layout already has is not written again, so the graph check
// must hash it (only blobs the import wrote are taken as hashed): a corrupt
// copy on disk fails the import, naming the blob, and index.json stays as
// it was.
func TestImportRehashesBlobsTheLayoutHad(t *testing.T) {
	dir, res := packedLayout(t, "v1")
	data, _ := exportBytes(t, []string{dir}, ExportOptions{})
	dst := filepath.Join(t.TempDir(), "dst")
	_, err := Import(ctx, dst, bytes.NewReader(data), ImportOptions{})
	must(t, err)
	store, err := layout.Open(dst)
	must(t, err)
	m, err := store.ReadManifest(ctx, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: res.Digest, Size: res.Size})
	must(t, err)
	layer := m.Layers[0]
	p, _ := layout.BlobPath(layer.Digest)
	blob := filepath.Join(dst, filepath.FromSlash(p))
	content, err := os.ReadFile(blob)
	must(t, err)
	content[len(content)/2] ^= 0xff // same size, other bytes
	must(t, os.Chmod(blob, 0o644))
	must(t, os.WriteFile(blob, content, 0o444))
	// The same bundle under a new tag: every blob is there already.
	must(t, os.WriteFile(filepath.Join(dst, "index.json"), []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`), 0o644))
	before, err := os.ReadFile(filepath.Join(dst, "index.json"))
	must(t, err)
	got, err := Import(ctx, dst, bytes.NewReader(data), ImportOptions{})
	if !errors.Is(err, verify.ErrFailed) || !strings.Contains(err.Error(), layer.Digest.Encoded()) || !strings.Contains(err.Error(), "DIGEST_MISMATCH") {
		t.Fatalf("Import over a corrupt blob = %+v, %v; want verify.ErrFailed naming %s", got, err, layer.Digest)
	}
	if got.Written != 0 {
		t.Errorf("Import wrote %d blobs; the layout had all of them", got.Written)
	}
	after, err := os.ReadFile(filepath.Join(dst, "index.json"))
	must(t, err)
	if !bytes.Equal(before, after) {
		t.Errorf("index.json changed by a failed import:\n%s", after)
	}
}
