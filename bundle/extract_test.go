package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
)

// node is what treeOf records of one entry of a tree.
type node struct {
	Type  string // file, dir, symlink
	Mode  fs.FileMode
	Data  string // sha256 of a file
	Link  string
	MTime time.Time
	Ino   uint64 // to compare hard links within a tree
}

// treeOf describes every entry below root (root itself excluded).
func treeOf(t *testing.T, root string) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n := node{Mode: fi.Mode(), MTime: fi.ModTime(), Ino: inode(fi)}
		switch {
		case fi.IsDir():
			n.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			n.Type = "symlink"
			n.Link, _ = os.Readlink(p)
		case fi.Mode().IsRegular():
			n.Type = "file"
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			n.Data = hex.EncodeToString(sum[:])
		default:
			n.Type = fi.Mode().Type().String()
		}
		out[filepath.ToSlash(rel)] = n
		return nil
	})
	must(t, err)
	return out
}

// sameTree compares two trees exactly: types, modes, content, link
// targets, mtimes, and which files are hard links of each other.
func sameTree(t *testing.T, got, want map[string]node) {
	t.Helper()
	compareTrees(t, got, want, 0)
}

// extractedTree compares an extracted tree with its source: the same as
// sameTree, with the source's mtimes truncated to the second, as tar keeps
// them.
func extractedTree(t *testing.T, got, want map[string]node) {
	t.Helper()
	compareTrees(t, got, want, time.Second)
}

func compareTrees(t *testing.T, got, want map[string]node, resolution time.Duration) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: missing", p)
			continue
		}
		if g.Type != w.Type || g.Mode != w.Mode || g.Data != w.Data || g.Link != w.Link || !g.MTime.Equal(w.MTime.Truncate(resolution)) {
			t.Errorf("%s = %+v, want %+v", p, g, w)
		}
		for q, w2 := range want {
			if q != p && w.Type == "file" && w2.Ino == w.Ino && got[q].Ino != g.Ino {
				t.Errorf("%s and %s: hard links in the source, not after extract", p, q)
			}
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: extra entry", p)
		}
	}
}

// roundTripTree builds a tree with every kind of entry pack keeps, with
// mtimes at whole seconds (tar keeps seconds), and returns the paths to pack.
func roundTripTree(t *testing.T, dir string, big int) []string {
	t.Helper()
	paths := fixture(t, dir) // files, an empty file, an empty dir, a symlink, a hard link, a unicode name
	app := filepath.Join(dir, "app")
	files := map[string]string{
		"deep/a/b/c/leaf.txt": "leaf\n",
		"日本語/ファイル.txt":        "こんにちは\n",
		"deep/exec.sh":        "#!/bin/sh\n",
	}
	for name, data := range files {
		p := filepath.Join(app, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(data), 0o644))
	}
	must(t, os.Chmod(filepath.Join(app, "deep/exec.sh"), 0o750))
	must(t, os.Symlink("../bin/run", filepath.Join(app, "deep/up-link")))
	must(t, os.Symlink("a/b/c", filepath.Join(app, "deep/dir-link")))
	must(t, os.Symlink("missing", filepath.Join(app, "deep/dangling")))
	must(t, os.Mkdir(filepath.Join(app, "ro-dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(app, "ro-dir/inside"), []byte("x"), 0o444))
	must(t, os.Chmod(filepath.Join(app, "ro-dir"), 0o555))
	if big > 0 {
		f, err := os.Create(filepath.Join(app, "big.bin"))
		must(t, err)
		buf := make([]byte, 1<<20)
		for i := 0; i < big>>20; i++ {
			for j := range buf {
				buf[j] = byte(i*7 + j*13 + j>>9)
			}
			_, err := f.Write(buf)
			must(t, err)
		}
		must(t, f.Close())
	}
	// Whole seconds, deepest first, so that making children does not move them.
	when := fixedTime.Truncate(time.Second)
	var all []string
	must(t, filepath.WalkDir(app, func(p string, d fs.DirEntry, err error) error {
		all = append(all, p)
		return err
	}))
	for i := len(all) - 1; i >= 0; i-- {
		must(t, lchtimes(all[i], when.Add(-time.Duration(i)*time.Minute)))
	}
	return paths
}

func TestExtractRoundTrip(t *testing.T) {
	for _, c := range []compress.Codec{compress.Zstd, compress.Gzip, compress.None} {
		t.Run(string(c), func(t *testing.T) {
			src := t.TempDir()
			paths := roundTripTree(t, src, 4<<20)
			dir := filepath.Join(t.TempDir(), "L")
			r, err := Pack(ctx, dir, paths, PackOptions{Compression: c, Tags: []string{"v1"}})
			must(t, err)
			work := t.TempDir()
			t.Chdir(work)      // relative DIR and reference
			t.Cleanup(func() { // let TempDir remove the read-only directories
				os.Chmod(filepath.Join(src, "app/ro-dir"), 0o755)
				os.Chmod(filepath.Join(work, "out/app/ro-dir"), 0o755)
			})
			res, err := Extract(ctx, dir+":v1", "out", ExtractOptions{})
			must(t, err)
			extractedTree(t, treeOf(t, "out"), treeOf(t, src))
			if res.Digest != r.Digest || len(res.Layers) != 2 || res.Layers[0].As != asTar || res.Layers[1].Title != "notes.md" {
				t.Errorf("Extract() = %+v", res)
			}
			want := treeOf(t, src)
			if len(res.Entries) != len(want) {
				t.Errorf("Extract() listed %d entries, want %d", len(res.Entries), len(want))
			}
			for _, e := range res.Entries {
				n := want[e.Path]
				if e.Type != n.Type || e.Mode != fmt.Sprintf("%04o", unixMode(n.Mode)) {
					t.Errorf("Extract() entry %+v, want %s %04o", e, n.Type, unixMode(n.Mode))
				}
			}
			left, _ := os.ReadDir(work)
			if len(left) != 1 {
				t.Errorf("working directory holds %v, want only out (no staging left)", left)
			}
		})
	}
}

// TestExtractSelection covers --layer, the empty-DIR and --overwrite rules,
// and a symlink already in DIR, which a merge replaces and never follows.
func TestExtractSelection(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	_, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}})
	must(t, err)
	ref := dir + ":v1"

	out := filepath.Join(t.TempDir(), "out")
	res, err := Extract(ctx, ref, out, ExtractOptions{Layers: []string{"notes.md"}})
	must(t, err)
	if got := treeOf(t, out); len(got) != 1 || got["notes.md"].Type != "file" {
		t.Errorf("Extract(--layer notes.md) wrote %v", got)
	}
	if res.Layers[0].As != asUnselected || res.Layers[1].As != asTar {
		t.Errorf("Extract(--layer notes.md) layers = %+v", res.Layers)
	}
	if _, err := Extract(ctx, ref, filepath.Join(t.TempDir(), "o"), ExtractOptions{Layers: []string{"nope"}}); !errors.Is(err, ErrBadInput) {
		t.Errorf("Extract(--layer nope) = %v, want ErrBadInput", err)
	}

	// DIR not empty: refused, untouched.
	before := treeOf(t, out)
	if _, err := Extract(ctx, ref, out, ExtractOptions{}); !errors.Is(err, ErrTargetNotEmpty) {
		t.Errorf("Extract(into a non-empty DIR) = %v, want ErrTargetNotEmpty", err)
	}
	sameTree(t, treeOf(t, out), before)

	// --overwrite merges; DIR's own files stay; a symlink in DIR named like
	// a bundle directory is replaced, and what it pointed to is untouched.
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "victim"), []byte("keep"), 0o644))
	must(t, os.Symlink(outside, filepath.Join(out, "app")))
	must(t, os.WriteFile(filepath.Join(out, "mine.txt"), []byte("mine"), 0o600))
	must(t, os.WriteFile(filepath.Join(out, "notes.md"), []byte("old"), 0o600))
	outsideBefore := treeOf(t, outside)
	_, err = Extract(ctx, ref, out, ExtractOptions{Overwrite: true})
	must(t, err)
	sameTree(t, treeOf(t, outside), outsideBefore)
	want := treeOf(t, src)
	got := treeOf(t, out)
	if got["mine.txt"].Type != "file" {
		t.Errorf("--overwrite removed DIR's own file")
	}
	delete(got, "mine.txt")
	extractedTree(t, got, want)

	// A directory in DIR where the bundle has a file: refused before any
	// change.
	out2 := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(out2, "notes.md", "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(out2, "keep"), []byte("k"), 0o644))
	before = treeOf(t, out2)
	if _, err := Extract(ctx, ref, out2, ExtractOptions{Overwrite: true}); !errors.Is(err, ErrTargetNotEmpty) {
		t.Errorf("Extract(--overwrite, dir where the bundle has a file) = %v, want ErrTargetNotEmpty", err)
	}
	sameTree(t, treeOf(t, out2), before)

	// An empty existing DIR keeps its own mode.
	out3 := filepath.Join(t.TempDir(), "empty")
	must(t, os.Mkdir(out3, 0o700))
	_, err = Extract(ctx, ref, out3, ExtractOptions{})
	must(t, err)
	if fi, err := os.Stat(out3); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("empty DIR after extract: %v, %v; want mode 0700", fi.Mode(), err)
	}
	// DIR may be a symlink to a directory: the directory gets the files.
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(real, link))
	_, err = Extract(ctx, ref, link, ExtractOptions{})
	must(t, err)
	extractedTree(t, treeOf(t, real), want)
}

func TestExtractPermissions(t *testing.T) {
	old := umask(0o027)
	defer umask(old)
	data := tarOf(t, []tarEntry{
		{name: "x/", typ: tar.TypeDir, mode: 0o1777},
		{name: "x/suid", body: "s", mode: 0o4755},
		{name: "x/open", body: "o", mode: 0o666},
	})
	ref := artifactLayout(t, []testLayer{ociLayer("x", data)})
	out := filepath.Join(t.TempDir(), "out")
	_, err := Extract(ctx, ref, out, ExtractOptions{})
	must(t, err)
	for name, want := range map[string]fs.FileMode{"x": fs.ModeDir | 0o750, "x/suid": 0o750, "x/open": 0o640} {
		if fi, err := os.Lstat(filepath.Join(out, name)); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode(), err, want)
		}
	}
	out = filepath.Join(t.TempDir(), "out")
	_, err = Extract(ctx, ref, out, ExtractOptions{PreservePermissions: true})
	must(t, err)
	for name, want := range map[string]fs.FileMode{"x": fs.ModeDir | fs.ModeSticky | 0o777, "x/suid": fs.ModeSetuid | 0o755, "x/open": 0o666} {
		if fi, err := os.Lstat(filepath.Join(out, name)); err != nil || fi.Mode() != want {
			t.Errorf("--preserve-permissions: %s: mode %v (%v), want %v", name, fi.Mode(), err, want)
		}
	}
	if os.Geteuid() != 0 {
		if _, err := Extract(ctx, ref, filepath.Join(t.TempDir(), "o"), ExtractOptions{SameOwner: true}); !errors.Is(err, ErrBadInput) {
			t.Errorf("Extract(--same-owner) as non-root = %v, want ErrBadInput", err)
		}
		return
	}
	out = filepath.Join(t.TempDir(), "owned")
	owned := artifactLayout(t, []testLayer{ociLayer("x", tarOf(t, []tarEntry{
		{name: "x/", typ: tar.TypeDir, mode: 0o755, uid: 1234, gid: 5678},
		{name: "x/f", body: "f", mode: 0o644, uid: 4321, gid: 8765},
		{name: "x/l", typ: tar.TypeSymlink, link: "f", uid: 99, gid: 98},
	}))})
	_, err = Extract(ctx, owned, out, ExtractOptions{SameOwner: true})
	must(t, err)
	for name, want := range map[string][2]uint32{"x": {1234, 5678}, "x/f": {4321, 8765}, "x/l": {99, 98}} {
		fi, err := os.Lstat(filepath.Join(out, name))
		must(t, err)
		if uid, gid := owner(fi); uid != want[0] || gid != want[1] {
			t.Errorf("--same-owner: %s owned by %d:%d, want %d:%d", name, uid, gid, want[0], want[1])
		}
	}
	out = filepath.Join(t.TempDir(), "not-owned")
	_, err = Extract(ctx, owned, out, ExtractOptions{})
	must(t, err)
	fi, err := os.Lstat(filepath.Join(out, "x/f"))
	must(t, err)
	if uid, _ := owner(fi); uid != 0 {
		t.Errorf("without --same-owner, x/f is owned by %d, want root", uid)
	}
}

// ---------------------------------------------------------------------------
// Layouts built in test code

type tarEntry struct {
	name     string
	typ      byte // tar.TypeReg when zero
	body     string
	link     string
	mode     int64
	size     int64 // when set, the declared size (the body is written as is)
	uid, gid int
}

// tarOf writes entries as a tar stream. An entry with size set gets that
// declared size and its body as the only data: the stream ends there.
func tarOf(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Linkname: e.link, Mode: mode, ModTime: fixedTime, Uid: e.uid, Gid: e.gid, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if e.size != 0 {
			hdr.Size = e.size
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte(e.body))
			tw.Flush()
			return buf.Bytes()
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type testLayer struct {
	mediaType string
	blob      []byte
	ann       map[string]string
	diffID    digest.Digest
}

// ociLayer is an uncompressed ocibundle layer: titled, with the content
// digest and size annotations.
func ociLayer(title string, tarData []byte) testLayer {
	return testLayer{mediaType: ocispec.MediaTypeImageLayer, blob: tarData, ann: map[string]string{
		ocispec.AnnotationTitle: title, profile.AnnotationContentDigest: digest.FromBytes(tarData).String(),
		profile.AnnotationContentSize: strconv.Itoa(len(tarData)),
	}}
}

// imageLayer is an uncompressed image layer.
func imageLayer(tarData []byte) testLayer {
	return testLayer{mediaType: ocispec.MediaTypeImageLayer, blob: tarData, diffID: digest.FromBytes(tarData)}
}

// artifactLayout writes a layout with one artifact manifest of layers and
// returns its reference.
func artifactLayout(t testing.TB, layers []testLayer) string {
	t.Helper()
	return writeLayout(t, false, layers)
}

func writeLayout(t testing.TB, image bool, layers []testLayer) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "L")
	s, err := layout.Create(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	var diffIDs []digest.Digest
	for _, l := range layers {
		d, err := s.PutBytes(ctx, l.mediaType, l.blob)
		if err != nil {
			t.Fatal(err)
		}
		d.Annotations = l.ann
		m.Layers = append(m.Layers, d)
		diffIDs = append(diffIDs, l.diffID)
	}
	if image {
		cfg, _ := json.Marshal(map[string]any{
			"architecture": "amd64", "os": "linux",
			"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
		})
		if m.Config, err = s.PutBytes(ctx, ocispec.MediaTypeImageConfig, cfg); err != nil {
			t.Fatal(err)
		}
	} else {
		m.ArtifactType = profile.DefaultArtifactType
		m.Config = ocispec.DescriptorEmptyJSON
		if err := s.Put(ctx, m.Config, bytes.NewReader(m.Config.Data)); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := json.Marshal(m)
	desc, err := s.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	if err != nil {
		t.Fatal(err)
	}
	err = s.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.SetTag(idx, desc, "t") })
	if err != nil {
		t.Fatal(err)
	}
	return dir + ":t"
}
