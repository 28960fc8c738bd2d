package bundle

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// diffTree writes files (name -> content; "->target" makes a symlink, a
// name ending in "/" a directory) below dir/name, all with one mtime.
func diffTree(t *testing.T, dir, name string, files map[string]string, mtime time.Time) string {
	t.Helper()
	root := filepath.Join(dir, name)
	must(t, os.MkdirAll(root, 0o755))
	for n, data := range files {
		p := filepath.Join(root, filepath.FromSlash(n))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		switch {
		case strings.HasSuffix(n, "/"):
			must(t, os.MkdirAll(p, 0o755))
		case strings.HasPrefix(data, "->"):
			must(t, os.Symlink(data[2:], p))
		default:
			must(t, os.WriteFile(p, []byte(data), 0o644))
		}
	}
	must(t, filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&os.ModeSymlink == 0 {
			err = os.Chtimes(p, mtime, mtime)
		}
		return err
	}))
	return root
}

// openDiff diffs two references of a layout or archive.
func openDiff(t *testing.T, a, b string, opts DiffOptions) DiffResult {
	t.Helper()
	from, err := Open(ctx, a, nil)
	must(t, err)
	defer from.Close()
	to, err := Open(ctx, b, nil)
	must(t, err)
	defer to.Close()
	res, err := Diff(ctx, from, to, opts)
	if err != nil {
		t.Fatalf("Diff(%s, %s) = %v", a, b, err)
	}
	return res
}

// fileLines spells res.Files as "change path what…", sorted by path.
func fileLines(res DiffResult) []string {
	var out []string
	for _, f := range res.Files {
		out = append(out, strings.TrimSpace(f.Change+" "+f.Path+" "+strings.Join(f.What, ",")))
	}
	return out
}

// TestDiff: files added, removed and changed (content, mode, link, type),
// layers added, removed and changed (an artifact's, by title), manifest
// annotations added, removed and changed; a layout against its own export
// archive is equal (issue 13 item 4).
func TestDiff(t *testing.T) {
	src := t.TempDir()
	mt := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	app1 := diffTree(t, filepath.Join(src, "1"), "app", map[string]string{
		"same.txt": "same", "gone.txt": "gone", "content.txt": "v1", "mode.sh": "#!/bin/sh",
		"link": "->same.txt", "kind": "a file", "dir/": "",
	}, mt)
	docs1 := diffTree(t, filepath.Join(src, "1"), "docs", map[string]string{"a.md": "a"}, mt)
	app2 := diffTree(t, filepath.Join(src, "2"), "app", map[string]string{
		"same.txt": "same", "new.txt": "new", "content.txt": "v2", "mode.sh": "#!/bin/sh",
		"link": "->new.txt", "kind/": "", "dir/": "",
	}, mt)
	must(t, os.Chmod(filepath.Join(app2, "mode.sh"), 0o755))
	notes2 := diffTree(t, filepath.Join(src, "2"), "notes", map[string]string{"n.txt": "n"}, mt)

	lay := filepath.Join(t.TempDir(), "L")
	_, err := Pack(ctx, lay, []string{app1, docs1}, PackOptions{Tags: []string{"1"},
		ManifestAnnotations: map[string]string{"org.opencontainers.image.version": "1", "gone": "x"}})
	must(t, err)
	_, err = Pack(ctx, lay, []string{app2, notes2}, PackOptions{Tags: []string{"2"},
		ManifestAnnotations: map[string]string{"org.opencontainers.image.version": "2", "new": "y"}})
	must(t, err)

	res := openDiff(t, lay+":1", lay+":2", DiffOptions{})
	if res.Equal {
		t.Fatal("Diff(1, 2).Equal = true")
	}
	wantFiles := []string{
		"changed app/content.txt content",
		"removed app/gone.txt",
		"changed app/kind type,mode",
		"changed app/link link",
		"changed app/mode.sh mode",
		"added app/new.txt",
		"removed docs",
		"removed docs/a.md",
		"added notes",
		"added notes/n.txt",
	}
	if got := fileLines(res); !slices.Equal(got, wantFiles) {
		t.Errorf("Diff(1, 2).Files =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantFiles, "\n"))
	}
	var layers []string
	for _, l := range res.Layers {
		layers = append(layers, l.Change+" "+l.Title)
	}
	if want := []string{"changed app", "removed docs", "added notes"}; !slices.Equal(layers, want) {
		t.Errorf("Diff(1, 2).Layers = %q, want %q", layers, want)
	}
	var anns []string
	for _, a := range res.Annotations {
		anns = append(anns, a.Key+" "+strings.TrimSpace(deref(a.From)+" "+deref(a.To)))
	}
	if want := []string{"gone x", "new y", "org.opencontainers.image.version 1 2"}; !slices.Equal(anns, want) {
		t.Errorf("Diff(1, 2).Annotations = %q, want %q", anns, want)
	}
	if len(res.Manifest) != 0 {
		t.Errorf("Diff(1, 2).Manifest = %v, want none (same artifact type and config)", res.Manifest)
	}
	var text bytes.Buffer
	must(t, WriteDiffText(&text, res))
	for _, line := range []string{"M app/mode.sh (mode 0644 -> 0755)", "M app/link (link same.txt -> new.txt)", "A app/new.txt", "D app/gone.txt",
		`annotation org.opencontainers.image.version: "1" -> "2"`, "layer 1 notes: - -> sha256:"} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("WriteDiffText() lacks %q:\n%s", line, text.String())
		}
	}

	// The other way round: what was added is removed.
	back := openDiff(t, lay+":2", lay+":1", DiffOptions{})
	if len(back.Files) != len(res.Files) || back.Files[0].Path != "app/content.txt" || back.Files[1].Change != "added" {
		t.Errorf("Diff(2, 1).Files = %q, want the mirror of Diff(1, 2)", fileLines(back))
	}

	// A bundle and its export archive are equal, and equal prints nothing.
	archive := filepath.Join(t.TempDir(), "one.tar")
	_, err = ExportFile(ctx, archive, []string{lay + ":1"}, ExportOptions{})
	must(t, err)
	same := openDiff(t, archive, lay+":1", DiffOptions{})
	if !same.Equal || len(same.Files)+len(same.Layers)+len(same.Annotations)+len(same.Manifest) != 0 {
		t.Errorf("Diff(archive of 1, 1) = %+v, want equal", same)
	}
	text.Reset()
	must(t, WriteDiffText(&text, same))
	if text.Len() != 0 {
		t.Errorf("WriteDiffText(equal) = %q, want nothing", text.String())
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestDiffSameDigestReadsNoLayer: bundles with one manifest digest are
// equal without a layer being read (here: none is there to read).
func TestDiffSameDigestReadsNoLayer(t *testing.T) {
	in := diffTree(t, t.TempDir(), "app", map[string]string{"f": "x"}, time.Unix(1e9, 0))
	lay := filepath.Join(t.TempDir(), "L")
	res, err := Pack(ctx, lay, []string{in}, PackOptions{Tags: []string{"a", "b"}})
	must(t, err)
	layer := res.Layers[0].Digest
	must(t, os.Remove(filepath.Join(lay, "blobs", layer.Algorithm().String(), layer.Encoded())))
	if d := openDiff(t, lay+":a", lay+"@"+string(res.Digest), DiffOptions{}); !d.Equal {
		t.Errorf("Diff(a, @digest) = %+v, want equal", d)
	}
}

// TestDiffMtime: files that differ only in mtime are not a file change
// unless Mtime; the layers differ either way.
func TestDiffMtime(t *testing.T) {
	dir := t.TempDir()
	a := diffTree(t, filepath.Join(dir, "a"), "app", map[string]string{"f": "x"}, time.Unix(1e9, 0))
	b := diffTree(t, filepath.Join(dir, "b"), "app", map[string]string{"f": "x"}, time.Unix(2e9, 0))
	lay := filepath.Join(t.TempDir(), "L")
	for tag, p := range map[string]string{"a": a, "b": b} {
		_, err := Pack(ctx, lay, []string{p}, PackOptions{Tags: []string{tag}})
		must(t, err)
	}
	res := openDiff(t, lay+":a", lay+":b", DiffOptions{})
	if res.Equal || len(res.Files) != 0 || len(res.Layers) != 1 {
		t.Errorf("Diff(a, b) = files %q, %d layer changes, equal %v; want no file change, one layer change", fileLines(res), len(res.Layers), res.Equal)
	}
	res = openDiff(t, lay+":a", lay+":b", DiffOptions{Mtime: true})
	if got := fileLines(res); !slices.Equal(got, []string{"changed app mtime", "changed app/f mtime"}) {
		t.Errorf("Diff(a, b, Mtime) = %q, want app and app/f with mtime", got)
	}
}

// TestDiffLayersByPosition: an image's layers are matched by position, and its
// config is a manifest field.
func TestDiffLayersByPosition(t *testing.T) {
	l := func(d string) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString(d), Size: 1}
	}
	img := func(config string, layers ...ocispec.Descriptor) ocispec.Manifest {
		return ocispec.Manifest{Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString(config)}, Layers: layers}
	}
	a, b := img("c1", l("base"), l("app1")), img("c2", l("base"), l("app2"), l("extra"))
	var got []string
	for _, c := range diffLayers(a, b) {
		got = append(got, c.Change+" "+strings.Repeat("i", c.Index))
	}
	if want := []string{"changed i", "added ii"}; !slices.Equal(got, want) {
		t.Errorf("diffLayers(image) = %q, want %q", got, want)
	}
	if m := diffManifest(a, b); len(m) != 1 || m[0].Field != "config" {
		t.Errorf("diffManifest(image) = %v, want the config", m)
	}
}

// TestDiffSkipsIdenticalLayers: an artifact's layer with the same title
// and blob on both sides is not read (here its blob is gone); the layers
// that differ are compared file by file.
func TestDiffSkipsIdenticalLayers(t *testing.T) {
	dir := t.TempDir()
	mt := time.Unix(1e9, 0)
	docs := diffTree(t, filepath.Join(dir, "0"), "docs", map[string]string{"a.md": "a"}, mt)
	app1 := diffTree(t, filepath.Join(dir, "1"), "app", map[string]string{"f": "1"}, mt)
	app2 := diffTree(t, filepath.Join(dir, "2"), "app", map[string]string{"f": "2"}, mt)
	lay := filepath.Join(t.TempDir(), "L")
	r1, err := Pack(ctx, lay, []string{docs, app1}, PackOptions{Tags: []string{"1"}})
	must(t, err)
	_, err = Pack(ctx, lay, []string{docs, app2}, PackOptions{Tags: []string{"2"}})
	must(t, err)
	shared := r1.Layers[0].Digest
	must(t, os.Remove(filepath.Join(lay, "blobs", shared.Algorithm().String(), shared.Encoded())))
	res := openDiff(t, lay+":1", lay+":2", DiffOptions{})
	if got := fileLines(res); !slices.Equal(got, []string{"changed app/f content"}) {
		t.Errorf("Diff(1, 2).Files = %q, want app/f's content only", got)
	}
	if len(res.Layers) != 1 || res.Layers[0].Title != "app" {
		t.Errorf("Diff(1, 2).Layers = %+v, want app changed", res.Layers)
	}
	// Only an annotation differs: no layer is read at all.
	_, err = Pack(ctx, lay, []string{docs}, PackOptions{Tags: []string{"3"}, ManifestAnnotations: map[string]string{"k": "v"}})
	must(t, err)
	_, err = Pack(ctx, lay, []string{docs}, PackOptions{Tags: []string{"4"}})
	must(t, err)
	must(t, os.Remove(filepath.Join(lay, "blobs", shared.Algorithm().String(), shared.Encoded()))) // pack wrote it again
	if res := openDiff(t, lay+":3", lay+":4", DiffOptions{}); res.Equal || len(res.Files) != 0 || len(res.Annotations) != 1 {
		t.Errorf("Diff(3, 4) = %+v, want one annotation removed, no file change", res)
	}
}
