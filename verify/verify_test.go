package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/internal/testfs"
	"github.com/ocibundle/ocibundle/layout"
)

func TestCleanFixtures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(f *fx)
	}{
		{"bundle", func(f *fx) { f.std(nil) }},
		{"image", func(f *fx) { f.imageStd(nil) }},
		{"nested index", func(f *fx) { f.index(nestIndexes(f, f.std(nil), MaxDepth-1)) }},
		{"config of an unknown type, not JSON", func(f *fx) {
			l := f.put([]byte("a file"), "application/x-file")
			m := manifest(f.put([]byte{0xff, 0x00, '{'}, "application/x-custom"), l)
			f.index(f.putJSON(m, ocispec.MediaTypeImageManifest))
		}},
		{"zstd layer behind a skippable frame", func(f *fx) {
			content := tarOf(t, entry{name: "files/a", body: "a"})
			skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'}
			deepLayer(content, append(skippable, compressed(t, content, compress.Zstd)...), ocispec.MediaTypeImageLayerZstd, nil)(f)
		}},
		{"gzip layer of two members", func(f *fx) {
			content := tarOf(t, entry{name: "files/a", body: "a"})
			half := len(content) / 2
			z := append(compressed(t, content[:half], compress.Gzip), compressed(t, content[half:], compress.Gzip)...)
			deepLayer(content, z, ocispec.MediaTypeImageLayerGzip, nil)(f)
		}},
		{"manifest referenced twice", func(f *fx) {
			md := f.std(nil)
			f.index(tagged(md, "a"), tagged(md, "b"), f.putJSON(idx(md), ocispec.MediaTypeImageIndex))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			tc.build(f)
			rep := run(t, f.dir, Options{Deep: true, Strict: true})
			if len(rep.Findings) != 0 || rep.Err() != nil {
				t.Fatalf("Verify() of a clean fixture:\n%s", dump(rep))
			}
		})
	}
}

func fileSize(t *testing.T, p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// blobFiles lists the blob paths of a layout, relative to it.
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	sort.Strings(out)
	return out
}

// cancelAfter cancels its context on its first read.
type cancelAfter struct {
	r      io.Reader
	cancel context.CancelFunc
	reads  int
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	c.reads++
	c.cancel()
	return c.r.Read(p[:min(len(p), 4096)])
}

// countingProgress sums the bytes reported.
type countingProgress struct {
	started atomic.Int32
	n       atomic.Int64
}

func (p *countingProgress) Start(string, int64) { p.started.Add(1) }
func (p *countingProgress) Add(n int64)         { p.n.Add(n) }
func (p *countingProgress) Finish()             {}

func TestEachBlobReadOnce(t *testing.T) {
	f := newFx(t)
	md := f.std(nil)
	nested := f.putJSON(idx(md), ocispec.MediaTypeImageIndex)
	f.index(tagged(md, "a"), tagged(md, "b"), nested, f.putJSON(idx(nested, md), ocispec.MediaTypeImageIndex))
	f.put([]byte("unreferenced"), "")
	var total int64
	for _, name := range blobFiles(t, f.dir) {
		total += fileSize(t, f.path(name))
	}
	for _, target := range []string{f.dir, archiveOf(t, f.dir)} {
		p := &countingProgress{}
		rep := run(t, target, Options{Deep: true, Progress: p})
		if rep.Err() != nil {
			t.Fatalf("Verify(%s):\n%s", target, dump(rep))
		}
		if got := p.n.Load(); got != total {
			t.Errorf("Verify(%s) read %d blob bytes, want %d (each blob once)", target, got, total)
		}
		if rep.Summary.Blobs != 6 || rep.Summary.Bytes != total {
			t.Errorf("Verify(%s) summary = %+v, want 6 blobs of %d bytes", target, rep.Summary, total)
		}
	}
}

func TestTargets(t *testing.T) {
	f := newFx(t)
	good := f.std(nil)
	bad := f.std(set("schemaVersion", 3))
	nested := f.putJSON(idx(good), ocispec.MediaTypeImageIndex)
	f.index(tagged(good, "good"), tagged(bad, "bad"), tagged(nested, "nested"))
	f.put([]byte("stray"), "")
	gd := good["digest"].(string)
	tests := []struct {
		target string
		ok     bool
		codes  []Code
	}{
		{f.dir, false, []Code{BadSchemaVersion, UnreferencedBlob}},
		{f.dir + ":good", true, nil},
		{f.dir + ":bad", false, []Code{BadSchemaVersion}},
		{f.dir + "@" + gd, true, nil},
		{f.dir + ":nested", true, nil},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.target), func(t *testing.T) {
			rep := run(t, tc.target, Options{})
			if rep.OK() != tc.ok {
				t.Errorf("Verify(%s).OK() = %v, want %v:\n%s", tc.target, rep.OK(), tc.ok, dump(rep))
			}
			var codes []Code
			for _, f := range rep.Findings {
				codes = append(codes, f.Code)
			}
			if !equalCodes(codes, tc.codes) {
				t.Errorf("Verify(%s) codes = %v, want %v", tc.target, codes, tc.codes)
			}
		})
	}
	// A manifest only reachable through a nested index, named by digest.
	f2 := newFx(t)
	inner := f2.std(nil)
	f2.index(f2.putJSON(idx(inner), ocispec.MediaTypeImageIndex))
	rep := run(t, f2.dir+"@"+inner["digest"].(string), Options{Digest: inner["digest"].(string)})
	if len(rep.Findings) != 0 || rep.Summary.Bundles != 1 {
		t.Errorf("Verify(LAYOUT@nested) = %+v:\n%s", rep.Summary, dump(rep))
	}
	rep = run(t, f2.dir+"@"+digest.FromString("absent").String(), Options{})
	// A digest that names nothing is a target named wrong (exit 3, as a
	// missing tag), not a blob missing from the graph.
	if len(find(rep, DigestNotFound)) != 1 || len(find(rep, BlobMissing)) != 0 || !errors.Is(rep.Err(), fs.ErrNotExist) {
		t.Errorf("Verify(LAYOUT@absent) = %v, want one DIGEST_NOT_FOUND wrapping fs.ErrNotExist:\n%s", rep.Err(), dump(rep))
	}
}

func equalCodes(a, b []Code) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPin(t *testing.T) {
	f := newFx(t)
	md := f.std(nil)
	d := md["digest"].(string)
	if rep := run(t, f.dir, Options{Digest: d}); rep.Err() != nil {
		t.Errorf("Verify(--digest the bundle's) = %v", rep.Err())
	}
	other := digest.FromString("other").String()
	rep := run(t, f.dir+":v1", Options{Digest: other})
	err := rep.Err()
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), d) || !strings.Contains(err.Error(), other) {
		t.Errorf("Verify(--digest other).Err() = %v, want ErrFailed naming %s and %s", err, d, other)
	}
	for _, bad := range []string{"sha256:abc", "nope", "md5:" + strings.Repeat("a", 32)} {
		_, err := Verify(context.Background(), f.dir, Options{Digest: bad})
		if !errors.Is(err, ErrBadOption) {
			t.Errorf("Verify(--digest %q) error = %v, want ErrBadOption", bad, err)
		}
	}
}

func TestOperationalErrors(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := testfs.Mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		want   error
	}{
		{filepath.Join(dir, "absent"), fs.ErrNotExist},
		{filepath.Join(dir, "absent") + ":bad tag!", ErrBadTarget},
		{"", ErrBadTarget},
		{fifo, ErrBadTarget},
	}
	for _, tc := range tests {
		rep, err := Verify(context.Background(), tc.target, Options{})
		if !errors.Is(err, tc.want) || rep != nil {
			t.Errorf("Verify(%q) = %v, %v, want nil, %v", tc.target, rep, err, tc.want)
		}
		if errors.Is(err, ErrFailed) {
			t.Errorf("Verify(%q) error %v wraps ErrFailed: it is not a content problem", tc.target, err)
		}
	}
	f := newFx(t)
	f.std(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, f.dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(canceled) error = %v, want context.Canceled", err)
	}
	// Cancelled while a blob is being read: the read stops.
	ctx, cancel = context.WithCancel(context.Background())
	r := &cancelAfter{r: bytes.NewReader(make([]byte, 1<<20)), cancel: cancel}
	if _, err := scan(ctx, r, digest.SHA256, captureNone, deepScan{}, nil); !errors.Is(err, context.Canceled) || r.reads > 2 {
		t.Errorf("scan(cancelled after one read) error = %v after %d reads, want context.Canceled after at most 2", err, r.reads)
	}
}

func TestReportOutput(t *testing.T) {
	f := newFx(t)
	f.std(set("schemaVersion", 3))
	f.put([]byte("stray"), "")
	rep := run(t, f.dir, Options{})
	again := run(t, f.dir, Options{})
	if len(rep.Findings) != 2 {
		t.Fatalf("findings = %d, want 2 (schemaVersion, unreferenced):\n%s", len(rep.Findings), dump(rep))
	}
	for i := range rep.Findings {
		if rep.Findings[i] != again.Findings[i] {
			t.Errorf("finding %d differs between runs: %+v, %+v", i, rep.Findings[i], again.Findings[i])
		}
	}
	if rep.Findings[0].Severity != Error || rep.Findings[len(rep.Findings)-1].Severity != Info {
		t.Errorf("findings not sorted errors first: %+v", rep.Findings)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "E BAD_SCHEMA_VERSION blobs/sha256/") ||
		!strings.HasPrefix(lines[1], "I UNREFERENCED_BLOB blobs/sha256/") ||
		!strings.Contains(lines[2], "1 bundle, 4 blobs") || !strings.Contains(lines[2], "FAILED (1 error, 0 warnings, 1 info)") {
		t.Errorf("WriteText() =\n%s", text.String())
	}

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var out struct {
		OK       *bool          `json:"ok"`
		Target   string         `json:"target"`
		Summary  map[string]any `json:"summary"`
		Findings []Finding      `json:"findings"`
	}
	if err := layout.DecodeStrict(js.Bytes(), &out); err != nil {
		t.Fatalf("WriteJSON() is not strict JSON: %v", err)
	}
	if out.OK == nil || *out.OK || out.Target != f.dir || out.Summary["errorCount"] != 1.0 || len(out.Findings) != 2 ||
		out.Findings[0].Code != BadSchemaVersion || out.Findings[0].Pointer != "/schemaVersion" {
		t.Errorf("WriteJSON() = %s", js.String())
	}

	clean := newFx(t)
	clean.std(nil)
	rep = run(t, clean.dir, Options{})
	js.Reset()
	rep.WriteJSON(&js)
	if !strings.Contains(js.String(), `"findings": []`) || !strings.Contains(js.String(), `"ok": true`) {
		t.Errorf("WriteJSON() of a clean layout = %s", js.String())
	}
	text.Reset()
	rep.WriteText(&text)
	if !strings.HasSuffix(text.String(), "OK (0 errors, 0 warnings, 0 info)\n") {
		t.Errorf("WriteText() of a clean layout = %q", text.String())
	}
}

func TestFromAnotherWorkingDirectory(t *testing.T) {
	f := newFx(t)
	f.std(nil)
	t.Chdir(filepath.Dir(f.dir))
	for _, target := range []string{"layout", "layout:v1", "./layout"} {
		rep := run(t, target, Options{Deep: true})
		if rep.Err() != nil || rep.Summary.Bundles != 1 || rep.Target != target {
			t.Errorf("Verify(%s) from the parent directory:\n%s", target, dump(rep))
		}
	}
}

func TestJSONOfReport(t *testing.T) {
	// Findings marshal with stable keys scripts rely on.
	data, _ := json.Marshal(Finding{Code: BlobMissing, Severity: Error, Location: "blobs/sha256/x", Message: "m"})
	if string(data) != `{"code":"BLOB_MISSING","severity":"error","location":"blobs/sha256/x","message":"m"}` {
		t.Errorf("json.Marshal(Finding) = %s", data)
	}
}

func TestErrNamesTheDamagedBlobFirst(t *testing.T) {
	f := newFx(t)
	md := f.std(nil)
	p := f.path(blobPath(md))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[1] = 'X' // breaks the JSON and the digest
	f.file(blobPath(md), data)
	rep := run(t, f.dir, Options{})
	if len(find(rep, BadJSON)) != 1 || rep.Findings[0].Code != DigestMismatch {
		t.Fatalf("findings, want DIGEST_MISMATCH first and a BAD_JSON:\n%s", dump(rep))
	}
	for _, u := range find(rep, UnreferencedBlob) {
		if u.Message != "no document that could be read references this blob" {
			t.Errorf("UNREFERENCED_BLOB with an unreadable manifest says %q", u.Message)
		}
	}
	if len(find(rep, UnreferencedBlob)) != 2 {
		t.Errorf("want the config and layer reported as not referenced by what was read:\n%s", dump(rep))
	}
	want := blobPath(md) + ": digest mismatch (got sha256:"
	if err := rep.Err(); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), want) {
		t.Errorf("Report.Err() = %v, want it to contain %q", err, want)
	}
}
