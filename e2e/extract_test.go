//go:build linux

// End-to-end tests of issue 5 through the real binary: extract of ocibundle
// bundles and of what peers wrote (oras, umoci, skopeo); tag, untag and gc
// are in tag_gc_test.go. Helpers here are prefixed xt so that they cannot
// collide with the other e2e files.

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/ocibundle/ocibundle/layout"
)

// xtWrite writes a file, creating its parent directories.
func xtWrite(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// xtTree describes every entry below root (root excluded).
func xtTree(t *testing.T, root string) map[string]xtNode {
	t.Helper()
	out := map[string]xtNode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		n := xtNode{Mode: fi.Mode(), MTime: fi.ModTime(), ino: fi.Sys().(*syscall.Stat_t).Ino}
		switch {
		case fi.IsDir():
			n.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			n.Type, n.Link = "symlink", mustReadlink(t, p)
		case fi.Mode().IsRegular():
			n.Type = "file"
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			n.Data = hex.EncodeToString(h.Sum(nil))
		default:
			n.Type = fi.Mode().Type().String()
		}
		out[filepath.ToSlash(rel)] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustReadlink(t *testing.T, p string) string {
	t.Helper()
	l, err := os.Readlink(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// xtCompare reports every difference between two trees in the fields
// named: "type" always, and any of "mode", "data", "link", "mtime",
// "hardlinks" (files that are one inode in want are one inode in got).
func xtCompare(t *testing.T, what string, got, want map[string]xtNode, fields ...string) {
	t.Helper()
	has := map[string]bool{}
	for _, f := range fields {
		has[f] = true
	}
	var names []string
	for p := range want {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		w := want[p]
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: %s missing", what, p)
			continue
		case g.Type != w.Type,
			has["mode"] && g.Mode != w.Mode,
			has["data"] && g.Data != w.Data,
			has["link"] && g.Link != w.Link,
			has["mtime"] && !g.MTime.Equal(w.MTime):
			t.Errorf("%s: %s = %+v, want %+v", what, p, g, w)
		}
		if has["hardlinks"] && w.Type == "file" {
			for _, q := range names {
				if q != p && want[q].ino == w.ino && got[q].ino != g.ino {
					t.Errorf("%s: %s and %s are one file in the source, two after extract", what, p, q)
				}
			}
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: extra entry %s", what, p)
		}
	}
}

// xtRoundTripTree builds, below src, a directory "tree" with every kind of
// entry pack keeps (files, empty files, empty directories, relative
// symlinks to a file, to a directory and dangling, hard links, unicode
// names, executable and read-only modes) and a file "big.bin" of bigSize
// bytes, all with distinct whole-second mtimes. It returns the two paths.
func xtRoundTripTree(t *testing.T, src string, bigSize int) (tree, big string) {
	t.Helper()
	tree, big = filepath.Join(src, "tree"), filepath.Join(src, "big.bin")
	xtWrite(t, filepath.Join(tree, "bin/tool"), "#!/bin/sh\necho tool\n", 0o755)
	xtWrite(t, filepath.Join(tree, "bin/helper"), "#!/bin/sh\n", 0o700)
	xtWrite(t, filepath.Join(tree, "etc/config.yaml"), "key: value\n", 0o640)
	xtWrite(t, filepath.Join(tree, "etc/readonly"), "ro\n", 0o444)
	xtWrite(t, filepath.Join(tree, "empty"), "", 0o644)
	xtWrite(t, filepath.Join(tree, "ünïcödé/日本語.txt"), "こんにちは\n", 0o644)
	xtWrite(t, filepath.Join(tree, "deep/a/b/c/d/leaf"), "leaf\n", 0o600)
	for _, d := range []string{"empty-dir", "deep/empty/nested"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"bin/tool-link": "tool", "etc-link": "etc", "deep/up": "../bin/tool", "dangling": "nowhere"} {
		if err := os.Symlink(target, filepath.Join(tree, link)); err != nil {
			t.Fatal(err)
		}
	}
	for existing, link := range map[string]string{"bin/tool": "bin/tool-hard", "etc/config.yaml": "deep/config-hard"} {
		if err := os.Link(filepath.Join(tree, existing), filepath.Join(tree, link)); err != nil {
			t.Fatal(err)
		}
	}
	// The big file: 1 MiB blocks, each stamped with its number so that no
	// two are alike.
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	block := []byte(strings.Repeat("ocibundle round trip, not very random text. ", (1<<20)/44+1)[:1<<20])
	for i := 0; i < bigSize>>20; i++ {
		copy(block, fmt.Sprintf("block %08d", i))
		if _, err := f.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(tree, "deep/empty"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(tree, "deep/empty"), 0o755) })
	// Distinct whole-second mtimes, deepest first.
	var all []string
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		all = append(all, p)
		return err
	})
	base := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	for i := len(all) - 1; i >= 1; i-- {
		ts := unix.NsecToTimespec(base.Add(time.Duration(i) * time.Minute).UnixNano())
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, all[i], []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
	return tree, big
}

// xtBigSize is the size of the big file of the round trip: the issue's
// 300 MiB, which packs and extracts in about a second each here.
const xtBigSize = 300 << 20

// TestExtractRoundTrip: pack a tree with every kind of entry and a 300 MiB
// file, extract it with the binary, and compare everything: content,
// modes, link targets, mtimes, hard links.
func TestExtractRoundTrip(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join(work, "src")
	start := time.Now()
	tree, big := xtRoundTripTree(t, src, xtBigSize)
	t.Logf("source tree written in %v", time.Since(start))
	L := filepath.Join(work, "L")
	start = time.Now()
	mustRun(t, "", nil, "pack", "-o", L, "-t", "v1", tree, big)
	packed := time.Since(start)
	out := filepath.Join(work, "out")
	start = time.Now()
	var res struct {
		Layers  []struct{ Title, As string }
		Entries []struct{ Path, Type string }
	}
	stdout := mustRun(t, "", nil, "extract", "--json", "-o", out, L+":v1")
	t.Logf("%d MiB file: pack %v, extract %v", xtBigSize>>20, packed, time.Since(start))
	t.Cleanup(func() { os.Chmod(filepath.Join(out, "tree/deep/empty"), 0o755) })
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Layers) != 2 || res.Layers[0].Title != "tree" || res.Layers[1].As != "tar" {
		t.Errorf("extract --json = %.500s (%v)", stdout, err)
	}
	start = time.Now()
	want := xtTree(t, src)
	got := xtTree(t, out)
	t.Logf("trees hashed in %v", time.Since(start))
	xtCompare(t, "round trip", got, want, "mode", "data", "link", "mtime", "hardlinks")
	if len(res.Entries) != len(want) {
		t.Errorf("extract --json listed %d entries, want %d", len(res.Entries), len(want))
	}

	// The same bundle extracted straight from an exported archive: a file,
	// FILE:TAG, and the archive on standard input.
	archive := filepath.Join(work, "a.tar")
	mustRun(t, "", nil, "export", "-o", archive, L+":v1")
	for _, c := range []struct{ name, cmd string }{
		{"archive", `"$0" extract -o "$1" "$2"`},
		{"archive:tag", `"$0" extract -o "$1" "$2:v1"`},
		{"stdin", `"$0" extract -o "$1" - < "$2"`},
	} {
		dir := filepath.Join(work, "from-"+strings.ReplaceAll(c.name, ":", "-"))
		t.Cleanup(func() { os.Chmod(filepath.Join(dir, "tree/deep/empty"), 0o755) })
		if r := runCmd(t, "", nil, "sh", "-c", c.cmd, bin, dir, archive); r.code != 0 {
			t.Fatalf("extract from %s: exit %d: %s", c.name, r.code, r.stderr)
		}
		xtCompare(t, "extract from "+c.name, xtTree(t, dir), want, "mode", "data", "link", "mtime", "hardlinks")
	}
	if left, _ := filepath.Glob(filepath.Join(work, ".*archive-*")); len(left) != 0 {
		t.Errorf("temporary layouts left behind: %v", left)
	}

	// Refusals through the binary: exit codes and one-line messages, and
	// DIR unchanged.
	before := xtTree(t, out)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"extract", "-o", out, L + ":v1"}, 2, "output directory not empty"},
		{[]string{"extract", L + ":v1"}, 2, "-o DIR is required"},
		{[]string{"extract", "-o", out, "--layer", "nope", L + ":v1"}, 1, `--layer "nope"`},
		{[]string{"extract", "-o", filepath.Join(work, "o2"), L + ":nope"}, 3, "tag not found"},
		{[]string{"extract", "-o", filepath.Join(work, "o3"), filepath.Join(tree, "empty")}, 1, "bad archive: an empty file"},
	} {
		r := run(t, "", nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("ocibundle %s: exit %d, stderr %q; want exit %d and one line with %q", strings.Join(c.args, " "), r.code, r.stderr, c.code, c.msg)
		}
	}
	xtCompare(t, "after refusals", xtTree(t, out), before, "mode", "data", "link", "mtime")

	// --overwrite with a changed file and a file of DIR's own.
	if err := os.WriteFile(filepath.Join(out, "mine"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(out, "tree/etc/readonly"), 0o644)
	if err := os.WriteFile(filepath.Join(out, "tree/etc/readonly"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", nil, "extract", "--overwrite", "--layer", "tree", "-o", out, L+":v1")
	got = xtTree(t, out)
	if got["mine"].Type != "file" {
		t.Error("--overwrite removed DIR's own file")
	}
	delete(got, "mine")
	xtCompare(t, "--overwrite", got, want, "mode", "data", "link", "mtime")
}

// TestExtractORAS: what `oras push --oci-layout` wrote (two files, one in a
// subdirectory, and a directory) extracts to what `oras pull` writes, and
// to the source.
func TestExtractORAS(t *testing.T) {
	oras := requireTool(t, "oras")
	work := t.TempDir()
	src := filepath.Join(work, "src")
	xtWrite(t, filepath.Join(src, "hello.txt"), "hello\n", 0o644)
	xtWrite(t, filepath.Join(src, "notes/todo.md"), "- extract\n", 0o644)
	xtWrite(t, filepath.Join(src, "docs/readme.md"), "# docs\n", 0o644)
	xtWrite(t, filepath.Join(src, "docs/bin/run"), "#!/bin/sh\n", 0o755)
	xtWrite(t, filepath.Join(src, "docs/sub/deep.txt"), "deep\n", 0o600)
	if err := os.Symlink("readme.md", filepath.Join(src, "docs/link")); err != nil {
		t.Fatal(err)
	}
	L := filepath.Join(work, "L")
	if r := runCmd(t, src, nil, oras, "push", "--oci-layout", L+":v1", "hello.txt", "notes/todo.md", "docs/"); r.code != 0 {
		t.Fatalf("oras push: exit %d: %s", r.code, r.stderr)
	}
	out := filepath.Join(work, "out")
	stdout := mustRun(t, "", nil, "extract", "--json", "-o", out, L+":v1")
	var res struct {
		Layers []struct{ Title, As, MediaType string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	var as []string
	for _, l := range res.Layers {
		as = append(as, l.Title+"="+l.As)
	}
	if got := strings.Join(as, " "); got != "hello.txt=file notes/todo.md=file docs=tar" {
		t.Errorf("layers extracted as %q", got)
	}
	pulled := filepath.Join(work, "pulled")
	if r := runCmd(t, "", nil, oras, "pull", "--oci-layout", L+":v1", "-o", pulled); r.code != 0 {
		t.Fatalf("oras pull: exit %d: %s", r.code, r.stderr)
	}
	got := xtTree(t, out)
	xtCompare(t, "extract vs oras pull", got, xtTree(t, pulled), "mode", "data", "link")
	xtCompare(t, "extract vs source", got, xtTree(t, src), "mode", "data", "link")
}

// xtUmociImage builds an OCI image with umoci: v1 adds a tree, v2 (made
// from an unpack of v1) deletes a file and a directory and adds others, so
// that its layer holds whiteouts. It returns the layout.
func xtUmociImage(t *testing.T, work string) string {
	t.Helper()
	umoci := requireTool(t, "umoci")
	img := filepath.Join(work, "img")
	step := func(args ...string) {
		t.Helper()
		if r := runCmd(t, work, nil, umoci, args...); r.code != 0 {
			t.Fatalf("umoci %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	step("init", "--layout", img)
	step("new", "--image", img+":base")
	step("unpack", "--image", img+":base", "b1")
	r1 := filepath.Join(work, "b1", "rootfs")
	xtWrite(t, filepath.Join(r1, "etc/app/conf"), "conf\n", 0o644)
	xtWrite(t, filepath.Join(r1, "etc/gone"), "gone\n", 0o644)
	xtWrite(t, filepath.Join(r1, "opt/old/f"), "old\n", 0o644)
	xtWrite(t, filepath.Join(r1, "usr/bin/tool"), "#!/bin/sh\n", 0o755)
	xtWrite(t, filepath.Join(r1, "var/keep"), "keep\n", 0o600)
	if err := os.Symlink("app/conf", filepath.Join(r1, "etc/link")); err != nil {
		t.Fatal(err)
	}
	step("repack", "--image", img+":v1", "b1")
	step("unpack", "--image", img+":v1", "b2")
	r2 := filepath.Join(work, "b2", "rootfs")
	for _, p := range []string{"etc/gone", "opt/old"} {
		if err := os.RemoveAll(filepath.Join(r2, p)); err != nil {
			t.Fatal(err)
		}
	}
	xtWrite(t, filepath.Join(r2, "opt/new/f"), "new\n", 0o644)
	xtWrite(t, filepath.Join(r2, "var/added"), "added\n", 0o644)
	step("repack", "--image", img+":v2", "b2")
	step("unpack", "--image", img+":v2", "oracle")
	return img
}

// TestExtractUmociSkopeo: an image umoci wrote, with a whiteout layer,
// extracts to the root filesystem `umoci unpack` gives; so does the copy
// skopeo makes of it, recompressed with zstd.
func TestExtractUmociSkopeo(t *testing.T) {
	work := t.TempDir()
	img := xtUmociImage(t, work)
	oracle := xtTree(t, filepath.Join(work, "oracle", "rootfs"))
	for _, gone := range []string{"etc/gone", "opt/old", "opt/old/f"} {
		if _, ok := oracle[gone]; ok {
			t.Fatalf("umoci unpack kept %s: the image has no whiteout to test", gone)
		}
	}
	out := filepath.Join(work, "out")
	mustRun(t, "", nil, "extract", "-o", out, img+":v2")
	xtCompare(t, "extract vs umoci unpack", xtTree(t, out), oracle, "mode", "data", "link", "mtime")

	skopeo := requireTool(t, "skopeo")
	copied := filepath.Join(work, "copied")
	if r := runCmd(t, "", nil, skopeo, "copy", "--dest-compress", "--dest-compress-format", "zstd", "oci:"+img+":v2", "oci:"+copied+":v2"); r.code != 0 {
		t.Fatalf("skopeo copy: exit %d: %s", r.code, r.stderr)
	}
	s, err := layout.Open(copied)
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := s.ReadIndex(context.Background())
	m, err := s.ReadManifest(context.Background(), idx.Manifests[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if l.MediaType != ocispec.MediaTypeImageLayerZstd {
			t.Errorf("skopeo wrote a %s layer, want zstd", l.MediaType)
		}
	}
	out2 := filepath.Join(work, "out2")
	mustRun(t, "", nil, "extract", "-o", out2, copied+":v2")
	xtCompare(t, "extract of the skopeo copy vs umoci unpack", xtTree(t, out2), oracle, "mode", "data", "link", "mtime")
}

// TestExtractHostileBinary: a bundle whose layer plants a symlink out of
// DIR and then writes through it (CVE-2021-21272 shaped) is refused by the
// binary with exit 1 and a one-line message naming the entry; DIR, an
// existing directory with --overwrite, and its parent are unchanged.
func TestExtractHostileBinary(t *testing.T) {
	work := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "x/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "x/escape", Typeflag: tar.TypeSymlink, Linkname: "../../victim", Mode: 0o777},
		{Name: "x/escape/pwned", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("pwned"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer := buf.Bytes()
	ctx := context.Background()
	L := filepath.Join(work, "L")
	s, err := layout.Create(context.Background(), L)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := s.PutBytes(ctx, ocispec.MediaTypeImageLayer, layer)
	if err != nil {
		t.Fatal(err)
	}
	ld.Annotations = map[string]string{
		ocispec.AnnotationTitle: "x", "io.ocibundle.content.digest": digest.FromBytes(layer).String(),
		"io.ocibundle.content.size": fmt.Sprint(len(layer)),
	}
	if err := s.Put(ctx, ocispec.DescriptorEmptyJSON, bytes.NewReader(ocispec.DescriptorEmptyJSON.Data)); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.ocibundle.bundle.v1", Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{ld},
	})
	md, err := s.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.SetTag(idx, md, "evil") }); err != nil {
		t.Fatal(err)
	}

	parent := filepath.Join(work, "site")
	existing := filepath.Join(parent, "existing")
	xtWrite(t, filepath.Join(existing, "x", "keep"), "mine\n", 0o644)
	xtWrite(t, filepath.Join(parent, "victim", "file"), "victim\n", 0o644)
	before := xtTree(t, parent)
	for _, args := range [][]string{
		{"extract", "-o", filepath.Join(parent, "new"), L + ":evil"},
		{"extract", "--overwrite", "-o", existing, L + ":evil"},
	} {
		r := run(t, "", nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "x/escape -> ../../victim: target escapes") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("ocibundle %s: exit %d, stderr %q; want exit 1 naming x/escape", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	xtCompare(t, "after refused extracts", xtTree(t, parent), before, "mode", "data", "link", "mtime")
}
