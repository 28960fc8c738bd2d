package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/verify"
)

// deepDepth is the depth of deepTar: 2,500 directories "d/", a path of
// 5,000 bytes (issue 12: quadratic in depth, it took 59 s).
const deepDepth = 2500

// deepTar is a layer of deepDepth nested directories, each an entry, with
// a file and a symlink at the bottom.
func deepTar(t testing.TB) []byte {
	var entries []tarEntry
	p := ""
	for range deepDepth {
		p += "d/"
		entries = append(entries, tarEntry{name: p, typ: tar.TypeDir, mode: 0o750})
	}
	entries = append(entries, tarEntry{name: p + "f", body: "bottom"}, tarEntry{name: p + "l", typ: tar.TypeSymlink, link: "f"})
	return tarOf(t, entries)
}

// TestExtractDeepPath: a layer of 2,500 nested directories extracts, every
// directory with its mode, the file and link at the bottom.
func TestExtractDeepPath(t *testing.T) {
	for _, image := range []bool{true, false} {
		name := map[bool]string{true: "image", false: "artifact"}[image]
		t.Run(name, func(t *testing.T) {
			l := imageLayer(deepTar(t))
			if !image {
				l = ociLayer("d", deepTar(t))
			}
			ref := writeLayout(t, image, []testLayer{l})
			dst := filepath.Join(t.TempDir(), "out")
			res, err := Extract(context.Background(), ref, dst, ExtractOptions{})
			if err != nil {
				t.Fatalf("Extract() = %v", err)
			}
			if len(res.Entries) != deepDepth+2 {
				t.Errorf("Extract() lists %d entries, want %d", len(res.Entries), deepDepth+2)
			}
			// Walk down by handle: the path is longer than PATH_MAX.
			root, err := os.OpenRoot(dst)
			must(t, err)
			defer root.Close()
			want := 0o750 &^ layer.Umask()
			for i := range deepDepth {
				fi, err := root.Lstat("d")
				if err != nil || !fi.IsDir() || fi.Mode().Perm() != want {
					t.Fatalf("level %d: %v, %v, want a directory of mode %v", i, fi, err, want)
				}
				next, err := root.OpenRoot("d")
				must(t, err)
				root.Close()
				root = next
			}
			got, err := root.ReadFile("f")
			if err != nil || string(got) != "bottom" {
				t.Errorf("the bottom file = %q, %v, want %q", got, err, "bottom")
			}
			if link, err := root.Readlink("l"); err != nil || link != "f" {
				t.Errorf("the bottom link = %q, %v, want f", link, err)
			}
			if !strings.HasSuffix(res.Entries[len(res.Entries)-1].Path, "/l") {
				t.Errorf("last entry %q, want the link", res.Entries[len(res.Entries)-1].Path)
			}
			// Again, merged into the tree just written.
			if _, err := Extract(context.Background(), ref, dst, ExtractOptions{Overwrite: true}); err != nil {
				t.Errorf("Extract(--overwrite) into the deep tree = %v", err)
			}
			if left, _ := os.ReadDir(filepath.Dir(dst)); len(left) != 1 {
				t.Errorf("beside DIR after --overwrite: %v, want DIR alone", left)
			}
			// verify --deep judges the same layer.
			rep, err := verify.Verify(ctx, ref, verify.Options{Deep: true})
			if err != nil || rep.Summary.Errors+rep.Summary.Warnings != 0 {
				t.Errorf("verify --deep = %v, %+v", err, rep)
			}
		})
	}
	// Refused after the whole tree is staged (a wrong diff_id): nothing is
	// left, the staging tree deeper than PATH_MAX included.
	l := imageLayer(deepTar(t))
	l.diffID = digest.FromString("other")
	parent := t.TempDir()
	if _, err := Extract(ctx, writeLayout(t, true, []testLayer{l}), filepath.Join(parent, "out"), ExtractOptions{}); err == nil {
		t.Fatal("Extract() with a wrong diff_id succeeded")
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// BenchmarkExtractDeepPath extracts the 2,500-directory layer.
func BenchmarkExtractDeepPath(b *testing.B) {
	ref := writeLayout(b, true, []testLayer{imageLayer(deepTar(b))})
	out := b.TempDir()
	for i := 0; b.Loop(); i++ {
		if _, err := Extract(context.Background(), ref, filepath.Join(out, fmt.Sprintf("e%d", i)), ExtractOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestExtractImageBomb: an image layer (no io.ocibundle.content.size) of a
// 832 KiB of zstd that expands to 4 GiB is stopped at MaxLayerSize, or by
// default at 1 GiB (layer.ContentLimit), exit 1 naming the layer, and
// nothing is left: a file declaring more than the cap is refused before it
// is written, and zeros after the tar's end are not read past the cap.
func TestExtractImageBomb(t *testing.T) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	must(t, err)
	frame := enc.EncodeAll(make([]byte, 64<<20), nil)
	bomb := func(fileSize int64) []byte {
		var head bytes.Buffer
		tw := tar.NewWriter(&head)
		must(t, tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: fileSize, Typeflag: tar.TypeReg}))
		blob := enc.EncodeAll(head.Bytes(), nil)
		for range 64 { // 4 GiB of zeros
			blob = append(blob, frame...)
		}
		return blob
	}
	for _, c := range []struct {
		name     string
		fileSize int64
		max      int64 // --max-layer-size, 0 for the default
		want     error
		msg      string
	}{
		{"a file larger than the cap", 4 << 30, 1 << 20, ErrUnsafe, "zeros: declares 4294967296 bytes in a layer of 1048576"},
		{"zeros after the tar", 512 << 10, 1 << 20, layer.ErrTooLarge, "layer too large: uncompressed content is more than 1048576 bytes, the --max-layer-size cap (1.0 MiB) on a layer without io.ocibundle.content.size"},
		// The default cap of a layer this small is 1 GiB.
		{"a file larger than the default cap", 4 << 30, 0, ErrUnsafe, "zeros: declares 4294967296 bytes in a layer of 1073741824"},
	} {
		t.Run(c.name, func(t *testing.T) {
			blob := bomb(c.fileSize)
			if len(blob) > 1<<20 { // 4,096 times smaller than what it expands to
				t.Fatalf("the bomb is %d bytes, want a small one", len(blob))
			}
			l := testLayer{mediaType: ocispec.MediaTypeImageLayerZstd, blob: blob, diffID: digest.FromString("unknown")}
			ref := writeLayout(t, true, []testLayer{l})
			parent := t.TempDir()
			_, err := Extract(ctx, ref, filepath.Join(parent, "out"), ExtractOptions{MaxLayerSize: c.max})
			name := "layer " + digest.FromBytes(blob).String()
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("Extract() = %v, want %v naming %s with %q", err, c.want, name, c.msg)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
			// files reads the layer with the same cap and the same verdict.
			if _, ferr := Files(ctx, ref, FilesOptions{MaxLayerSize: c.max}); ferr == nil || err == nil || ferr.Error() != err.Error() {
				t.Errorf("Files() = %v, want Extract's %v", ferr, err)
			}
		})
	}
}
