package bundle

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/internal/layertest"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/verify"
)

// TestExtractImage applies a layer stack with whiteouts and an opaque
// directory, in both entry orders.
func TestExtractImage(t *testing.T) {
	base := []tarEntry{
		{name: "./", typ: tar.TypeDir, mode: 0o755},
		{name: "a/", typ: tar.TypeDir, mode: 0o755},
		{name: "a/gone", body: "1"},
		{name: "a/kept", body: "2"},
		{name: "b/", typ: tar.TypeDir, mode: 0o755},
		{name: "b/lower", body: "3"},
		{name: "b/sub/", typ: tar.TypeDir, mode: 0o755},
		{name: "b/sub/deep", body: "4"},
		{name: "c", body: "5"},
		{name: "d/", typ: tar.TypeDir, mode: 0o700},
		{name: "d/x", body: "6"},
		{name: "f", body: "7"},
		{name: "link", typ: tar.TypeSymlink, link: "a/kept"},
		{name: "hard", typ: tar.TypeLink, link: "a/kept"},
	}
	upper := []tarEntry{
		{name: "a/.wh.gone"},
		{name: ".wh.c"},
		{name: "b/.wh..wh..opq"},
		{name: "b/new", body: "8"},
		{name: "b/sub/", typ: tar.TypeDir, mode: 0o755},
		{name: "b/sub/again", body: "9"},
		{name: "d", body: "a file where a directory was"},
		{name: "f/", typ: tar.TypeDir, mode: 0o755},
		{name: "f/in", body: "a directory where a file was"},
		{name: "c/", typ: tar.TypeDir, mode: 0o755}, // whiteout and new entry in one layer
	}
	// The same layer with its whiteouts after the entries they must not
	// hide.
	var reversed, whiteouts []tarEntry
	for _, e := range upper {
		if strings.Contains(e.name, ".wh.") {
			whiteouts = append(whiteouts, e)
		} else {
			reversed = append(reversed, e)
		}
	}
	reversed = append(reversed, whiteouts...)
	want := map[string]string{
		"a": "dir", "a/kept": "2", "b": "dir", "b/new": "8", "b/sub": "dir", "b/sub/again": "9",
		"c": "dir", "d": "a file where a directory was", "f": "dir", "f/in": "a directory where a file was",
		"link": "symlink", "hard": "2",
	}
	for name, up := range map[string][]tarEntry{"whiteouts first": upper, "whiteouts last": reversed} {
		t.Run(name, func(t *testing.T) {
			ref := writeLayout(t, true, []testLayer{imageLayer(tarOf(t, base)), imageLayer(tarOf(t, up))})
			out := filepath.Join(t.TempDir(), "rootfs")
			res, err := Extract(ctx, ref, out, ExtractOptions{})
			must(t, err)
			got := map[string]string{}
			for _, e := range res.Entries {
				got[e.Path] = e.Type
				if e.Type == "file" {
					data, err := os.ReadFile(filepath.Join(out, e.Path))
					must(t, err)
					got[e.Path] = string(data)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("rootfs = %v\nwant     %v", got, want)
			}
			if n := treeOf(t, out); n["hard"].Ino != n["a/kept"].Ino {
				t.Error("hard and a/kept are not one file")
			}
		})
	}
	// An image layer of another media type: an error naming it, unless
	// skipped.
	odd := testLayer{mediaType: "application/vnd.example.blob", blob: []byte("?"), diffID: digest.FromString("?")}
	ref := writeLayout(t, true, []testLayer{imageLayer(tarOf(t, base)), odd})
	if _, err := Extract(ctx, ref, filepath.Join(t.TempDir(), "o"), ExtractOptions{}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), digest.FromString("?").String()[:20]) {
		t.Errorf("Extract(image with an odd layer) = %v, want ErrUnsupported naming the layer", err)
	}
	res, err := Extract(ctx, ref, filepath.Join(t.TempDir(), "o"), ExtractOptions{SkipUnknown: true})
	if err != nil || res.Layers[1].As != asSkipped {
		t.Errorf("Extract(--skip-unknown) = %+v, %v", res.Layers, err)
	}
}

// TestExtractORAS extracts ORAS-shaped artifacts built in test code: a file
// layer (any media type, a title) and a gzip directory layer with the unpack
// annotation, whose entries sit below the title.
func TestExtractORAS(t *testing.T) {
	dirTar := tarOf(t, []tarEntry{
		{name: "docs/", typ: tar.TypeDir, mode: 0o755},
		{name: "docs/readme.md", body: "# docs\n"},
		{name: "docs/img/", typ: tar.TypeDir, mode: 0o755},
		{name: "docs/img/logo.svg", body: "<svg/>"},
	})
	var gz bytes.Buffer
	zw, _ := compress.NewWriter(&gz, compress.Gzip, compress.Default)
	zw.Write(dirTar)
	must(t, zw.Close())
	layers := []testLayer{
		{mediaType: "application/vnd.oci.image.layer.v1.tar", blob: []byte("plain file\n"), ann: map[string]string{ocispec.AnnotationTitle: "hello.txt"}},
		{mediaType: "application/x-custom", blob: []byte("nested\n"), ann: map[string]string{ocispec.AnnotationTitle: "sub/dir/n.txt"}},
		{mediaType: ocispec.MediaTypeImageLayerGzip, blob: gz.Bytes(), ann: map[string]string{
			ocispec.AnnotationTitle: "docs", profile.AnnotationORASUnpack: "true", profile.AnnotationORASDigest: digest.FromBytes(dirTar).String(),
		}},
	}
	out := filepath.Join(t.TempDir(), "out")
	res, err := Extract(ctx, artifactLayout(t, layers), out, ExtractOptions{})
	must(t, err)
	for name, want := range map[string]string{"hello.txt": "plain file\n", "sub/dir/n.txt": "nested\n", "docs/readme.md": "# docs\n", "docs/img/logo.svg": "<svg/>"} {
		if data, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(data) != want {
			t.Errorf("%s = %q, %v; want %q", name, data, err, want)
		}
	}
	if as := []string{res.Layers[0].As, res.Layers[1].As, res.Layers[2].As}; fmt.Sprint(as) != "[file file tar]" {
		t.Errorf("layers extracted as %v", as)
	}
	// An ORAS directory whose tar reaches out of its title, a title that is
	// not local, two layers with one title, an untitled layer.
	outside := append([]testLayer{}, layers[2])
	outside[0].ann = map[string]string{ocispec.AnnotationTitle: "doc", profile.AnnotationORASUnpack: "true"}
	checkRefused(t, artifactLayout(t, outside), "outside the layer's title", ErrUnsafe)
	badTitle := []testLayer{{mediaType: "text/plain", blob: []byte("x"), ann: map[string]string{ocispec.AnnotationTitle: "../x"}}}
	checkRefused(t, artifactLayout(t, badTitle), `".." in name`, ErrUnsafe)
	twice := []testLayer{layers[0], {mediaType: "text/plain", blob: []byte("x"), ann: map[string]string{ocispec.AnnotationTitle: "hello.txt"}}}
	checkRefused(t, artifactLayout(t, twice), "duplicate entry", ErrUnsafe)
	untitled := []testLayer{{mediaType: "application/vnd.example", blob: []byte("x")}}
	checkRefused(t, artifactLayout(t, untitled), "without a title", ErrUnsupported)
}

// FuzzExtractTar applies arbitrary bytes as an image layer (whiteouts and
// all) after a base layer, and checks that nothing outside the staging root
// changed, and that the final link check either passes or refuses the tree
// as unsafe (never fails otherwise).
func FuzzExtractTar(f *testing.F) {
	for _, c := range hostileCases {
		for _, es := range c.entries {
			f.Add(tarOf(f, es))
		}
	}
	f.Add(tarOf(f, []tarEntry{{name: "a/", typ: tar.TypeDir}, {name: "a/.wh..wh..opq"}, {name: "a/f", body: "x"}}))
	// Random image layers of every kind of entry (the generator of the
	// differential test, at a fixed seed).
	r := rand.New(rand.NewPCG(11, 2))
	for range 32 {
		data, err := layertest.Tar(layertest.Random(r, true, nil))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	base := tarOf(f, []tarEntry{
		{name: "a/", typ: tar.TypeDir}, {name: "a/f", body: "1"}, {name: "l", typ: tar.TypeSymlink, link: "a"},
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		sibling := filepath.Join(parent, "outside")
		must(t, os.Mkdir(sibling, 0o755))
		must(t, os.WriteFile(filepath.Join(sibling, "f"), []byte("keep"), 0o644))
		staging := filepath.Join(parent, "staging")
		must(t, os.Mkdir(staging, 0o700))
		root, err := os.OpenRoot(staging)
		must(t, err)
		defer root.Close()
		app := layer.NewApplier(root, layer.ApplyOptions{Image: true, Umask: 0o022})
		defer app.Close()
		for _, l := range [][]byte{base, data} {
			p := layerPlan{codec: compress.None, contentSize: -1}
			if err := tarLayer(ctx, app, p, bytes.NewReader(l)); err != nil {
				var re *layer.Refusal
				if !errors.Is(err, ErrUnsafe) && !errors.Is(err, ErrCorrupt) && !errors.As(err, &re) {
					t.Fatalf("tarLayer() = %v, want ErrUnsafe or ErrCorrupt", err)
				}
				break
			}
		}
		entries, _ := os.ReadDir(parent)
		if len(entries) != 2 {
			t.Fatalf("parent holds %v, want outside and staging", entries)
		}
		sib, _ := os.ReadDir(sibling)
		kept, _ := os.ReadFile(filepath.Join(sibling, "f"))
		if len(sib) != 1 || string(kept) != "keep" {
			t.Fatalf("outside changed: %v, %q", sib, kept)
		}
	})
}

// TestExtractImageAbsoluteLink: an image layer keeps an absolute symlink
// as written (it means the image root, as umoci and containerd read it),
// and verify --deep agrees.
func TestExtractImageAbsoluteLink(t *testing.T) {
	ref := writeLayout(t, true, []testLayer{imageLayer(tarOf(t, []tarEntry{
		{name: "bin/busybox", body: "#!"}, {name: "bin/sh", typ: tar.TypeSymlink, link: "/bin/busybox"},
		{name: "etc/localtime", typ: tar.TypeSymlink, link: "/usr/share/zoneinfo/UTC"},
	}))})
	rep, err := verify.Verify(ctx, ref, verify.Options{Deep: true})
	must(t, err)
	if !rep.OK() {
		var b strings.Builder
		rep.WriteText(&b)
		t.Errorf("verify --deep of an image with absolute symlinks:\n%s", b.String())
	}
	out := filepath.Join(t.TempDir(), "out")
	_, err = Extract(ctx, ref, out, ExtractOptions{})
	must(t, err)
	for link, want := range map[string]string{"bin/sh": "/bin/busybox", "etc/localtime": "/usr/share/zoneinfo/UTC"} {
		if got, err := os.Readlink(filepath.Join(out, link)); err != nil || got != want {
			t.Errorf("%s -> %q, %v; want %q", link, got, err, want)
		}
	}
}

// TestExtractImageReplacesLink: a layer that replaces a lower layer's
// symlink with a directory writes into that directory (the link is gone,
// nothing goes through it); verify --deep agrees.
func TestExtractImageReplacesLink(t *testing.T) {
	ref := writeLayout(t, true, []testLayer{
		imageLayer(tarOf(t, []tarEntry{{name: "lib", typ: tar.TypeSymlink, link: "usr/lib"}, {name: "usr/lib/", typ: tar.TypeDir}})),
		imageLayer(tarOf(t, []tarEntry{{name: "lib/", typ: tar.TypeDir}, {name: "lib/x.so", body: "x"}})),
	})
	rep, err := verify.Verify(ctx, ref, verify.Options{Deep: true})
	must(t, err)
	if !rep.OK() {
		var b strings.Builder
		rep.WriteText(&b)
		t.Errorf("verify --deep:\n%s", b.String())
	}
	out := filepath.Join(t.TempDir(), "out")
	_, err = Extract(ctx, ref, out, ExtractOptions{})
	must(t, err)
	if fi, err := os.Lstat(filepath.Join(out, "lib")); err != nil || !fi.IsDir() {
		t.Errorf("lib = %v, %v; want the directory of the upper layer", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(out, "usr", "lib", "x.so")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("usr/lib/x.so: %v; want nothing written through the old link", err)
	}
}

// TestExtractIndex: an index of several platforms extracts the manifest for
// this machine; with no single match it is ambiguous.
func TestExtractIndex(t *testing.T) {
	ref := writeLayout(t, true, []testLayer{imageLayer(tarOf(t, []tarEntry{{name: "here", body: "local platform"}}))})
	dir := strings.TrimSuffix(ref, ":t")
	s, err := layout.Open(dir)
	must(t, err)
	local, err := s.Resolve(ctx, layout.Reference{Path: dir, Tag: "t"})
	must(t, err)
	other := writeLayout(t, true, []testLayer{imageLayer(tarOf(t, []tarEntry{{name: "there", body: "other platform"}}))})
	os2, err := layout.Open(strings.TrimSuffix(other, ":t"))
	must(t, err)
	remote, err := os2.Resolve(ctx, layout.Reference{Path: os2.Root(), Tag: "t"})
	must(t, err)
	// Copy the other image's blobs into this layout.
	m, err := os2.ReadManifest(ctx, remote)
	must(t, err)
	for _, d := range append([]ocispec.Descriptor{remote, m.Config}, m.Layers...) {
		data, err := os2.FetchAll(ctx, d, 1<<20)
		must(t, err)
		must(t, s.Put(ctx, d, bytes.NewReader(data)))
	}
	otherArch := "arm64"
	if runtime.GOARCH == "arm64" {
		otherArch = "amd64"
	}
	index := func(platforms ...string) string {
		ix := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
		for i, d := range []ocispec.Descriptor{local, remote} {
			d.Annotations = nil
			d.Platform = &ocispec.Platform{OS: runtime.GOOS, Architecture: platforms[i]}
			ix.Manifests = append(ix.Manifests, d)
		}
		data, _ := json.Marshal(ix)
		desc, err := s.PutBytes(ctx, ocispec.MediaTypeImageIndex, data)
		must(t, err)
		return dir + "@" + desc.Digest.String()
	}
	out := filepath.Join(t.TempDir(), "out")
	_, err = Extract(ctx, index(runtime.GOARCH, otherArch), out, ExtractOptions{})
	must(t, err)
	if data, err := os.ReadFile(filepath.Join(out, "here")); err != nil || string(data) != "local platform" {
		t.Errorf("Extract(index) wrote %q, %v; want the %s image", data, err, runtime.GOARCH)
	}
	if _, err := Extract(ctx, index(runtime.GOARCH, runtime.GOARCH), filepath.Join(t.TempDir(), "o"), ExtractOptions{}); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("Extract(index of two %s images) = %v, want ErrAmbiguous", runtime.GOARCH, err)
	}
}
