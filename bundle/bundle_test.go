package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/internal/testfs"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
)

var ctx = context.Background()

var fixedTime = time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)

// fixture builds a small tree under dir with fixed modes and mtimes and
// returns the paths to pack: a directory and a single file.
func fixture(t *testing.T, dir string) []string {
	t.Helper()
	files := []struct {
		name string
		mode os.FileMode
		data string
	}{
		{"app/bin/run", 0o755, "#!/bin/sh\necho run\n"},
		{"app/etc/config.yaml", 0o600, "key: value\n"},
		{"app/empty", 0o644, ""},
		{"app/données.txt", 0o644, "unicode name\n"},
		{"notes.md", 0o644, "# notes\n"},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(f.data), f.mode))
		must(t, os.Chmod(p, f.mode))
	}
	must(t, os.MkdirAll(filepath.Join(dir, "app/empty-dir"), 0o755))
	must(t, os.Symlink("bin/run", filepath.Join(dir, "app/run-link")))
	must(t, os.Link(filepath.Join(dir, "app/bin/run"), filepath.Join(dir, "app/bin/run-hard")))
	for _, d := range []string{"app", "app/bin", "app/etc", "app/empty-dir"} {
		must(t, os.Chmod(filepath.Join(dir, d), 0o755)) // whatever the umask
	}
	// mtimes last, deepest first, so that creating children does not move them.
	paths := []string{"app/bin/run", "app/etc/config.yaml", "app/empty", "app/données.txt", "notes.md",
		"app/bin", "app/etc", "app/empty-dir", "app"}
	for _, p := range paths {
		must(t, os.Chtimes(filepath.Join(dir, p), fixedTime, fixedTime))
	}
	must(t, lchtimes(filepath.Join(dir, "app/run-link"), fixedTime.Add(-time.Hour)))
	return []string{filepath.Join(dir, "app"), filepath.Join(dir, "notes.md")}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// golden holds the manifest digests of the fixture. They are a
// compatibility promise: a change here changes the bytes of every bundle and
// is a breaking change, to be made on purpose and noted in the changelog.
var golden = map[compress.Codec]digest.Digest{
	compress.Zstd: "sha256:6cce954a5f95d7f34f7b9de8b68f08cea58fb3e9daae89794bb6b1500c677212",
	compress.Gzip: "sha256:d44d19e5af4281c9646b92a4d4bf692daa5e55053ad42e058ba4eb2d27711f2f",
	compress.None: "sha256:8aa0f33e97371f7c145105221f400140130e7c839010f80f3c4f5280b2a8a9f5",
}

func TestPackGolden(t *testing.T) {
	for _, c := range []compress.Codec{compress.Zstd, compress.Gzip, compress.None} {
		t.Run(string(c), func(t *testing.T) {
			paths := fixture(t, t.TempDir())
			res, err := Pack(ctx, filepath.Join(t.TempDir(), "L"), paths, PackOptions{Compression: c, Tags: []string{"v1"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != golden[c] {
				t.Errorf("Pack(fixture, %s) = %s, want %s", c, res.Digest, golden[c])
			}
		})
	}
}

// TestPackRawFiles: with RawFiles a PATH that is a file becomes a layer of
// its own bytes (profile.MediaTypeFile, titled), a directory stays a tar
// layer, the same inputs give the same manifest, and Extract writes the
// file back with the same bytes.
func TestPackRawFiles(t *testing.T) {
	paths := fixture(t, t.TempDir())
	var digests []digest.Digest
	for range 2 {
		dir := filepath.Join(t.TempDir(), "L")
		res, err := Pack(ctx, dir, paths, PackOptions{RawFiles: true, Tags: []string{"v1"}})
		must(t, err)
		digests = append(digests, res.Digest)
		store, err := layout.Open(dir)
		must(t, err)
		m, err := store.ReadManifest(ctx, ocispec.Descriptor{MediaType: res.MediaType, Digest: res.Digest, Size: res.Size})
		must(t, err)
		want, err := os.ReadFile(paths[1])
		must(t, err)
		raw := m.Layers[1]
		if m.Layers[0].MediaType != ocispec.MediaTypeImageLayerZstd || raw.MediaType != profile.MediaTypeFile ||
			raw.Digest != digest.FromBytes(want) || raw.Annotations[ocispec.AnnotationTitle] != "notes.md" || len(raw.Annotations) != 1 {
			t.Fatalf("layers = %+v, want a zstd tar of app, then notes.md raw", m.Layers)
		}
		if l := res.Layers[1]; l.ContentDigest != raw.Digest || l.ContentSize != int64(len(want)) || l.Files != 1 {
			t.Errorf("PackResult layer = %+v, want the file as its content", l)
		}
		out := filepath.Join(t.TempDir(), "out")
		_, err = Extract(ctx, dir+":v1", out, ExtractOptions{})
		must(t, err)
		if got, err := os.ReadFile(filepath.Join(out, "notes.md")); err != nil || !bytes.Equal(got, want) {
			t.Errorf("extracted notes.md = %q, %v; want %q", got, err, want)
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("Pack(RawFiles) twice = %s, %s; want the same manifest", digests[0], digests[1])
	}
}

// readLayer decompresses a layer and returns its tar headers.
func readLayer(t *testing.T, store *layout.Store, desc ocispec.Descriptor) []*tar.Header {
	t.Helper()
	rc, err := store.Fetch(ctx, desc)
	must(t, err)
	defer rc.Close()
	c, err := compress.ForMediaType(desc.MediaType)
	must(t, err)
	zr, err := compress.NewReader(rc, c)
	must(t, err)
	defer zr.Close()
	tr := tar.NewReader(zr)
	var hdrs []*tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs
		}
		must(t, err)
		hdrs = append(hdrs, h)
	}
}

func TestPackContent(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	epoch := fixedTime.Add(-time.Minute)
	res, err := Pack(ctx, dir, paths, PackOptions{
		Tags:                []string{"v1", "latest"},
		ManifestAnnotations: map[string]string{"org.opencontainers.image.version": "1.2"},
		IndexAnnotations:    map[string]string{"site": "north"},
		LayerAnnotations:    map[string]map[string]string{"notes.md": {"kind": "doc"}},
		SourceDateEpoch:     &epoch,
		Jobs:                4,
	})
	must(t, err)
	store, err := layout.Open(dir)
	must(t, err)
	idx, err := store.ReadIndex(ctx)
	must(t, err)
	if len(idx.Manifests) != 2 || idx.Annotations["site"] != "north" {
		t.Fatalf("index.json = %+v, want 2 entries and the index annotation", idx)
	}
	m, err := store.ReadManifest(ctx, idx.Manifests[0])
	must(t, err)
	if m.ArtifactType != profile.DefaultArtifactType || m.Config.MediaType != ocispec.MediaTypeEmptyJSON || string(m.Config.Data) != "{}" {
		t.Errorf("manifest artifactType %q, config %+v", m.ArtifactType, m.Config)
	}
	if got, want := m.Annotations[ocispec.AnnotationCreated], epoch.Format(time.RFC3339); got != want {
		t.Errorf("created = %q, want %q (SOURCE_DATE_EPOCH)", got, want)
	}
	if m.Annotations["org.opencontainers.image.version"] != "1.2" {
		t.Errorf("manifest annotations = %v", m.Annotations)
	}
	if len(m.Layers) != 2 || m.Layers[0].Annotations[ocispec.AnnotationTitle] != "app" || m.Layers[1].Annotations["kind"] != "doc" {
		t.Fatalf("layers = %+v", m.Layers)
	}
	hdrs := readLayer(t, store, m.Layers[0])
	var names []string
	for _, h := range hdrs {
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d/%d %q/%q, want 0/0 and no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if h.ModTime.After(epoch) {
			t.Errorf("%s: mtime %v after SOURCE_DATE_EPOCH %v", h.Name, h.ModTime, epoch)
		}
		switch h.Name {
		case "app/bin/run":
			if h.Mode != 0o755 || h.Typeflag != tar.TypeReg {
				t.Errorf("app/bin/run: mode %o type %c", h.Mode, h.Typeflag)
			}
		case "app/bin/run-hard":
			if h.Typeflag != tar.TypeLink || h.Linkname != "app/bin/run" {
				t.Errorf("hard link = type %c to %q, want a link to app/bin/run", h.Typeflag, h.Linkname)
			}
		case "app/etc/config.yaml":
			if h.Mode != 0o600 {
				t.Errorf("config.yaml mode %o, want 600", h.Mode)
			}
		case "app/run-link":
			if h.Typeflag != tar.TypeSymlink || h.Linkname != "bin/run" {
				t.Errorf("symlink = type %c to %q", h.Typeflag, h.Linkname)
			}
			if want := fixedTime.Add(-time.Hour).Truncate(time.Second); !h.ModTime.Equal(want) {
				t.Errorf("symlink mtime %v, want %v (kept, before the clamp)", h.ModTime, want)
			}
		}
	}
	want := "app/ app/bin/ app/bin/run app/bin/run-hard app/données.txt app/empty app/empty-dir/ app/etc/ app/etc/config.yaml app/run-link"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("entries = %s\nwant      %s", got, want)
	}
	if got := m.Layers[0].Annotations[profile.AnnotationContentFiles]; got != "5" {
		t.Errorf("content.files = %s, want 5 (run, run-hard, données, empty, config)", got)
	}
	if res.Layers[0].Files != 5 || res.Layers[0].ContentDigest.String() != m.Layers[0].Annotations[profile.AnnotationContentDigest] {
		t.Errorf("result layer = %+v", res.Layers[0])
	}
}

func TestPackBadInput(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	must(t, os.MkdirAll(filepath.Join(src, "other", "app"), 0o755))
	must(t, testfs.Mkfifo(filepath.Join(src, "fifo")))
	must(t, os.MkdirAll(filepath.Join(src, "wh"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "wh", ".wh.gone"), nil, 0o644))
	tests := []struct {
		name  string
		paths []string
		opts  PackOptions
		want  string // in the message
	}{
		{"missing", []string{filepath.Join(src, "nope")}, PackOptions{}, "nope"},
		{"fifo", []string{filepath.Join(src, "fifo")}, PackOptions{}, "FIFO"},
		{"whiteout", []string{filepath.Join(src, "wh")}, PackOptions{}, ".wh.gone"},
		{"same base name", []string{paths[0], filepath.Join(src, "other", "app")}, PackOptions{}, "same base name"},
		{"bad tag", paths, PackOptions{Tags: []string{"a..b"}}, "a..b"},
		{"unknown layer title", paths, PackOptions{LayerAnnotations: map[string]map[string]string{"zzz": {"k": "v"}}}, "zzz"},
		{"reserved layer key", paths, PackOptions{LayerAnnotations: map[string]map[string]string{"app": {profile.AnnotationContentDigest: "x"}}}, profile.AnnotationContentDigest},
		{"nothing", nil, PackOptions{}, "nothing to pack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "L")
			_, err := Pack(ctx, dir, tt.paths, tt.opts)
			if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Pack() = %v, want ErrBadInput naming %q", err, tt.want)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Error("a refused pack created the layout")
			}
		})
	}
}

func TestReadAnnotationFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.json")
	must(t, os.WriteFile(good, []byte(`{"$manifest":{"a":"1"},"$index":{"b":"2"},"$config":{"c":"3"},"app":{"d":"4"}}`), 0o644))
	af, err := ReadAnnotationFile(good)
	if err != nil || af.Manifest["a"] != "1" || af.Index["b"] != "2" || af.Config["c"] != "3" || af.Layers["app"]["d"] != "4" {
		t.Errorf("ReadAnnotationFile() = %+v, %v", af, err)
	}
	dup := filepath.Join(dir, "dup.json")
	must(t, os.WriteFile(dup, []byte(`{"$manifest":{"a":"1","a":"2"}}`), 0o644))
	if _, err := ReadAnnotationFile(dup); !errors.Is(err, ErrBadInput) || !errors.Is(err, layout.ErrBadJSON) {
		t.Errorf("ReadAnnotationFile(duplicate key) = %v, want ErrBadInput and ErrBadJSON", err)
	}
	if _, err := ReadAnnotationFile(filepath.Join(dir, "missing.json")); !errors.Is(err, ErrBadInput) {
		t.Errorf("ReadAnnotationFile(missing) = %v, want ErrBadInput", err)
	}
}

func TestListAndInspect(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	created := fixedTime
	r1, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}, Created: &created})
	must(t, err)
	r2, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v2"}, Compression: compress.Gzip})
	must(t, err)

	t.Chdir(filepath.Dir(dir)) // references relative to another working directory
	entries, err := List(ctx, "L")
	must(t, err)
	if len(entries) != 2 || !reflect.DeepEqual(entries[0].Tags, []string{"v1"}) || entries[0].Digest != r1.Digest || entries[1].Digest != r2.Digest {
		t.Fatalf("List() = %+v", entries)
	}
	if entries[0].LayerCount != 2 || entries[0].Size != r1.Size || entries[0].Created != "2024-01-02T03:04:05Z" || entries[0].ArtifactType != profile.DefaultArtifactType {
		t.Errorf("List()[0] = %+v", entries[0])
	}
	var wantSize int64 = r1.Size + 2 // manifest + "{}" config
	for _, l := range r1.Layers {
		wantSize += l.Size
	}
	if entries[0].TotalSize != wantSize {
		t.Errorf("List()[0].TotalSize = %d, want %d", entries[0].TotalSize, wantSize)
	}
	var text bytes.Buffer
	must(t, WriteListText(&text, entries))
	if !strings.Contains(text.String(), r2.Digest.String()) || strings.Count(text.String(), "\n") != 3 {
		t.Errorf("WriteListText() = %q", text.String())
	}

	in, err := Inspect(ctx, "L:v2")
	must(t, err)
	if in.Digest != r2.Digest || len(in.Layers) != 2 || in.Layers[1].Title != "notes.md" || in.Layers[1].MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Fatalf("Inspect(L:v2) = %+v", in)
	}
	// ORAS unpacks gzip directory layers; a file layer must not ask for it
	// (oras pull would fail: it makes DIR/TITLE a directory first).
	if dirLayer := in.Layers[0].Annotations; dirLayer[profile.AnnotationORASUnpack] != "true" || dirLayer[profile.AnnotationORASDigest] != dirLayer[profile.AnnotationContentDigest] {
		t.Errorf("gzip directory layer annotations = %v, want ORAS unpack and digest", dirLayer)
	}
	if fileLayer := in.Layers[1].Annotations; fileLayer[profile.AnnotationORASUnpack] != "" || fileLayer[profile.AnnotationORASDigest] != "" {
		t.Errorf("gzip file layer annotations = %v, want no ORAS unpack", fileLayer)
	}
	in, err = Inspect(ctx, "L@"+r1.Digest.String())
	must(t, err)
	if len(in.Tags) != 1 || in.Tags[0] != "v1" || in.Created != "2024-01-02T03:04:05Z" {
		t.Errorf("Inspect(L@digest) = %+v", in)
	}
	text.Reset()
	must(t, WriteInspectText(&text, in))
	if !strings.Contains(text.String(), "notes.md") || !strings.Contains(text.String(), r1.Digest.String()) {
		t.Errorf("WriteInspectText() = %q", text.String())
	}
	if _, err := Inspect(ctx, "L"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("Inspect(L with 2 bundles) = %v, want ErrAmbiguous", err)
	}
	if _, err := Inspect(ctx, "L:v9"); !errors.Is(err, layout.ErrTagNotFound) {
		t.Errorf("Inspect(L:v9) = %v, want ErrTagNotFound", err)
	}
}

// TestListNestedIndex covers an index.json entry that is itself an image
// index (a multi-platform image as crane or skopeo write it): List adds up
// the graph once per blob and Inspect lists the child manifests.
func TestListNestedIndex(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	r1, err := Pack(ctx, dir, paths, PackOptions{})
	must(t, err)
	r2, err := Pack(ctx, dir, paths[1:], PackOptions{})
	must(t, err)
	store, err := layout.Open(dir)
	must(t, err)

	child := func(r PackResult, arch string) string {
		return `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + r.Digest.String() +
			`","size":` + strconv.FormatInt(r.Size, 10) + `,"platform":{"os":"linux","architecture":"` + arch + `"}}`
	}
	doc := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		child(r1, "amd64") + `,` + child(r2, "arm64") + `]}`
	idxDesc, err := store.PutBytes(ctx, ocispec.MediaTypeImageIndex, []byte(doc))
	must(t, err)
	must(t, store.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.SetTag(idx, idxDesc, "multi") }))

	entries, err := List(ctx, dir)
	must(t, err)
	var multi *ListEntry
	for i := range entries {
		if reflect.DeepEqual(entries[i].Tags, []string{"multi"}) {
			multi = &entries[i]
		}
	}
	if multi == nil {
		t.Fatalf("List() = %+v, want the multi entry", entries)
	}
	// r2's only layer (notes.md) is r1's second layer: counted once.
	want := idxDesc.Size + r1.Size + r2.Size + 2 + r1.Layers[0].Size + r1.Layers[1].Size
	if multi.TotalSize != want || multi.LayerCount != 3 {
		t.Errorf("List(multi) totalSize %d layerCount %d, want %d and 3", multi.TotalSize, multi.LayerCount, want)
	}
	in, err := Inspect(ctx, dir+":multi")
	must(t, err)
	if len(in.Manifests) != 2 || in.Manifests[0].Platform != "linux/amd64" || in.Manifests[1].Digest != r2.Digest {
		t.Errorf("Inspect(multi).Manifests = %+v", in.Manifests)
	}

	// An index blob that also has layers is ambiguous (CVE-2021-41190).
	bad := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"layers":[]}`
	badDesc, err := store.PutBytes(ctx, ocispec.MediaTypeImageIndex, []byte(bad))
	must(t, err)
	must(t, store.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.SetTag(idx, badDesc, "bad") }))
	if _, err := Inspect(ctx, dir+":bad"); !errors.Is(err, layout.ErrBadDocument) {
		t.Errorf("Inspect(ambiguous index) = %v, want ErrBadDocument", err)
	}
	if _, err := List(ctx, dir); !errors.Is(err, layout.ErrBadDocument) {
		t.Errorf("List(layout with an ambiguous index) = %v, want ErrBadDocument", err)
	}
}
