package bundle

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/layout"
)

// judgeSetup packs src/app (a layer titled app) and src/README.md into a
// layout tagged 1.0 and exports it; it returns the layout, the archive's
// bytes and the layer app's blob file in the layout.
func judgeSetup(t *testing.T) (string, []byte, string) {
	t.Helper()
	work := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(work, "src/app/bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(work, "src/app/bin/app"), []byte("hello\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(work, "src/README.md"), []byte("readme\n"), 0o644))
	lay := filepath.Join(work, "L")
	_, err := Pack(ctx, lay, []string{filepath.Join(work, "src/app"), filepath.Join(work, "src/README.md")}, PackOptions{Tags: []string{"1.0"}})
	must(t, err)
	archive := filepath.Join(work, "A.tar")
	_, err = ExportFile(ctx, archive, []string{lay + ":1.0"}, ExportOptions{})
	must(t, err)
	data, err := os.ReadFile(archive)
	must(t, err)
	res, err := Files(ctx, lay+":1.0", FilesOptions{})
	must(t, err)
	for _, l := range res.Layers {
		if l.Title == "app" {
			return lay, data, filepath.Join(lay, "blobs", "sha256", l.Digest.Encoded())
		}
	}
	t.Fatalf("no layer titled app in %+v", res.Layers)
	return "", nil, ""
}

// TestReadInPlaceJudgesToTheEnd: every operation reading a stream in place
// judges it to its end before it succeeds (Source.Finish), as import does;
// extract publishes nothing from a stream that fails past what it read.
func TestReadInPlaceJudgesToTheEnd(t *testing.T) {
	lay, data, _ := judgeSetup(t)
	end := len(bytes.TrimRight(data, "\x00"))
	inputs := map[string][]byte{
		"junk after the tar":       append(bytes.Clone(data), "garbage\n"...),
		"no end-of-archive marker": data[:end+(-end&511)],
	}
	ops := map[string]func(src *Source) error{
		"ListFrom":    func(src *Source) error { _, err := ListFrom(ctx, src); return err },
		"InspectFrom": func(src *Source) error { _, err := InspectFrom(ctx, src); return err },
		"FilesFrom":   func(src *Source) error { _, err := FilesFrom(ctx, src, FilesOptions{}); return err },
		"Diff": func(src *Source) error {
			other, err := Open(ctx, lay+":1.0", nil)
			must(t, err)
			defer other.Close()
			_, err = Diff(ctx, other, src, DiffOptions{})
			return err
		},
	}
	for in, stream := range inputs {
		for op, fn := range ops {
			src, err := Open(ctx, "-", bytes.NewReader(stream))
			must(t, err)
			if err := fn(src); !errors.Is(err, layout.ErrBadArchive) {
				t.Errorf("%s of a stream with %s = %v, want %v", op, in, err, layout.ErrBadArchive)
			}
			src.Close()
		}
		out := filepath.Join(t.TempDir(), "out")
		if _, err := Extract(ctx, "-", out, ExtractOptions{Stdin: bytes.NewReader(stream)}); !errors.Is(err, layout.ErrBadArchive) {
			t.Errorf("Extract of a stream with %s = %v, want %v", in, err, layout.ErrBadArchive)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Extract of a stream with %s left %s (%v)", in, out, err)
		}
		assertNoTemp(t, filepath.Dir(out))
	}
}

// TestReadInPlaceTamperedLayer: a tampered layer blob is reported as the
// blob's digest mismatch, not as the decoder's symptom of it (a CRC, a size
// cap), in a layout, an archive file and a stream.
func TestReadInPlaceTamperedLayer(t *testing.T) {
	lay, data, blobFile := judgeSetup(t)
	blob, err := os.ReadFile(blobFile)
	must(t, err)
	at := bytes.Index(data, blob)
	if at < 0 || len(blob) < 60 {
		t.Fatalf("the archive does not hold the %d-byte blob", len(blob))
	}
	data[at+50] ^= 0x5a
	archive := filepath.Join(t.TempDir(), "T.tar")
	must(t, os.WriteFile(archive, data, 0o644))
	must(t, os.Chmod(blobFile, 0o644))
	blob[50] ^= 0x5a
	must(t, os.WriteFile(blobFile, blob, 0o644))
	want := filepath.Base(blobFile) + ": " + layout.ErrDigestMismatch.Error()
	for _, ref := range []string{lay + ":1.0", archive, "-"} {
		_, err := Files(ctx, ref, FilesOptions{Stdin: bytes.NewReader(data)})
		if !errors.Is(err, layout.ErrDigestMismatch) || !strings.Contains(err.Error(), want) {
			t.Errorf("Files(%s) = %v, want %q", ref, err, want)
		}
		out := filepath.Join(t.TempDir(), "out")
		_, err = Extract(ctx, ref, out, ExtractOptions{Stdin: bytes.NewReader(data)})
		if !errors.Is(err, layout.ErrDigestMismatch) || !strings.Contains(err.Error(), want) {
			t.Errorf("Extract(%s) = %v, want %q", ref, err, want)
		}
	}
}
