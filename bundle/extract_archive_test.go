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

func TestExtractFromArchive(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	work := t.TempDir()
	lay := filepath.Join(work, "L")
	res, err := Pack(ctx, lay, paths, PackOptions{Tags: []string{"v1"}})
	must(t, err)
	archive := filepath.Join(work, "a.tar")
	_, err = ExportFile(ctx, archive, []string{lay + ":v1"}, ExportOptions{})
	must(t, err)
	data, err := os.ReadFile(archive)
	must(t, err)

	want, err := Extract(ctx, lay+":v1", filepath.Join(work, "from-layout"), ExtractOptions{})
	must(t, err)
	tests := []struct {
		name, ref string
		stdin     []byte
	}{
		{"file", archive, nil},
		{"file:tag", archive + ":v1", nil},
		{"file@digest", archive + "@" + res.Digest.String(), nil},
		{"stdin", "-", data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			opts := ExtractOptions{}
			if tt.stdin != nil {
				opts.Stdin = bytes.NewReader(tt.stdin)
			}
			got, err := Extract(ctx, tt.ref, out, opts)
			if err != nil {
				t.Fatalf("Extract(%s) = %v", tt.ref, err)
			}
			if got.Digest != res.Digest || got.Reference != tt.ref || len(got.Entries) != len(want.Entries) {
				t.Fatalf("Extract(%s) = digest %s, ref %q, %d entries; want %s, %q, %d", tt.ref, got.Digest, got.Reference, len(got.Entries), res.Digest, tt.ref, len(want.Entries))
			}
			for i := range got.Entries {
				if got.Entries[i] != want.Entries[i] {
					t.Errorf("entry %d = %+v, want %+v (as extracted from the layout)", i, got.Entries[i], want.Entries[i])
				}
			}
			assertNoTemp(t, filepath.Dir(out))
		})
	}

	t.Run("missing tag names the archive", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		_, err := Extract(ctx, archive+":nope", out, ExtractOptions{})
		if !errors.Is(err, layout.ErrTagNotFound) || !strings.Contains(err.Error(), archive) || strings.Contains(err.Error(), ".archive-") {
			t.Errorf("Extract(archive:nope) = %v, want ErrTagNotFound naming %s and no temporary path", err, archive)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a failed extract created %s", out)
		}
		assertNoTemp(t, filepath.Dir(out))
	})
	t.Run("truncated archive", func(t *testing.T) {
		cut := filepath.Join(t.TempDir(), "cut.tar")
		must(t, os.WriteFile(cut, data[:len(data)/2], 0o644))
		out := filepath.Join(t.TempDir(), "out")
		_, err := Extract(ctx, cut, out, ExtractOptions{})
		if !errors.Is(err, layout.ErrBadArchive) {
			t.Errorf("Extract(truncated) = %v, want ErrBadArchive", err)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a failed extract created %s", out)
		}
		assertNoTemp(t, filepath.Dir(out))
	})
}

// assertNoTemp fails if dir holds a leftover temporary layout.
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".archive-") {
			t.Errorf("temporary layout %s left in %s", e.Name(), dir)
		}
	}
}
