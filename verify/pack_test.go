package verify_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/verify"
)

// These tests use bundle.Pack, which imports verify: they live in the
// external test package to avoid the import cycle.

func runVerify(t *testing.T, target string, opts verify.Options) *verify.Report {
	t.Helper()
	rep, err := verify.Verify(context.Background(), target, opts)
	if err != nil {
		t.Fatalf("Verify(%s) error = %v, want a report", target, err)
	}
	return rep
}

func text(rep *verify.Report) string {
	var b strings.Builder
	rep.WriteText(&b)
	return b.String()
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

// pack packs a small tree into a new layout with codec and returns it.
func pack(t *testing.T, codec compress.Codec, tags ...string) (string, bundle.PackResult) {
	t.Helper()
	src := t.TempDir()
	for name, body := range map[string]string{"app/bin/tool": "#!/bin/sh\necho hi\n", "app/README": "readme", "notes.txt": "notes"} {
		p := filepath.Join(src, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("bin/tool", filepath.Join(src, "app", "link")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	res, err := bundle.Pack(context.Background(), dir, []string{filepath.Join(src, "app"), filepath.Join(src, "notes.txt")},
		bundle.PackOptions{Tags: tags, Compression: codec})
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

func TestPackedLayoutVerifiesClean(t *testing.T) {
	for _, codec := range []compress.Codec{compress.Zstd, compress.Gzip, compress.None} {
		t.Run(string(codec), func(t *testing.T) {
			dir, res := pack(t, codec, "v1", "latest")
			archive := verify.ArchiveOf(t, dir)
			for _, target := range []string{dir, dir + ":v1", dir + "@" + res.Digest.String(), archive} {
				rep := runVerify(t, target, verify.Options{Deep: true, Strict: true, Digest: res.Digest.String()})
				if len(rep.Findings) != 0 || rep.Err() != nil {
					t.Errorf("Verify(%s):\n%s", target, text(rep))
				}
				// The whole layout has two index.json entries (v1, latest) as
				// ls lists them; a tag or digest names one bundle.
				bundles := 1
				if target == dir || target == archive {
					bundles = 2
				}
				if rep.Summary.Bundles != bundles || rep.Summary.Blobs != 4 {
					t.Errorf("Verify(%s) summary = %+v, want %d bundles and 4 blobs", target, rep.Summary, bundles)
				}
			}
		})
	}
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	os.Chmod(path, 0o644)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[at%len(data)] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFlippedByteFailsNamingTheBlob(t *testing.T) {
	for _, codec := range []compress.Codec{compress.Zstd, compress.Gzip, compress.None} {
		dir, _ := pack(t, codec, "v1")
		blobs := blobFiles(t, dir)
		if len(blobs) != 4 {
			t.Fatalf("packed %d blobs, want 4", len(blobs))
		}
		for _, name := range blobs {
			for _, at := range []int{0, 1 << 30} { // the first byte, and one in the middle
				t.Run(string(codec)+"/"+filepath.Base(name)[:12], func(t *testing.T) {
					copyDir := filepath.Join(t.TempDir(), "layout")
					if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
						t.Fatal(err)
					}
					size := fileSize(t, filepath.Join(copyDir, name))
					flipByte(t, filepath.Join(copyDir, name), min(at, int(size/2)))
					for _, target := range []string{copyDir, verify.ArchiveOf(t, copyDir, "index.json")} {
						for _, deep := range []bool{false, true} {
							rep := runVerify(t, target, verify.Options{Deep: deep})
							if !errors.Is(rep.Err(), verify.ErrFailed) {
								t.Fatalf("Verify(%s, deep %v) passed a flipped byte in %s", target, deep, name)
							}
							named := false
							for _, f := range rep.Findings {
								named = named || (f.Code == verify.DigestMismatch && f.Location == name && f.Severity == verify.Error)
							}
							if !named {
								t.Errorf("Verify(%s, deep %v) does not name %s with DIGEST_MISMATCH:\n%s", target, deep, name, text(rep))
							}
						}
					}
				})
			}
		}
	}
}
