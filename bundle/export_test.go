package bundle

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/verify"
)

// packedLayout packs the fixture into a new layout under a fresh temp dir,
// tagged with tags, and returns the layout's path and the pack result.
func packedLayout(t *testing.T, tags ...string) (string, PackResult) {
	t.Helper()
	dir := t.TempDir()
	paths := fixture(t, filepath.Join(dir, "src"))
	out := filepath.Join(dir, "layout")
	res, err := Pack(ctx, out, paths, PackOptions{Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

// exportBytes exports refs to memory.
func exportBytes(t *testing.T, refs []string, opts ExportOptions) ([]byte, ExportResult) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Export(ctx, &buf, refs, opts)
	if err != nil {
		t.Fatalf("Export(%v) = %v", refs, err)
	}
	if res.Archive.Size != int64(buf.Len()) || res.Archive.Digest != digest.FromBytes(buf.Bytes()) {
		t.Fatalf("Export() = %s %d, the bytes are %s %d", res.Archive.Digest, res.Archive.Size, digest.FromBytes(buf.Bytes()), buf.Len())
	}
	return buf.Bytes(), res
}

// archiveHeaders lists the headers of an archive, failing on bad tar.
func archiveHeaders(t *testing.T, data []byte) []*tar.Header {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var hdrs []*tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
	}
}

// archiveMember returns the content of one member.
func archiveMember(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("member %s: %v", name, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			must(t, err)
			return b
		}
	}
}

func TestExportDeterministicAndHeaders(t *testing.T) {
	a, res := packedLayout(t, "v1")
	b, _ := packedLayout(t, "v1") // another layout, built on another run
	one, r1 := exportBytes(t, []string{a}, ExportOptions{})
	two, _ := exportBytes(t, []string{a}, ExportOptions{})
	other, _ := exportBytes(t, []string{b + ":v1"}, ExportOptions{})
	if !bytes.Equal(one, two) || !bytes.Equal(one, other) {
		t.Fatal("two exports of the same content differ")
	}
	if len(r1.Bundles) != 1 || r1.Bundles[0].Digest != res.Digest || strings.Join(r1.Bundles[0].Tags, ",") != "v1" {
		t.Errorf("Export().Bundles = %+v, want v1 %s", r1.Bundles, res.Digest)
	}
	plan, err := planExport(ctx, []string{a}, false, nil)
	must(t, err)
	plan.release()
	if plan.total != int64(len(one)) {
		t.Errorf("planned size %d, the archive has %d bytes", plan.total, len(one))
	}
	hdrs := archiveHeaders(t, one)
	var names []string
	for _, h := range hdrs {
		names = append(names, h.Name)
		wantMode := int64(0o644)
		if h.Typeflag == tar.TypeDir {
			wantMode = 0o755
		}
		if h.Mode != wantMode || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: mode %o uid %d gid %d %q %q mtime %v", h.Name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime)
		}
		if h.Format != tar.FormatUSTAR || len(h.PAXRecords) > 0 {
			t.Errorf("%s: format %v, PAX %v: want plain USTAR", h.Name, h.Format, h.PAXRecords)
		}
	}
	// Parents before children: the manifest, then its config and layers.
	want := []string{"oci-layout", "index.json", "blobs/", "blobs/sha256/", "blobs/sha256/" + res.Digest.Encoded()}
	store, err := layout.Open(a)
	must(t, err)
	m, err := store.ReadManifest(ctx, ocispec.Descriptor{MediaType: res.MediaType, Digest: res.Digest, Size: res.Size})
	must(t, err)
	want = append(want, "blobs/sha256/"+m.Config.Digest.Encoded())
	for _, l := range m.Layers {
		want = append(want, "blobs/sha256/"+l.Digest.Encoded())
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("members = %q, want %q", names, want)
	}
	if got := archiveMember(t, one, "oci-layout"); string(got) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %s", got)
	}

	epoch := time.Unix(1700000000, 0)
	withEpoch, _ := exportBytes(t, []string{a}, ExportOptions{ModTime: epoch})
	for _, h := range archiveHeaders(t, withEpoch) {
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v, want SOURCE_DATE_EPOCH %v", h.Name, h.ModTime, epoch)
		}
	}
}

func TestExportSelectionAndReferrers(t *testing.T) {
	dir, v1 := packedLayout(t, "v1")
	src := filepath.Join(filepath.Dir(dir), "src2")
	must(t, os.MkdirAll(src, 0o755))
	must(t, os.WriteFile(filepath.Join(src, "other.txt"), []byte("other\n"), 0o644))
	v2, err := Pack(ctx, dir, []string{filepath.Join(src, "other.txt")}, PackOptions{Tags: []string{"v2"}})
	must(t, err)
	store, err := layout.Open(dir)
	must(t, err)
	// A signature of v1, and a signature of that signature, listed untagged.
	sig := referrer(t, store, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: v1.Digest, Size: v1.Size}, "sig")
	sigsig := referrer(t, store, sig, "sigsig")

	tests := []struct {
		name string
		refs []string
		opts ExportOptions
		want []digest.Digest
	}{
		{"whole layout", []string{dir}, ExportOptions{}, []digest.Digest{v1.Digest, v2.Digest, sig.Digest, sigsig.Digest}},
		{"tag with referrers", []string{dir + ":v1"}, ExportOptions{}, []digest.Digest{v1.Digest, sig.Digest, sigsig.Digest}},
		{"tag without referrers", []string{dir + ":v1"}, ExportOptions{NoReferrers: true}, []digest.Digest{v1.Digest}},
		{"other tag has none", []string{dir + ":v2"}, ExportOptions{}, []digest.Digest{v2.Digest}},
		{"digest and tag", []string{dir + "@" + v2.Digest.String(), dir + ":v1"}, ExportOptions{NoReferrers: true}, []digest.Digest{v2.Digest, v1.Digest}},
		{"same tag twice", []string{dir + ":v2", dir + ":v2"}, ExportOptions{}, []digest.Digest{v2.Digest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, res := exportBytes(t, tt.refs, tt.opts)
			idx, err := layout.ParseIndex(archiveMember(t, data, "index.json"))
			must(t, err)
			var got []digest.Digest
			for _, m := range idx.Manifests {
				got = append(got, m.Digest)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("index.json manifests = %v, want %v", got, tt.want)
			}
			if len(res.Bundles) != len(tt.want) {
				t.Errorf("Bundles = %+v", res.Bundles)
			}
			// Referrers describes the bundles that travel as referrers,
			// as push and pull describe theirs.
			var marked, described []digest.Digest
			for _, b := range res.Bundles {
				if b.Referrer {
					marked = append(marked, b.Digest)
				}
			}
			for _, r := range res.Referrers {
				described = append(described, r.Digest)
				if r.Created != referrerCreated || !strings.HasPrefix(r.ArtifactType, "application/vnd.test.sig") {
					t.Errorf("Referrers: %+v, want its artifact type and created time", r)
				}
			}
			if res.Referrers == nil || !reflect.DeepEqual(described, marked) {
				t.Errorf("Referrers = %+v, want a non-nil list of %v", res.Referrers, marked)
			}
			// Every blob of the graph is there once.
			seen := map[string]bool{}
			for _, h := range archiveHeaders(t, data) {
				if seen[h.Name] {
					t.Errorf("%s twice", h.Name)
				}
				seen[h.Name] = true
			}
		})
	}
	if _, err := Export(ctx, io.Discard, []string{dir, t.TempDir()}, ExportOptions{}); !errors.Is(err, layout.ErrBadReference) {
		t.Errorf("Export(two layouts) = %v, want ErrBadReference", err)
	}
	if _, err := Export(ctx, io.Discard, []string{dir + ":nope"}, ExportOptions{}); !errors.Is(err, layout.ErrTagNotFound) {
		t.Errorf("Export(missing tag) = %v, want ErrTagNotFound", err)
	}
}

// referrerCreated is the created annotation of every referrer the tests
// attach.
const referrerCreated = "2025-01-02T03:04:05Z"

// referrer stores a manifest whose subject is subject and lists it untagged.
func referrer(t *testing.T, store *layout.Store, subject ocispec.Descriptor, kind string) ocispec.Descriptor {
	t.Helper()
	cfg, err := store.PutBytes(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	must(t, err)
	payload, err := store.PutBytes(ctx, "application/vnd.test."+kind, []byte(kind+" payload"))
	must(t, err)
	m := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test." + kind,
		Config: cfg, Layers: []ocispec.Descriptor{payload}, Subject: &subject,
		Annotations: map[string]string{ocispec.AnnotationCreated: referrerCreated},
	}
	m.SchemaVersion = 2
	data, err := json.Marshal(m)
	must(t, err)
	desc, err := store.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	must(t, err)
	desc.ArtifactType = m.ArtifactType
	must(t, store.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.AddUntagged(idx, desc) }))
	return desc
}

// corruptBlob rewrites a blob in place with different bytes of the same size.
func corruptBlob(t *testing.T, dir string, d digest.Digest) string {
	t.Helper()
	p := filepath.Join(dir, "blobs", "sha256", d.Encoded())
	data, err := os.ReadFile(p)
	must(t, err)
	data[len(data)/2] ^= 0xff
	must(t, os.Chmod(p, 0o644))
	must(t, os.WriteFile(p, data, 0o644))
	return "blobs/sha256/" + d.Encoded()
}

func TestExportCorruptLayout(t *testing.T) {
	dir, res := packedLayout(t, "v1")
	name := corruptBlob(t, dir, res.Layers[0].Digest)
	out := filepath.Join(t.TempDir(), "out.tar")
	_, err := ExportFile(ctx, out, []string{dir}, ExportOptions{})
	if !errors.Is(err, layout.ErrDigestMismatch) || !strings.Contains(err.Error(), name) {
		t.Fatalf("ExportFile(corrupt layer) = %v, want ErrDigestMismatch naming %s", err, name)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 0 {
		t.Errorf("a failed export left %v", entries)
	}

	// A missing blob is found before anything is written.
	dir2, res2 := packedLayout(t, "v1")
	must(t, os.Remove(filepath.Join(dir2, "blobs", "sha256", res2.Layers[1].Digest.Encoded())))
	var buf bytes.Buffer
	if _, err := Export(ctx, &buf, []string{dir2}, ExportOptions{}); !errors.Is(err, layout.ErrBlobNotFound) || buf.Len() != 0 {
		t.Errorf("Export(missing blob) = %v after %d bytes, want ErrBlobNotFound before any", err, buf.Len())
	}
}

// TestExportVerifiesFirst: export checks what it sends as import checks
// what it receives (verifyGraph): a referrer going along whose config
// descriptor's data is not the blob fails the export with
// verify.ErrFailed naming it, before one byte is written; with
// NoReferrers the bundle alone is exported. (Before, the archive carried
// the bad data, for import to refuse at the other end of the gap.)
func TestExportVerifiesFirst(t *testing.T) {
	dir, res := packedLayout(t, "v1")
	store, err := layout.Open(dir)
	must(t, err)
	cfg, err := store.PutBytes(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	must(t, err)
	cfg.Data = []byte("[]") // two bytes, as {}, with another digest
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.test.sig", Config: cfg,
		Layers: []ocispec.Descriptor{cfg}, Subject: &ocispec.Descriptor{MediaType: res.MediaType, Digest: res.Digest, Size: res.Size}}
	m.SchemaVersion = 2
	data, err := json.Marshal(m)
	must(t, err)
	sig, err := store.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	must(t, err)
	must(t, store.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.AddUntagged(idx, sig) }))

	var buf bytes.Buffer
	_, err = Export(ctx, &buf, []string{dir + ":v1"}, ExportOptions{})
	if !errors.Is(err, verify.ErrFailed) || !strings.Contains(err.Error(), sig.Digest.Encoded()) || buf.Len() != 0 {
		t.Errorf("Export(referrer with bad data) = %v after %d bytes, want verify.ErrFailed naming %s before any", err, buf.Len(), sig.Digest)
	}
	exportBytes(t, []string{dir + ":v1"}, ExportOptions{NoReferrers: true})
}

func TestSplitExport(t *testing.T) {
	dir, _ := packedLayout(t, "v1")
	whole, _ := exportBytes(t, []string{dir}, ExportOptions{})
	out := t.TempDir()
	file := filepath.Join(out, "bundle.tar")
	const size = 1000
	res, err := ExportFile(ctx, file, []string{dir}, ExportOptions{Split: size})
	must(t, err)
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a split export wrote %s too", file)
	}
	wantParts := (len(whole) + size - 1) / size
	if len(res.Archive.Parts) != wantParts {
		t.Fatalf("%d parts, want %d", len(res.Archive.Parts), wantParts)
	}
	var joined []byte
	for i, p := range res.Archive.Parts {
		data, err := os.ReadFile(p.Name)
		must(t, err)
		if p.Name != PartName(file, i, wantParts) || len(data) > size || int64(len(data)) != p.Size || digest.FromBytes(data) != p.Digest {
			t.Errorf("part %d: %s %d bytes %s", i, p.Name, len(data), p.Digest)
		}
		joined = append(joined, data...)
	}
	if !bytes.Equal(joined, whole) || res.Archive.Digest != digest.FromBytes(whole) {
		t.Fatal("the joined parts differ from the single-file export")
	}
	list, err := os.ReadFile(res.Archive.ChecksumFile)
	must(t, err)
	lines := strings.Split(strings.TrimSuffix(string(list), "\n"), "\n")
	if len(lines) != wantParts+1 || lines[len(lines)-1] != res.Archive.Digest.Encoded()+"  bundle.tar" || lines[0] != res.Archive.Parts[0].Digest.Encoded()+"  bundle.tar.000" {
		t.Errorf("checksum list:\n%s", list)
	}
	// A second split export is byte-identical.
	file2 := filepath.Join(t.TempDir(), "bundle.tar")
	res2, err := ExportFile(ctx, file2, []string{dir}, ExportOptions{Split: size})
	must(t, err)
	for i := range res.Archive.Parts {
		if res.Archive.Parts[i].Digest != res2.Archive.Parts[i].Digest {
			t.Errorf("part %d differs between two exports", i)
		}
	}
	// sha256sum reads the list.
	if sum, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sum, "-c", "--ignore-missing", filepath.Base(res.Archive.ChecksumFile))
		cmd.Dir = out
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, b)
		}
		must(t, os.WriteFile(file, joined, 0o644))
		cmd = exec.Command(sum, "-c", filepath.Base(res.Archive.ChecksumFile))
		cmd.Dir = out
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c with the joined archive: %v\n%s", err, b)
		}
		must(t, os.Remove(file))
	}

	t.Run("import from the list", func(t *testing.T) {
		parts, wholeSum, err := ReadChecksumFile(res.Archive.ChecksumFile)
		must(t, err)
		dst := filepath.Join(t.TempDir(), "imported")
		r := NewPartsReader(parts, wholeSum)
		_, err = Import(ctx, dst, r, ImportOptions{})
		must(t, r.Explain(err))
		sameBlobs(t, dst, dir)
	})
	t.Run("import from the parts", func(t *testing.T) {
		var parts []Part
		for _, p := range res.Archive.Parts {
			parts = append(parts, Part{Name: p.Name})
		}
		dst := filepath.Join(t.TempDir(), "imported")
		_, err := Import(ctx, dst, NewPartsReader(parts, ""), ImportOptions{})
		must(t, err)
		sameBlobs(t, dst, dir)
	})
	t.Run("a damaged part is named", func(t *testing.T) {
		for _, victim := range []int{0, 2, len(res.Archive.Parts) - 1} {
			data, err := os.ReadFile(res.Archive.Parts[victim].Name)
			must(t, err)
			bad := bytes.Clone(data)
			bad[len(bad)/3] ^= 0x55
			must(t, os.WriteFile(res.Archive.Parts[victim].Name, bad, 0o644))
			parts, wholeSum, err := ReadChecksumFile(res.Archive.ChecksumFile)
			must(t, err)
			dst := filepath.Join(t.TempDir(), "imported")
			r := NewPartsReader(parts, wholeSum)
			_, err = Import(ctx, dst, r, ImportOptions{})
			err = r.Explain(err)
			if !errors.Is(err, ErrBadPart) || !strings.Contains(err.Error(), filepath.Base(res.Archive.Parts[victim].Name)) {
				t.Errorf("import with part %d damaged = %v, want ErrBadPart naming it", victim, err)
			}
			must(t, os.WriteFile(res.Archive.Parts[victim].Name, data, 0o644))
		}
	})
	t.Run("parts named on the command line find their list", func(t *testing.T) {
		var names []string
		for _, p := range res.Archive.Parts {
			names = append(names, p.Name)
		}
		parts, wholeSum, err := PartsFromArgs(names)
		must(t, err)
		if wholeSum != res.Archive.Digest || parts[1].Digest != res.Archive.Parts[1].Digest {
			t.Errorf("PartsFromArgs() = %v, %s: the list's digests not used", parts, wholeSum)
		}
		// Not parts of one FILE: read unchecked.
		for _, args := range [][]string{{filepath.Join(out, "other.bin"), names[0]}, {names[0], filepath.Join(out, "x.tar.001")}} {
			parts, wholeSum, err := PartsFromArgs(args)
			if err != nil || wholeSum != "" || parts[0].Digest != "" || len(parts) != len(args) {
				t.Errorf("PartsFromArgs(%v) = %v, %q, %v, want unchecked parts", args, parts, wholeSum, err)
			}
		}
		// Fewer parts than the list names, or out of order: an error.
		for _, args := range [][]string{names[:len(names)-1], names[1:], append([]string{names[1], names[0]}, names[2:]...)} {
			if _, _, err := PartsFromArgs(args); !errors.Is(err, ErrBadInput) {
				t.Errorf("PartsFromArgs(%v) = %v, want ErrBadInput", args, err)
			}
		}
	})
	t.Run("bad lists", func(t *testing.T) {
		for _, text := range []string{
			"", "nothex  bundle.tar.000\nabc  bundle.tar\n",
			strings.Repeat("a", 64) + "  ../etc/passwd\n" + strings.Repeat("b", 64) + "  bundle.tar\n",
			strings.Repeat("a", 64) + "  /etc/passwd\n" + strings.Repeat("b", 64) + "  bundle.tar\n",
			strings.Repeat("a", 64) + "  bundle.tar\n",
		} {
			p := filepath.Join(t.TempDir(), "x.sha256")
			must(t, os.WriteFile(p, []byte(text), 0o644))
			if _, _, err := ReadChecksumFile(p); !errors.Is(err, ErrBadInput) {
				t.Errorf("ReadChecksumFile(%q) = %v, want ErrBadInput", text, err)
			}
		}
	})
}

// sameBlobs fails unless the layouts hold the same blobs with the same
// bytes (ingest/ aside).
func sameBlobs(t *testing.T, got, want string) {
	t.Helper()
	read := func(dir string) map[string][]byte {
		m := map[string][]byte{}
		root := filepath.Join(dir, "blobs")
		must(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			m[strings.TrimPrefix(p, root)] = b
			return err
		}))
		return m
	}
	g, w := read(got), read(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s has %d blobs, %s has %d, or their bytes differ", got, len(g), want, len(w))
	}
}

// TestExportHoldsOffGC: a gc that starts while an export streams waits for
// it, so the export never loses a blob it planned to write, even when the
// bundle is untagged meanwhile.
func TestExportHoldsOffGC(t *testing.T) {
	dir, _ := packedLayout(t, "v1")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Export(ctx, pw, []string{dir + ":v1"}, ExportOptions{})
		pw.CloseWithError(err)
		done <- err
	}()
	// The export has planned and written its first bytes: it holds the lock.
	head := make([]byte, 512)
	if _, err := io.ReadFull(pr, head); err != nil {
		t.Fatal(err)
	}
	if _, err := Untag(ctx, dir+":v1"); err != nil {
		t.Fatal(err)
	}
	// The export holds the blob lock shared: an exclusive lock (gc's) is
	// refused (a deterministic probe, not a wait), and a gc waits.
	if err := probeBlobLock(t, dir); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("probe of the blob lock during the export = %v, want EWOULDBLOCK", err)
	}
	gcDone := make(chan error, 1)
	go func() {
		_, err := GC(ctx, dir, GCOptions{})
		gcDone <- err
	}()
	rest, err := io.ReadAll(pr)
	if err != nil {
		t.Fatalf("the export failed: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	must(t, <-gcDone)
	data := append(head, rest...)
	dst := filepath.Join(t.TempDir(), "dst")
	if _, err := Import(ctx, dst, bytes.NewReader(data), ImportOptions{}); err != nil {
		t.Errorf("the export made during a gc does not import: %v", err)
	}
}

// TestPartsReaderExplain: whether the consumer fails before the damaged
// part ends, after it, or on bytes read ahead, Explain names the part.
func TestPartsReaderExplain(t *testing.T) {
	dir := t.TempDir()
	var parts []Part
	var all []byte
	for i := 0; i < 3; i++ {
		data := bytes.Repeat([]byte{byte('a' + i)}, 100)
		name := PartName(filepath.Join(dir, "x"), i, 3)
		must(t, os.WriteFile(name, data, 0o644))
		parts = append(parts, Part{Name: name, Digest: digest.FromBytes(data)})
		all = append(all, data...)
	}
	whole := digest.FromBytes(all)
	must(t, os.WriteFile(parts[1].Name, bytes.Repeat([]byte{'z'}, 100), 0o644))
	symptom := errors.New("symptom")
	r := NewPartsReader(parts, whole)
	io.ReadFull(r, make([]byte, 50))
	if err := r.Explain(symptom); err != symptom {
		t.Errorf("failing in an intact part: Explain() = %v, want the symptom", err)
	}
	for _, readFirst := range []int{150, 199, 250} {
		r := NewPartsReader(parts, whole)
		_, rerr := io.ReadFull(r, make([]byte, readFirst))
		err := r.Explain(symptom)
		if !errors.Is(err, ErrBadPart) || !strings.Contains(err.Error(), "x.001") {
			t.Errorf("after reading %d bytes (%v): Explain() = %v, want ErrBadPart naming x.001", readFirst, rerr, err)
		}
		r.Close()
	}
	// Intact parts: the symptom stays, and a full read ends with io.EOF.
	must(t, os.WriteFile(parts[1].Name, bytes.Repeat([]byte{'b'}, 100), 0o644))
	r = NewPartsReader(parts, whole)
	if err := r.Explain(symptom); err != symptom {
		t.Errorf("Explain() on intact parts = %v", err)
	}
	got, err := io.ReadAll(NewPartsReader(parts, whole))
	if err != nil || !bytes.Equal(got, all) {
		t.Errorf("ReadAll() = %d bytes, %v", len(got), err)
	}
	if _, err := io.ReadAll(NewPartsReader(parts, digest.FromString("other"))); !errors.Is(err, ErrBadPart) {
		t.Errorf("ReadAll() with another whole digest = %v, want ErrBadPart", err)
	}
}

// TestInspectReferrers: inspect lists the manifests whose subject is the
// inspected one, with artifact type, digest, media type, size and created,
// in text and JSON; a manifest without referrers gets an empty array.
func TestInspectReferrers(t *testing.T) {
	dir, res := packedLayout(t, "v1")
	store, err := layout.Open(dir)
	must(t, err)
	root, err := store.Resolve(ctx, layout.Reference{Path: dir, Tag: "v1"})
	must(t, err)
	in, err := Inspect(ctx, dir+":v1")
	if err != nil || in.Referrers == nil || len(in.Referrers) != 0 {
		t.Fatalf("Inspect(no referrers) = %+v, %v, want an empty array", in.Referrers, err)
	}
	sig := referrer(t, store, root, "sig")
	in, err = Inspect(ctx, dir+":v1")
	must(t, err)
	want := Referrer{ArtifactType: "application/vnd.test.sig", Digest: sig.Digest, MediaType: ocispec.MediaTypeImageManifest, Size: sig.Size, Created: referrerCreated}
	if len(in.Referrers) != 1 || in.Referrers[0] != want {
		t.Fatalf("Inspect(%s).Referrers = %+v, want [%+v]", res.Digest, in.Referrers, want)
	}
	var text bytes.Buffer
	must(t, WriteInspectText(&text, in))
	if !strings.Contains(text.String(), "Referrers:") || !strings.Contains(text.String(), sig.Digest.String()) {
		t.Errorf("inspect text does not list the referrer %s:\n%s", sig.Digest, text.String())
	}
}

// TestParseExportRefsOneLayout: one layout spelt relative, with "./" and a
// trailing "/", or absolute is one layout; another directory is refused.
func TestParseExportRefsOneLayout(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	abs := filepath.Join(dir, "L")
	refs, err := parseExportRefs([]string{"L:alpha", "./L/:beta", abs + ":gamma"})
	if err != nil || len(refs) != 3 {
		t.Fatalf("parseExportRefs(one layout, three spellings) = %v, %v; want three references", refs, err)
	}
	if _, err := parseExportRefs([]string{"L:alpha", "M:beta"}); !errors.Is(err, fs.ErrNotExist) || err.Error() != "M: no such file or directory" {
		t.Errorf("parseExportRefs(a missing second path) = %v, want M: no such file or directory", err)
	}
	must(t, os.Mkdir(filepath.Join(dir, "M"), 0o755))
	if _, err := parseExportRefs([]string{"L:alpha", "M:beta"}); !errors.Is(err, layout.ErrBadReference) {
		t.Errorf("parseExportRefs(two layouts) = %v, want layout.ErrBadReference", err)
	}
}
