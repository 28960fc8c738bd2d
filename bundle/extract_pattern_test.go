package bundle

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/glob"
	"github.com/ocibundle/ocibundle/layer"
)

// TestExtractPatterns: PATTERNs write the entries they select and the
// directories above them, in an artifact and in an image (whiteouts still
// applied), and leave unselected file layers unread.
func TestExtractPatterns(t *testing.T) {
	art := artifactLayout(t, []testLayer{
		ociLayer("app", tarOf(t, []tarEntry{{name: "app/", typ: tar.TypeDir}, {name: "app/bin/app", body: "bin"}, {name: "app/docs/a.md", body: "a"},
			{name: "app/docs/sub/b.md", body: "b"}, {name: "app/run", typ: tar.TypeSymlink, link: "bin/app"}})),
		{mediaType: "application/octet-stream", blob: []byte("notes"), ann: map[string]string{"org.opencontainers.image.title": "notes.txt"}},
	})
	img := writeLayout(t, true, []testLayer{
		imageLayer(tarOf(t, []tarEntry{{name: "etc/motd", body: "hi"}, {name: "etc/gone", body: "x"}, {name: "usr/bin/tool", body: "t"}})),
		imageLayer(tarOf(t, []tarEntry{{name: "etc/.wh.gone"}, {name: "etc/new.conf", body: "n"}})),
	})
	tests := []struct {
		ref      string
		patterns []string
		want     string
	}{
		{art, []string{"app/bin/app"}, "app app/bin app/bin/app"},
		{art, []string{"app/docs/**"}, "app app/docs app/docs/a.md app/docs/sub app/docs/sub/b.md"},
		{art, []string{"app/docs"}, "app app/docs app/docs/a.md app/docs/sub app/docs/sub/b.md"},
		{art, []string{"*.md", "notes.txt"}, "app app/docs app/docs/a.md app/docs/sub app/docs/sub/b.md notes.txt"},
		{art, []string{"app/run"}, "app app/run"},
		{img, []string{"etc/**"}, "etc etc/motd etc/new.conf"},
		{img, []string{"tool"}, "usr usr/bin usr/bin/tool"},
	}
	for _, tt := range tests {
		out := filepath.Join(t.TempDir(), "out")
		res, err := Extract(ctx, tt.ref, out, ExtractOptions{Patterns: tt.patterns})
		if err != nil {
			t.Fatalf("Extract(%v) = %v", tt.patterns, err)
		}
		var got []string
		for _, e := range res.Entries {
			got = append(got, e.Path)
		}
		var onDisk []string
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if p != out {
				rel, _ := filepath.Rel(out, p)
				onDisk = append(onDisk, filepath.ToSlash(rel))
			}
			return nil
		})
		sort.Strings(onDisk)
		if strings.Join(got, " ") != tt.want || strings.Join(onDisk, " ") != tt.want {
			t.Errorf("Extract(%v) wrote %q (on disk %q), want %q", tt.patterns, got, onDisk, tt.want)
		}
		for _, l := range res.Layers {
			if l.Title == "notes.txt" && !strings.Contains(strings.Join(tt.patterns, " "), "notes") && l.As != "unselected" {
				t.Errorf("Extract(%v): the file layer notes.txt is %q, want unselected (not read)", tt.patterns, l.As)
			}
		}
	}
}

// TestExtractPatternsRefusals: a pattern that selects nothing is
// ErrNoMatch naming it, a malformed one glob.ErrBadPattern, and an entry
// the layer rules refuse refuses the bundle even when no pattern selects
// it; nothing is written.
func TestExtractPatternsRefusals(t *testing.T) {
	good := artifactLayout(t, []testLayer{ociLayer("app", tarOf(t, []tarEntry{{name: "app/a", body: "a"}}))})
	evil := artifactLayout(t, []testLayer{ociLayer("app", tarOf(t, []tarEntry{{name: "app/a", body: "a"}, {name: "app/esc", typ: tar.TypeSymlink, link: "../../etc"}}))})
	linked := artifactLayout(t, []testLayer{ociLayer("app", tarOf(t, []tarEntry{{name: "app/a", body: "a"}, {name: "app/l", typ: tar.TypeLink, link: "app/a"}}))})
	tests := []struct {
		ref      string
		patterns []string
		want     error
		msg      string
	}{
		{good, []string{"app/a", "nope/*"}, ErrNoMatch, "nope/*"},
		{good, []string{"[ab"}, glob.ErrBadPattern, "[ab"},
		{evil, []string{"app/a"}, ErrUnsafe, "app/esc"},
		{linked, []string{"app/l"}, layer.ErrTargetNotSelected, "app/l: hard link target not selected: a hard link to app/a, which no pattern selects"},
	}
	for _, tt := range tests {
		out := filepath.Join(t.TempDir(), "out")
		_, err := Extract(ctx, tt.ref, out, ExtractOptions{Patterns: tt.patterns})
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Extract(%v) = %v, want %v naming %s", tt.patterns, err, tt.want, tt.msg)
		}
		if _, err := os.Lstat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Extract(%v) failed but left %s", tt.patterns, out)
		}
	}
}
