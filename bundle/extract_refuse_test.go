package bundle

// Extract refuses hostile layers (names, links, types, sizes) and bad
// content, and writes nothing then.

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/verify"
)

// ---------------------------------------------------------------------------
// Hostile layers

// hostileCases are layers modelled on containerd's breakout tests (and the
// ORAS, umoci and oras-go CVEs). Artifact layers are titled "x".
var hostileCases = []struct {
	name    string
	image   bool
	entries [][]tarEntry // one per layer
	msg     string       // part of the error
	titles  []string     // of the layers of an artifact; "x" when not set
}{
	{name: "absolute name", entries: [][]tarEntry{{{name: "/x/abs"}}}, msg: "absolute name"},
	{name: "dotdot name", entries: [][]tarEntry{{{name: "x/../../evil"}}}, msg: `".." in name`},
	{name: "dotdot at end", entries: [][]tarEntry{{{name: "x/.."}}}, msg: `".." in name`},
	{name: "backslash", entries: [][]tarEntry{{{name: `x\..\..\evil`}}}, msg: "backslash"},
	{name: "outside the title", entries: [][]tarEntry{{{name: "y/file"}}}, msg: "outside the layer's title"},
	{name: "non-canonical name", entries: [][]tarEntry{{{name: "x//f"}}}, msg: "not a canonical name"},
	{name: "symlink escape", entries: [][]tarEntry{{{name: "x/l", typ: tar.TypeSymlink, link: "../../outside"}}}, msg: "escapes"},
	{name: "absolute symlink", entries: [][]tarEntry{{{name: "x/l", typ: tar.TypeSymlink, link: "/etc"}}}, msg: "absolute target"},
	{name: "symlink escape then write through it", entries: [][]tarEntry{{
		{name: "x/l", typ: tar.TypeSymlink, link: "../.."},
		{name: "x/l/outside/pwned", body: "pwned"},
	}}, msg: "escapes"},
	{name: "escape only through a link chain", entries: [][]tarEntry{{
		{name: "x/q", typ: tar.TypeSymlink, link: "."},
		{name: "x/p", typ: tar.TypeSymlink, link: "q/../.."}, // lexically x, really above the root
	}}, msg: "escapes"},
	{name: "dotdot after a name that a later link fills", entries: [][]tarEntry{{
		{name: "x/p", typ: tar.TypeSymlink, link: "s/../.."},
		{name: "x/s", typ: tar.TypeSymlink, link: "."},
	}}, msg: "escapes"},
	{name: "symlink loop", entries: [][]tarEntry{{
		{name: "x/a", typ: tar.TypeSymlink, link: "b"},
		{name: "x/b", typ: tar.TypeSymlink, link: "a"},
		{name: "x/c", typ: tar.TypeSymlink, link: "a/.."},
	}}, msg: "too many levels"},
	{name: "hard link to an absolute path", entries: [][]tarEntry{{{name: "x/h", typ: tar.TypeLink, link: "/etc/passwd"}}}, msg: "absolute name"},
	{name: "hard link up", entries: [][]tarEntry{{{name: "x/h", typ: tar.TypeLink, link: "x/../../etc/passwd"}}}, msg: `".." in name`},
	{name: "hard link to a missing file", entries: [][]tarEntry{{{name: "x/h", typ: tar.TypeLink, link: "x/none"}}}, msg: "not a regular file earlier in the layer"},
	{name: "hard link to a symlink", entries: [][]tarEntry{{
		{name: "x/l", typ: tar.TypeSymlink, link: "."},
		{name: "x/h", typ: tar.TypeLink, link: "x/l"},
	}}, msg: "not a regular file earlier in the layer"},
	{name: "hard link to a directory", entries: [][]tarEntry{{
		{name: "x/d/", typ: tar.TypeDir, mode: 0o755},
		{name: "x/h", typ: tar.TypeLink, link: "x/d"},
	}}, msg: "not a regular file earlier in the layer"},
	{name: "hard link through a link out", entries: [][]tarEntry{{
		{name: "x/h", typ: tar.TypeLink, link: "x/l/passwd"},
	}}, msg: "not a regular file earlier in the layer"},
	{name: "hard link outside the title", entries: [][]tarEntry{
		{{name: "x/f", body: "f"}},
		{{name: "y/h", typ: tar.TypeLink, link: "x/f"}},
	}, titles: []string{"x", "y"}, msg: "outside the layer's title"},
	{name: "char device", entries: [][]tarEntry{{{name: "x/null", typ: tar.TypeChar}}}, msg: "device node"},
	{name: "block device", entries: [][]tarEntry{{{name: "x/sda", typ: tar.TypeBlock}}}, msg: "device node"},
	{name: "FIFO", entries: [][]tarEntry{{{name: "x/fifo", typ: tar.TypeFifo}}}, msg: "FIFO"},
	{name: "duplicate file", entries: [][]tarEntry{{{name: "x/f", body: "1"}, {name: "x/f", body: "2"}}}, msg: "duplicate entry"},
	{name: "file replaced by a symlink", entries: [][]tarEntry{{
		{name: "x/f", body: "1"},
		{name: "x/f", typ: tar.TypeSymlink, link: "g"},
	}}, msg: "duplicate entry"},
	{name: "file over an earlier entry's directory", entries: [][]tarEntry{{
		{name: "x/d/f", body: "1"},
		{name: "x/d", body: "2"},
	}}, msg: "conflicts with an earlier entry"},
	{name: "whiteout in an artifact", entries: [][]tarEntry{{{name: "x/.wh.f"}}}, msg: "whiteout"},
	{name: "whiteout escape", image: true, entries: [][]tarEntry{{{name: "a/", typ: tar.TypeDir}}, {{name: "a/../../.wh.etc"}}}, msg: `".." in name`},
	{name: "whiteout of dotdot", image: true, entries: [][]tarEntry{{{name: "a/", typ: tar.TypeDir}}, {{name: "a/.wh..."}}}, msg: "whiteout of"},
	{name: "whiteout through a link", image: true, entries: [][]tarEntry{
		{{name: "l", typ: tar.TypeSymlink, link: "/etc"}},
		{{name: "l/.wh.passwd"}},
	}, msg: "reached through the symlink l"},
	{name: "image: absolute symlink above the root", image: true, entries: [][]tarEntry{{{name: "bin/sh", typ: tar.TypeSymlink, link: "/../bin/busybox"}}}, msg: "escapes"},
	{name: "image: entry through a lower layer's link", image: true, entries: [][]tarEntry{
		{{name: "lib", typ: tar.TypeSymlink, link: "usr/lib"}, {name: "usr/lib/", typ: tar.TypeDir}},
		{{name: "lib/x.so", body: "x"}},
	}, msg: "reached through the symlink lib"},
	{name: "image: link made to escape by a later layer", image: true, entries: [][]tarEntry{
		{{name: "d/", typ: tar.TypeDir}, {name: "p", typ: tar.TypeSymlink, link: "d/../x"}},
		{{name: ".wh.d"}, {name: "d", typ: tar.TypeSymlink, link: "."}, {name: "q/", typ: tar.TypeDir}},
		{{name: ".wh.q"}},
	}, msg: "p -> d/../x"},
	{name: "image: a link replacing a lower directory, then written through", image: true, entries: [][]tarEntry{
		{{name: "d/", typ: tar.TypeDir}, {name: "d/f", body: "1"}},
		{{name: "d", typ: tar.TypeSymlink, link: "e"}, {name: "d/x", body: "2"}},
	}, msg: "reached through the symlink d"},
	{name: "image: whiteout below a lower file", image: true, entries: [][]tarEntry{
		{{name: "f", body: "1"}}, {{name: "f/.wh.x"}},
	}, msg: "f/.wh.x: below the file f"},
	{name: "image: opaque whiteout below a lower file", image: true, entries: [][]tarEntry{
		{{name: "f", body: "1"}}, {{name: "f/.wh..wh..opq"}},
	}, msg: "f/.wh..wh..opq: below the file f"},
	{name: "image: entry below a lower file, then a directory replacing it", image: true, entries: [][]tarEntry{
		{{name: "f", body: "1"}}, {{name: "f/x", body: "2"}, {name: "f/", typ: tar.TypeDir}},
	}, msg: "f/x: below the file f"},
	{name: "image: entry below a lower file", image: true, entries: [][]tarEntry{
		{{name: "f", body: "1"}}, {{name: "f/x", body: "2"}},
	}, msg: "f/x: below the file f"},
	{name: "image: hard link below a lower file, its target later in the layer", image: true, entries: [][]tarEntry{
		{{name: "m", body: "1"}}, {{name: "m/b", typ: tar.TypeLink, link: "b"}, {name: "b", body: "2"}},
	}, msg: "m/b: below the file m"}, // TestFilesAgreesWithExtract's seed 1796026418872102071: files said this, extract the target
	{name: "image: a link loop replacing a lower directory", image: true, entries: [][]tarEntry{
		{{name: "a/", typ: tar.TypeDir}, {name: "a/b", body: "1"}},
		{{name: "a", typ: tar.TypeSymlink, link: "/a"}},
	}, msg: "too many levels"},
	{name: "root entry a symlink", image: true, entries: [][]tarEntry{{{name: ".", typ: tar.TypeSymlink, link: "/etc"}, {name: "passwd", body: "x"}}}, msg: "root entry is a symlink"},
	{name: "root entry a file", entries: [][]tarEntry{{{name: ".", body: "x"}}}, msg: "root entry is a regular file"},
	{name: "huge declared size", entries: [][]tarEntry{{{name: "x/big", body: "tiny", size: 1 << 40}}}, msg: "declares"},
}

// hostileLayout builds the layout of a hostile case.
func hostileLayout(t testing.TB, image bool, entries [][]tarEntry, titles []string) string {
	t.Helper()
	var layers []testLayer
	for i, es := range entries {
		data := tarOf(t, es)
		if image {
			layers = append(layers, imageLayer(data))
		} else {
			title := "x"
			if i < len(titles) {
				title = titles[i]
			}
			layers = append(layers, ociLayer(title, data))
		}
	}
	return writeLayout(t, image, layers)
}

func TestExtractHostile(t *testing.T) {
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			ref := hostileLayout(t, c.image, c.entries, c.titles)
			checkRefused(t, ref, c.msg, ErrUnsafe)
			// What extract refuses, verify --deep reports as an error.
			rep, err := verify.Verify(ctx, ref, verify.Options{Deep: true})
			must(t, err)
			if rep.OK() {
				t.Errorf("verify --deep of a layout extract refuses (%s): OK", c.msg)
			}
		})
	}
	// A PAX sparse entry: archive/tar would expand its holes, whatever their
	// size, and an image layer has no size annotation to stop it. (16 MiB
	// here, so that a regression fails the test rather than fills the disk.)
	t.Run("sparse file in an image layer", func(t *testing.T) {
		checkRefused(t, writeLayout(t, true, []testLayer{imageLayer(sparseTar(t))}), "sparse file", ErrUnsafe)
	})
}

// sparseTar is a tar of one PAX 1.0 sparse file, x/sparse, of 16 MiB: a
// map of one data byte at the end, holes before it. (archive/tar.Writer drops
// GNU.sparse records, so the PAX header block is written here.)
func sparseTar(t *testing.T) []byte {
	t.Helper()
	record := func(k, v string) string {
		s := " " + k + "=" + v + "\n"
		for n := len(s) + 1; ; n++ {
			if len(strconv.Itoa(n))+len(s) == n {
				return strconv.Itoa(n) + s
			}
		}
	}
	recs := record("GNU.sparse.major", "1") + record("GNU.sparse.minor", "0") +
		record("GNU.sparse.name", "x/sparse") + record("GNU.sparse.realsize", strconv.Itoa(16<<20))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Name: "x/PaxHeaders/sparse", Typeflag: tar.TypeReg, Size: int64(len(recs)), Mode: 0o644, Format: tar.FormatUSTAR}))
	_, err := tw.Write([]byte(recs))
	must(t, err)
	must(t, tw.Flush())
	b := buf.Bytes()
	b[156] = tar.TypeXHeader // make the first entry a PAX header, with a new checksum
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b[:512] {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	sparseMap := "1\n" + strconv.Itoa(16<<20-1) + "\n1\n"
	data := append([]byte(sparseMap), make([]byte, 512-len(sparseMap))...)
	data = append(data, 'X')
	must(t, tw.WriteHeader(&tar.Header{Name: "x/sparse", Typeflag: tar.TypeReg, Size: int64(len(data)), Mode: 0o644, Format: tar.FormatUSTAR}))
	_, err = tw.Write(data)
	must(t, err)
	must(t, tw.Close())
	// The stream must really declare the sparse file, or the test proves nothing.
	hdr, err := tar.NewReader(bytes.NewReader(buf.Bytes())).Next()
	if err != nil || hdr.Name != "x/sparse" || hdr.Size != 16<<20 {
		t.Fatalf("sparseTar: first entry %+v, %v; want x/sparse of 16 MiB", hdr, err)
	}
	return buf.Bytes()
}

// checkRefused extracts ref into a missing DIR and into a non-empty DIR
// (with --overwrite), with a sibling directory beside them, and checks that
// each is refused with want, with msg in the message, and that nothing
// changed: no DIR, DIR as it was, the sibling as it was, no staging left.
func checkRefused(t *testing.T, ref, msg string, want error) {
	t.Helper()
	parent := t.TempDir()
	sibling := filepath.Join(parent, "outside")
	must(t, os.MkdirAll(filepath.Join(sibling, "etc"), 0o755))
	must(t, os.WriteFile(filepath.Join(sibling, "etc", "passwd"), []byte("root:x:0:0"), 0o644))
	full := filepath.Join(parent, "full")
	must(t, os.MkdirAll(filepath.Join(full, "x"), 0o755))
	must(t, os.WriteFile(filepath.Join(full, "x", "f"), []byte("mine"), 0o644))
	before := map[string]map[string]node{"outside": treeOf(t, sibling), "full": treeOf(t, full)}

	for _, o := range []struct {
		dir  string
		opts ExtractOptions
	}{{filepath.Join(parent, "missing"), ExtractOptions{}}, {full, ExtractOptions{Overwrite: true}}} {
		_, err := Extract(ctx, ref, o.dir, o.opts)
		if !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
			t.Errorf("Extract(%s) = %v, want %v with %q", filepath.Base(o.dir), err, want, msg)
		}
	}
	if _, err := os.Lstat(filepath.Join(parent, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing DIR exists after a refused extract: %v", err)
	}
	sameTree(t, treeOf(t, sibling), before["outside"])
	sameTree(t, treeOf(t, full), before["full"])
	left, _ := os.ReadDir(parent)
	if len(left) != 2 {
		t.Errorf("parent holds %v, want only outside and full (no staging left)", left)
	}
}

// Content that does not match its digests, or a bomb: refused, DIR as it was.
func TestExtractBadContent(t *testing.T) {
	good := tarOf(t, []tarEntry{{name: "x/f", body: "hello"}})
	wrongDigest := ociLayer("x", good)
	wrongDigest.ann[profile.AnnotationContentDigest] = digest.FromString("other").String()
	t.Run("uncompressed digest", func(t *testing.T) {
		checkRefused(t, artifactLayout(t, []testLayer{wrongDigest}), "uncompressed content", layout.ErrDigestMismatch)
	})
	short := ociLayer("x", good)
	short.ann[profile.AnnotationContentSize] = "1024"
	t.Run("annotated size too small", func(t *testing.T) {
		checkRefused(t, artifactLayout(t, []testLayer{short}), "more than the annotated 1024 bytes", layout.ErrSizeMismatch)
	})
	t.Run("blob digest", func(t *testing.T) {
		// The blob on disk is changed, and the annotations describe the
		// changed bytes: only the blob digest can catch it.
		bad := bytes.Replace(good, []byte("hello"), []byte("HELLO"), 1)
		l := ociLayer("x", bad)
		l.blob = good
		ref := artifactLayout(t, []testLayer{l})
		p := filepath.Join(strings.TrimSuffix(ref, ":t"), "blobs", "sha256", digest.FromBytes(good).Encoded())
		must(t, os.Chmod(p, 0o644))
		must(t, os.WriteFile(p, bad, 0o644))
		checkRefused(t, ref, digest.FromBytes(good).String()+": digest mismatch", layout.ErrDigestMismatch)
	})
	t.Run("image diff_id", func(t *testing.T) {
		l := imageLayer(good)
		l.diffID = digest.FromString("other")
		checkRefused(t, writeLayout(t, true, []testLayer{l}), "uncompressed content", layout.ErrDigestMismatch)
	})
	// A zstd frame whose header declares a 4 GiB window (windowLog 32),
	// then an empty last block: the decoder must refuse it, not allocate.
	t.Run("zstd 4 GiB window", func(t *testing.T) {
		frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 22 << 3, 0x01, 0x00, 0x00}
		l := testLayer{mediaType: ocispec.MediaTypeImageLayerZstd, blob: frame, ann: map[string]string{
			ocispec.AnnotationTitle: "x", profile.AnnotationContentDigest: digest.FromString("").String(), profile.AnnotationContentSize: "0",
		}}
		ref := artifactLayout(t, []testLayer{l})
		checkRefused(t, ref, "window", ErrCorrupt)
		_, err := Extract(ctx, ref, filepath.Join(t.TempDir(), "o"), ExtractOptions{})
		t.Logf("4 GiB window: %v", err)
	})
	t.Run("truncated gzip", func(t *testing.T) {
		var gz bytes.Buffer
		zw, _ := compress.NewWriter(&gz, compress.Gzip, compress.Default)
		zw.Write(good)
		must(t, zw.Close())
		cut := gz.Bytes()[:gz.Len()-10]
		l := testLayer{mediaType: ocispec.MediaTypeImageLayerGzip, blob: cut, diffID: digest.FromBytes(good)}
		checkRefused(t, writeLayout(t, true, []testLayer{l}), "unexpected EOF", ErrCorrupt)
	})
	// 64 zstd frames of 64 MiB of zeros: 4 GiB from a few KiB. With a 1 MiB
	// content-size annotation, decompression stops after 1 MiB.
	t.Run("zstd ratio bomb", func(t *testing.T) {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		must(t, err)
		var tarHead bytes.Buffer
		tw := tar.NewWriter(&tarHead)
		must(t, tw.WriteHeader(&tar.Header{Name: "x/zeros", Mode: 0o644, Size: 4 << 30, Typeflag: tar.TypeReg}))
		frame := enc.EncodeAll(make([]byte, 64<<20), nil)
		blob := enc.EncodeAll(tarHead.Bytes(), nil)
		for range 64 {
			blob = append(blob, frame...)
		}
		l := testLayer{mediaType: ocispec.MediaTypeImageLayerZstd, blob: blob, ann: map[string]string{
			ocispec.AnnotationTitle: "x", profile.AnnotationContentDigest: digest.FromString("unknown").String(),
			profile.AnnotationContentSize: strconv.Itoa(1 << 20),
		}}
		start := time.Now()
		checkRefused(t, artifactLayout(t, []testLayer{l}), "declares 4294967296 bytes", ErrUnsafe)
		t.Logf("zstd bomb of %d bytes refused in %v", len(blob), time.Since(start))
		// The same bomb declaring a small file, padded out by the frames.
		tarHead.Reset()
		tw = tar.NewWriter(&tarHead)
		must(t, tw.WriteHeader(&tar.Header{Name: "x/zeros", Mode: 0o644, Size: 512 << 10, Typeflag: tar.TypeReg}))
		blob = enc.EncodeAll(tarHead.Bytes(), nil)
		for range 64 {
			blob = append(blob, frame...)
		}
		l.blob = blob
		checkRefused(t, artifactLayout(t, []testLayer{l}), "more than the annotated", layout.ErrSizeMismatch)
	})
}
