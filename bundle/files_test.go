package bundle

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocibundle/ocibundle/internal/testseed"
	"github.com/ocibundle/ocibundle/layout"
)

// TestFilesAgreesWithExtract: for random layers, artifact and image (with
// whiteouts, opaque directories, replacements and hard links to lower
// layers), Files succeeds exactly when Extract does, refuses with the same
// error, and lists exactly the tree Extract writes: every path with its
// type, link target, size and each file's sha256 (as extract --json reads
// it back from the disk).
func TestFilesAgreesWithExtract(t *testing.T) {
	r := rand.New(rand.NewPCG(testseed.Seed(t), 13))
	const rounds = 150
	listed, refused := 0, 0
	for i := range rounds {
		image, allow := r.IntN(2) == 0, r.IntN(4) == 0
		ref, described := randomLayout(t, r, image, 3)
		files, ferr := Files(ctx, ref, FilesOptions{AllowOutsideLinks: allow})
		res, xerr := Extract(ctx, ref, filepath.Join(t.TempDir(), "out"), ExtractOptions{AllowOutsideLinks: allow, Hash: true})
		if (ferr == nil) != (xerr == nil) || ferr != nil && ferr.Error() != xerr.Error() {
			t.Fatalf("round %d (image %v, allow %v):\n%s\nFiles() = %v\nExtract() = %v", i, image, allow, described, ferr, xerr)
		}
		if ferr != nil {
			refused++
			continue
		}
		listed++
		var got, want []string
		for _, f := range files.Files {
			got = append(got, fmt.Sprintf("%s %s %q %d %s", f.Path, f.Type, f.Link, f.Size, f.SHA256))
		}
		for _, e := range res.Entries {
			want = append(want, fmt.Sprintf("%s %s %q %d %s", e.Path, e.Type, e.Link, e.Size, e.SHA256))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("round %d (image %v):\n%s\nFiles() lists\n%s\nExtract() wrote\n%s", i, image, described, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	t.Logf("%d bundles listed as extracted, %d refused by both", listed, refused)
	if listed < rounds/25 || refused < rounds/25 {
		t.Errorf("%d listed, %d refused: the generator does not exercise both", listed, refused)
	}
}

// TestFilesImageWhiteouts: an image's upper layer removes a file (.wh.),
// hides a directory's lower content (opaque) and replaces a file by a
// directory; Files shows the merged tree with modes and mtimes as stored.
func TestFilesImageWhiteouts(t *testing.T) {
	mtime := time.Unix(1700000000, 0)
	layerOf := func(hdrs ...*tar.Header) testLayer {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range hdrs {
			h.ModTime = mtime
			if h.Typeflag == tar.TypeReg {
				h.Size = int64(len(h.Linkname))
				body := h.Linkname
				h.Linkname = ""
				must(t, tw.WriteHeader(h))
				_, err := tw.Write([]byte(body))
				must(t, err)
				continue
			}
			must(t, tw.WriteHeader(h))
		}
		must(t, tw.Close())
		return imageLayer(buf.Bytes())
	}
	file := func(name, body string, mode int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Linkname: body, Mode: mode}
	}
	dir := func(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755} }
	ref := writeLayout(t, true, []testLayer{
		layerOf(dir("etc/"), file("etc/gone", "x", 0o644), file("etc/kept", "k", 0o600), dir("opt/"), file("opt/old", "o", 0o644), file("bin", "was a file", 0o755)),
		layerOf(file("etc/.wh.gone", "", 0o644), file("opt/.wh..wh..opq", "", 0o644), file("opt/new", "n", 0o4755), dir("bin/"), &tar.Header{Name: "bin/sh", Typeflag: tar.TypeLink, Linkname: "etc/kept"}),
	})
	res, err := Files(ctx, ref, FilesOptions{})
	must(t, err)
	var got []string
	for _, f := range res.Files {
		got = append(got, fmt.Sprintf("%s %s %s %d %s %s", f.Path, f.Type, f.Mode, f.Size, f.HardLink, f.Mtime))
	}
	want := []string{
		"bin dir 0755 0  2023-11-14T22:13:20Z",
		"bin/sh file 0600 1 etc/kept 2023-11-14T22:13:20Z",
		"etc dir 0755 0  2023-11-14T22:13:20Z",
		"etc/kept file 0600 1  2023-11-14T22:13:20Z",
		"opt dir 0755 0  2023-11-14T22:13:20Z",
		"opt/new file 4755 1  2023-11-14T22:13:20Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Files() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var sums bytes.Buffer
	must(t, WriteSHA256Sums(&sums, res))
	if n := strings.Count(sums.String(), "\n"); n != 3 {
		t.Errorf("WriteSHA256Sums wrote %d lines, want 3 (files only):\n%s", n, sums.String())
	}
}

// TestFilesArchiveOrder: a stream holding a big layer before index.json
// (as peers write) cannot be listed from standard input, and says to read
// it from a file; the same archive as a file lists.
func TestFilesArchiveOrder(t *testing.T) {
	src := t.TempDir()
	must(t, os.WriteFile(filepath.Join(src, "big"), bytes.Repeat([]byte("0123456789abcdef"), 512<<10), 0o644)) // 8 MiB
	lay := filepath.Join(t.TempDir(), "L")
	_, err := Pack(ctx, lay, []string{filepath.Join(src, "big")}, PackOptions{Tags: []string{"v1"}, Compression: "none"})
	must(t, err)
	// A tar of the layout with blobs first (skopeo's order).
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range blobsFirst(t, lay) {
		data, err := os.ReadFile(filepath.Join(lay, name))
		must(t, err)
		must(t, tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}))
		_, err = tw.Write(data)
		must(t, err)
	}
	must(t, tw.Close())
	archive := filepath.Join(t.TempDir(), "peer.tar")
	must(t, os.WriteFile(archive, buf.Bytes(), 0o644))
	_, err = Files(ctx, "-", FilesOptions{Stdin: bytes.NewReader(buf.Bytes())})
	if !errors.Is(err, layout.ErrArchiveOrder) {
		t.Errorf("Files(-) of blobs before index.json = %v, want ErrArchiveOrder", err)
	}
	res, err := Files(ctx, archive, FilesOptions{})
	if err != nil || len(res.Files) != 1 || res.Files[0].Path != "big" {
		t.Errorf("Files(%s) = %+v, %v; want the file big", archive, res.Files, err)
	}
}

// blobsFirst lists a layout's files, the blobs first, then index.json and
// oci-layout.
func blobsFirst(t *testing.T, lay string) []string {
	t.Helper()
	var names []string
	entries, err := os.ReadDir(filepath.Join(lay, "blobs", "sha256"))
	must(t, err)
	for _, e := range entries {
		names = append(names, "blobs/sha256/"+e.Name())
	}
	return append(names, "index.json", "oci-layout")
}
