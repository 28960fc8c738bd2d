package bundle

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/inventory"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/verify"
)

// deltaSender is a sender's layout with two releases of a bundle of a
// firmware layer (fwSize random bytes, the same in both) and an app layer
// that changes: tags "1" and "2".
type deltaSender struct {
	dir      string
	r1, r2   PackResult
	firmware ocispec.Descriptor // the layer both releases share
}

const fwSize = 1 << 20

var deltaEpoch = time.Unix(1700000000, 0)

func newDeltaSender(t *testing.T) deltaSender {
	t.Helper()
	root := t.TempDir()
	fw := make([]byte, fwSize)
	rng := rand.New(rand.NewPCG(15, 15))
	for i := range fw {
		fw[i] = byte(rng.Uint32())
	}
	s := deltaSender{dir: filepath.Join(root, "sender")}
	for i, app := range []string{"release one\n", "release two\n"} {
		src := filepath.Join(root, "src", string(rune('1'+i)))
		must(t, os.MkdirAll(filepath.Join(src, "firmware"), 0o755))
		must(t, os.MkdirAll(filepath.Join(src, "app"), 0o755))
		must(t, os.WriteFile(filepath.Join(src, "firmware", "fw.bin"), fw, 0o644))
		must(t, os.WriteFile(filepath.Join(src, "app", "notes.txt"), []byte(app), 0o644))
		for _, p := range []string{"firmware/fw.bin", "app/notes.txt", "firmware", "app"} {
			must(t, os.Chtimes(filepath.Join(src, p), deltaEpoch, deltaEpoch)) // the same firmware layer
		}
		res, err := Pack(ctx, s.dir, []string{filepath.Join(src, "firmware"), filepath.Join(src, "app")}, PackOptions{Tags: []string{string(rune('1' + i))}})
		must(t, err)
		if i == 0 {
			s.r1 = res
		} else {
			s.r2 = res
		}
	}
	l := s.r1.Layers[0]
	s.firmware = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerZstd, Digest: l.Digest, Size: l.Size}
	if s.r2.Layers[0].Digest != s.firmware.Digest {
		t.Fatalf("the releases' firmware layers differ: %s, %s", s.firmware.Digest, s.r2.Layers[0].Digest)
	}
	return s
}

// site imports release 1's full archive into a new layout and returns it.
func (s deltaSender) site(t *testing.T) string {
	t.Helper()
	full, _ := exportBytes(t, []string{s.dir + ":1"}, ExportOptions{})
	site := filepath.Join(t.TempDir(), "site")
	if _, err := Import(ctx, site, bytes.NewReader(full), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return site
}

// baseOf inventories a layout (or archive) as export --since reads it.
func baseOf(t *testing.T, target string) *Base {
	t.Helper()
	b, err := OpenBase(ctx, target, nil, nil)
	if err != nil {
		t.Fatalf("OpenBase(%s) = %v", target, err)
	}
	return &b
}

// copyTree copies the layout src to dst (os.CopyFS: blobs become
// writable, in both copies a test compares).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	must(t, os.CopyFS(dst, os.DirFS(src)))
}

// treeFiles maps every file below dir (but the lock files) to its mode and
// bytes.
func treeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			out[rel] = fi.Mode().String()
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = fi.Mode().String() + " " + string(data)
		return nil
	}))
	return out
}

func sameLayout(t *testing.T, got, want string) {
	t.Helper()
	g, w := treeFiles(t, got), treeFiles(t, want)
	for name, wv := range w {
		if gv, ok := g[name]; !ok {
			t.Errorf("%s: missing after the delta import", name)
		} else if gv != wv {
			t.Errorf("%s differs from the full import's (%.80q, want %.80q)", name, gv, wv)
		}
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			t.Errorf("%s: only after the delta import", name)
		}
	}
}

func TestInventory(t *testing.T) {
	s := newDeltaSender(t)
	site := s.site(t)
	res, err := Inventory(ctx, site, nil, nil)
	must(t, err)
	inv := res.Inventory
	// Release 1: manifest, empty config, two layers; the tag.
	if len(inv.Blobs) != 4 || res.Blobs != 4 {
		t.Fatalf("Inventory() lists %d blobs, want 4: %v", len(inv.Blobs), inv.Blobs)
	}
	if !inv.Has(s.firmware) {
		t.Errorf("Inventory() does not list the firmware layer %s", s.firmware.Digest)
	}
	for _, b := range inv.Blobs {
		if b.Digest == s.firmware.Digest && b.MediaType != s.firmware.MediaType {
			t.Errorf("firmware listed as %q, want %q", b.MediaType, s.firmware.MediaType)
		}
	}
	if inv.Tags["1"] != s.r1.Digest || len(inv.Tags) != 1 {
		t.Errorf("Inventory().Tags = %v, want 1 -> %s", inv.Tags, s.r1.Digest)
	}
	data := inv.Marshal()
	if res.File.Digest != digest.FromBytes(data) || res.File.Size != int64(len(data)) {
		t.Errorf("Inventory().File = %s %d, the bytes are %s %d", res.File.Digest, res.File.Size, digest.FromBytes(data), len(data))
	}
	// Deterministic, and read back as written.
	again, err := Inventory(ctx, site, nil, nil)
	must(t, err)
	if !bytes.Equal(again.Inventory.Marshal(), data) {
		t.Errorf("two inventories of one layout differ:\n%s\n%s", data, again.Inventory.Marshal())
	}
	file := filepath.Join(t.TempDir(), "site.inventory")
	must(t, WriteInventory(ctx, file, &res))
	read, d, err := inventory.Read(file)
	must(t, err)
	if d != res.File.Digest || !bytes.Equal(read.Marshal(), data) {
		t.Errorf("inventory.Read() = %s, want %s", d, res.File.Digest)
	}
	// The inventory of the archive the site imported is the site's.
	full, _ := exportBytes(t, []string{s.dir + ":1"}, ExportOptions{})
	fromArchive, err := Inventory(ctx, "full.tar", bytes.NewReader(full), nil)
	must(t, err)
	if fromArchive.File.Digest != res.File.Digest {
		t.Errorf("inventory of the archive = %s, of the layout it gave %s", fromArchive.File.Digest, res.File.Digest)
	}
	// A blob that fails verification is not listed.
	loc := corruptBlob(t, site, s.firmware.Digest)
	bad, err := Inventory(ctx, site, nil, nil)
	must(t, err)
	if bad.Inventory.Has(s.firmware) || len(bad.Inventory.Blobs) != 3 {
		t.Errorf("a corrupted blob is listed: %v", bad.Inventory.Blobs)
	}
	if len(bad.Unlisted) == 0 || !strings.Contains(strings.Join(bad.Unlisted, "\n"), loc) {
		t.Errorf("Inventory().Unlisted = %q, want %s named", bad.Unlisted, loc)
	}
}

func TestDeltaRoundTrip(t *testing.T) {
	s := newDeltaSender(t)
	site := s.site(t)
	base := baseOf(t, site)
	delta, res := exportBytes(t, []string{s.dir + ":2"}, ExportOptions{Since: base})
	full, _ := exportBytes(t, []string{s.dir + ":2"}, ExportOptions{})

	// What travels: every document, only the blobs the base lacks.
	if res.Delta == nil || res.Delta.Base != base.Digest || res.Delta.LeftOut != 1 || res.Delta.LeftOutSize != s.firmware.Size {
		t.Fatalf("Export().Delta = %+v, want base %s and the firmware left out (the config travels)", res.Delta, base.Digest)
	}
	members := map[string]bool{}
	for _, h := range archiveHeaders(t, delta) {
		members[h.Name] = true
	}
	if members["blobs/sha256/"+s.firmware.Digest.Encoded()] {
		t.Errorf("the delta carries the firmware layer the base holds")
	}
	for _, d := range []digest.Digest{s.r2.Digest, ocispec.DescriptorEmptyJSON.Digest, s.r2.Layers[1].Digest} {
		if !members["blobs/sha256/"+d.Encoded()] {
			t.Errorf("the delta lacks %s (manifest, config, changed layer): %v", d, members)
		}
	}
	if changed := s.r2.Layers[1].Size; int64(len(delta)) > changed+16<<10 || int64(len(delta)) > int64(len(full))-fwSize {
		t.Errorf("delta is %d bytes (full %d, changed layer %d)", len(delta), len(full), changed)
	}
	idx := parseIndexMember(t, delta)
	if got := idx.Annotations[profile.AnnotationDeltaBase]; got != base.Digest.String() {
		t.Errorf("delta index.json names the base %q, want %s", got, base.Digest)
	}
	// Deterministic; the base read from the archive the site imported is
	// the same base.
	again, _ := exportBytes(t, []string{s.dir + ":2"}, ExportOptions{Since: base})
	if !bytes.Equal(again, delta) {
		t.Errorf("two delta exports differ")
	}
	full1 := filepath.Join(t.TempDir(), "full1.tar")
	b1, _ := exportBytes(t, []string{s.dir + ":1"}, ExportOptions{})
	must(t, os.WriteFile(full1, b1, 0o644))
	if fromArchive := baseOf(t, full1); fromArchive.Digest != base.Digest {
		t.Errorf("base of the archive %s, of the site %s", fromArchive.Digest, base.Digest)
	}

	// Imported at the site, the delta gives what the full archive gives.
	viaDelta, viaFull := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	copyTree(t, site, viaDelta)
	copyTree(t, site, viaFull)
	ires, err := Import(ctx, viaDelta, bytes.NewReader(delta), ImportOptions{})
	must(t, err)
	if ires.Delta != base.Digest.String() {
		t.Errorf("Import().Delta = %q, want %s", ires.Delta, base.Digest)
	}
	_, err = Import(ctx, viaFull, bytes.NewReader(full), ImportOptions{})
	must(t, err)
	sameLayout(t, viaDelta, viaFull)
	if rep, err := verify.Verify(ctx, viaDelta, verify.Options{Deep: true}); err != nil || !rep.OK() {
		t.Errorf("verify --deep of the site after the delta: %v %v", err, rep.Findings)
	}
}

// parseIndexMember returns the archive's index.json.
func parseIndexMember(t *testing.T, archive []byte) ocispec.Index {
	t.Helper()
	doc, err := layout.ParseDocument(archiveMember(t, archive, "index.json"), ocispec.MediaTypeImageIndex)
	must(t, err)
	return doc.Index()
}

func TestDeltaImportRefused(t *testing.T) {
	s := newDeltaSender(t)
	site := s.site(t)
	base := baseOf(t, site)
	delta, _ := exportBytes(t, []string{s.dir + ":2"}, ExportOptions{Since: base})
	fwName := "blobs/sha256/" + s.firmware.Digest.Encoded()
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   []string
	}{
		{"empty layout", func(t *testing.T, dir string) {}, []string{fwName + ": missing"}},
		{"missing firmware", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, filepath.FromSlash(fwName))))
		}, []string{fwName + ": missing"}},
		{"corrupted firmware", func(t *testing.T, dir string) {
			corruptBlob(t, dir, s.firmware.Digest)
		}, []string{fwName + ": digest mismatch"}},
		{"truncated firmware", func(t *testing.T, dir string) {
			p := filepath.Join(dir, filepath.FromSlash(fwName))
			must(t, os.Chmod(p, 0o644))
			must(t, os.Truncate(p, 100))
		}, []string{fwName + ": size mismatch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "site")
			if tt.name != "empty layout" {
				copyTree(t, site, dir)
			} else {
				_, err := layout.Create(ctx, dir)
				must(t, err)
			}
			tt.damage(t, dir)
			before, err := os.ReadFile(filepath.Join(dir, "index.json"))
			must(t, err)
			_, err = Import(ctx, dir, bytes.NewReader(delta), ImportOptions{})
			if !errors.Is(err, ErrDeltaBase) {
				t.Fatalf("Import() = %v, want ErrDeltaBase", err)
			}
			for _, w := range append(tt.want, base.Digest.String()) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Import() = %v, want %q named", err, w)
				}
			}
			after, err := os.ReadFile(filepath.Join(dir, "index.json"))
			must(t, err)
			if !bytes.Equal(before, after) {
				t.Errorf("index.json changed:\n%s\n%s", before, after)
			}
		})
	}
	// extract ARCHIVE needs a full archive: it names the base.
	archive := filepath.Join(t.TempDir(), "delta.tar")
	must(t, os.WriteFile(archive, delta, 0o644))
	_, err := Extract(ctx, archive, filepath.Join(t.TempDir(), "out"), ExtractOptions{})
	if !errors.Is(err, ErrDeltaBase) || !strings.Contains(err.Error(), base.Digest.String()) {
		t.Errorf("Extract(delta) = %v, want ErrDeltaBase naming %s", err, base.Digest)
	}
}

func TestDeltaSplitAndReferrers(t *testing.T) {
	s := newDeltaSender(t)
	site := s.site(t)
	base := baseOf(t, site)
	store, err := layout.Open(s.dir)
	must(t, err)
	ref := referrer(t, store, ocispec.Descriptor{MediaType: s.r2.MediaType, Digest: s.r2.Digest, Size: s.r2.Size}, "sbom")
	out := filepath.Join(t.TempDir(), "delta.tar")
	res, err := ExportFile(ctx, out, []string{s.dir + ":2"}, ExportOptions{Since: base, Split: 2048})
	must(t, err)
	if len(res.Archive.Parts) < 2 || len(res.Referrers) != 1 || res.Referrers[0].Digest != ref.Digest {
		t.Fatalf("ExportFile() = %d parts, referrers %v; want several parts and %s", len(res.Archive.Parts), res.Referrers, ref.Digest)
	}
	full, _ := exportBytes(t, []string{s.dir + ":2"}, ExportOptions{})
	viaDelta, viaFull := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	copyTree(t, site, viaDelta)
	copyTree(t, site, viaFull)
	parts, whole, err := ReadChecksumFile(res.Archive.ChecksumFile)
	must(t, err)
	pr := NewPartsReader(parts, whole)
	_, err = Import(ctx, viaDelta, pr, ImportOptions{})
	pr.Close()
	must(t, err)
	_, err = Import(ctx, viaFull, bytes.NewReader(full), ImportOptions{})
	must(t, err)
	sameLayout(t, viaDelta, viaFull)
}

func TestVerifyDelta(t *testing.T) {
	s := newDeltaSender(t)
	site := s.site(t)
	base := baseOf(t, site)
	delta, _ := exportBytes(t, []string{s.dir + ":2"}, ExportOptions{Since: base})
	archive := filepath.Join(t.TempDir(), "delta.tar")
	must(t, os.WriteFile(archive, delta, 0o644))

	// Alone: what it leaves out is expected from the base (info).
	rep, err := verify.Verify(ctx, archive, verify.Options{})
	must(t, err)
	infos := 0
	for _, f := range rep.Findings {
		if f.Code == verify.BaseBlob {
			infos++
			if f.Severity != verify.Info || !strings.Contains(f.Message, base.Digest.String()) {
				t.Errorf("finding %+v, want info naming %s", f, base.Digest)
			}
		}
	}
	if !rep.OK() || infos != 1 {
		t.Errorf("verify delta = %v, %d BASE_BLOB; want OK and 1 (the firmware)", rep.Findings, infos)
	}
	// With the base: the left-out blobs are checked there.
	rep, err = verify.Verify(ctx, archive, verify.Options{Base: site})
	must(t, err)
	if !rep.OK() || len(rep.Findings) != 0 || rep.Summary.Blobs != 4 {
		t.Errorf("verify --base = %v (%d blobs hashed), want OK with 4 blobs", rep.Findings, rep.Summary.Blobs)
	}
	if _, err := verify.Verify(ctx, archive, verify.Options{Base: filepath.Join(site, "nosuch")}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("verify --base nosuch = %v, want ErrNotExist", err)
	}
	if _, err := verify.Verify(ctx, archive, verify.Options{Base: archive}); !errors.Is(err, verify.ErrBadOption) {
		t.Errorf("verify --base FILE = %v, want ErrBadOption", err)
	}
	if _, err := verify.Verify(ctx, site, verify.Options{Base: site}); !errors.Is(err, verify.ErrBadOption) {
		t.Errorf("verify --base of a layout directory = %v, want ErrBadOption", err)
	}
	// A layout directory must hold its blobs, whatever its index.json says:
	// the delta imported as a tar of a layout is not excused.
	unpacked := filepath.Join(t.TempDir(), "unpacked")
	must(t, os.MkdirAll(filepath.Join(unpacked, "blobs", "sha256"), 0o755))
	for _, h := range archiveHeaders(t, delta) {
		if h.Typeflag == tar.TypeReg {
			must(t, os.WriteFile(filepath.Join(unpacked, filepath.FromSlash(h.Name)), archiveMember(t, delta, h.Name), 0o644))
		}
	}
	fwLoc := "blobs/sha256/" + s.firmware.Digest.Encoded()
	rep, err = verify.Verify(ctx, unpacked, verify.Options{})
	must(t, err)
	if rep.OK() || !hasFinding(rep, verify.BlobMissing, fwLoc) {
		t.Errorf("verify of the delta unpacked as a layout = %v, want BLOB_MISSING at %s", rep.Findings, fwLoc)
	}
	loc := corruptBlob(t, site, s.firmware.Digest)
	rep, err = verify.Verify(ctx, archive, verify.Options{Base: site})
	must(t, err)
	if rep.OK() || !hasFinding(rep, verify.DigestMismatch, loc) {
		t.Errorf("verify --base with a corrupted base blob = %v, want DIGEST_MISMATCH at %s", rep.Findings, loc)
	}
	must(t, os.Remove(filepath.Join(site, filepath.FromSlash(loc))))
	rep, err = verify.Verify(ctx, archive, verify.Options{Base: site})
	must(t, err)
	if rep.OK() || !hasFinding(rep, verify.BlobMissing, loc) {
		t.Errorf("verify --base with a missing base blob = %v, want BLOB_MISSING at %s", rep.Findings, loc)
	}
}

func hasFinding(rep *verify.Report, code verify.Code, loc string) bool {
	for _, f := range rep.Findings {
		if f.Code == code && f.Location == loc && f.Severity == verify.Error {
			return true
		}
	}
	return false
}

// TestDeltaSharedBase: three image-like bundles on one base layer carry it
// once in their full archive, and not at all in the delta of their next
// release (scripts/bench-delta.sh measures the same at 200 MiB).
func TestDeltaSharedBase(t *testing.T) {
	root := t.TempDir()
	src := func(name string, n int, seed uint64) string {
		dir := filepath.Join(root, "src", name)
		must(t, os.MkdirAll(dir, 0o755))
		data := make([]byte, n)
		rng := rand.New(rand.NewPCG(seed, seed))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		must(t, os.WriteFile(filepath.Join(dir, "data.bin"), data, 0o644))
		must(t, os.Chtimes(filepath.Join(dir, "data.bin"), deltaEpoch, deltaEpoch))
		must(t, os.Chtimes(dir, deltaEpoch, deltaEpoch))
		return dir
	}
	base := src("base", 256<<10, 1)
	sender := filepath.Join(root, "sender")
	var baseLayer digest.Digest
	for rel := range 2 {
		for i, app := range []string{"a", "b", "c"} {
			tag := app + string(rune('1'+rel))
			res, err := Pack(ctx, sender, []string{base, src(tag, 4<<10, uint64(10+rel*3+i))}, PackOptions{Tags: []string{tag}})
			must(t, err)
			baseLayer = res.Layers[0].Digest
		}
	}
	count := func(archive []byte) int {
		n := 0
		for _, h := range archiveHeaders(t, archive) {
			if h.Name == "blobs/sha256/"+baseLayer.Encoded() {
				n++
			}
		}
		return n
	}
	full, _ := exportBytes(t, []string{sender + ":a1", sender + ":b1", sender + ":c1"}, ExportOptions{})
	if n := count(full); n != 1 {
		t.Errorf("the full archive carries the base layer %d times, want 1", n)
	}
	site := filepath.Join(root, "site")
	_, err := Import(ctx, site, bytes.NewReader(full), ImportOptions{})
	must(t, err)
	delta, res := exportBytes(t, []string{sender + ":a2", sender + ":b2", sender + ":c2"}, ExportOptions{Since: baseOf(t, site)})
	if n := count(delta); n != 0 {
		t.Errorf("the delta carries the base layer %d times, want 0", n)
	}
	if len(res.Bundles) != 3 || res.Delta.LeftOut != 1 { // the base layer (configs travel)
		t.Errorf("Export() = %d bundles, %d blobs left out; want 3 and 1", len(res.Bundles), res.Delta.LeftOut)
	}
	_, err = Import(ctx, site, bytes.NewReader(delta), ImportOptions{})
	must(t, err)
}

// TestInventoryNotALayout: a directory that is not a layout, or whose
// index.json is broken, gives no inventory rather than an empty one.
func TestInventoryNotALayout(t *testing.T) {
	dir := t.TempDir()
	if _, err := Inventory(ctx, dir, nil, nil); !errors.Is(err, verify.ErrFailed) {
		t.Errorf("Inventory(empty directory) = %v, want verify.ErrFailed", err)
	}
	s := newDeltaSender(t)
	site := s.site(t)
	must(t, os.Chmod(filepath.Join(site, "index.json"), 0o644))
	must(t, os.WriteFile(filepath.Join(site, "index.json"), []byte("{"), 0o644))
	_, err := Inventory(ctx, site, nil, nil)
	if !errors.Is(err, verify.ErrFailed) || !strings.Contains(err.Error(), "index.json") {
		t.Errorf("Inventory(broken index.json) = %v, want verify.ErrFailed naming index.json", err)
	}
}

// TestDeltaSource: read in place, a delta archive says it is one
// (inspect, Source.DeltaBase; ls in e2e), a full archive and a layout do
// not, and files names the base it needs.
func TestDeltaSource(t *testing.T) {
	s := newDeltaSender(t)
	site := s.site(t)
	base := baseOf(t, site)
	delta, _ := exportBytes(t, []string{s.dir + ":2"}, ExportOptions{Since: base})
	full, _ := exportBytes(t, []string{s.dir + ":2"}, ExportOptions{})
	dir := t.TempDir()
	deltaFile, fullFile := filepath.Join(dir, "delta.tar"), filepath.Join(dir, "full.tar")
	must(t, os.WriteFile(deltaFile, delta, 0o644))
	must(t, os.WriteFile(fullFile, full, 0o644))
	for _, tc := range []struct{ ref, want string }{
		{deltaFile + ":2", base.Digest.String()},
		{fullFile + ":2", ""},
		{s.dir + ":2", ""},
	} {
		in, err := Inspect(ctx, tc.ref)
		must(t, err)
		if in.Delta != tc.want {
			t.Errorf("Inspect(%s).Delta = %q, want %q", tc.ref, in.Delta, tc.want)
		}
		var text bytes.Buffer
		must(t, WriteInspectText(&text, in))
		if got := strings.Contains(text.String(), "Delta of:"); got != (tc.want != "") {
			t.Errorf("inspect %s text says delta: %v, want %v:\n%s", tc.ref, got, tc.want != "", text.String())
		}
	}
	_, err := Files(ctx, deltaFile+":2", FilesOptions{})
	if !errors.Is(err, ErrDeltaBase) || !strings.Contains(err.Error(), base.Digest.String()) {
		t.Errorf("Files(delta) = %v, want ErrDeltaBase naming %s", err, base.Digest)
	}
	// The layer the delta carries is read without its base.
	if _, err := Files(ctx, deltaFile+":2", FilesOptions{Layers: []string{"app"}}); err != nil {
		t.Errorf("Files(delta, --layer app) = %v", err)
	}
}
