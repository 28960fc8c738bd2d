package layer

import (
	"testing"
)

func TestTitlesNest(t *testing.T) {
	for _, c := range []struct {
		titles []string
		want   bool
	}{
		{[]string{"a", "b"}, false},
		{[]string{"a", "a-b", "ab/c"}, false},
		{[]string{"a", "a"}, true},
		{[]string{"a/b/c", "x", "a"}, true},
		{[]string{"a-b", "a/c", "a"}, true},
		{nil, false},
	} {
		if got := TitlesNest(c.titles); got != c.want {
			t.Errorf("TitlesNest(%q) = %v, want %v", c.titles, got, c.want)
		}
	}
}

// TestCheckArtifact: layers each clean alone, judged together as the
// applier applies them, give the refusal the applier gives (its text).
func TestCheckArtifact(t *testing.T) {
	for _, c := range []struct {
		name   string
		layers []ArtifactLayer
		want   string // "" for none
		layer  int
	}{
		{"a directory, then a file below it", []ArtifactLayer{
			{Title: "in/d", Headers: []*hdr{dir("in/d/"), reg("in/d/g")}},
			{Title: "in/d/g", File: true},
		}, "in/d/g: duplicate entry", 1},
		{"a directory, then one below it", []ArtifactLayer{
			{Title: "in", Headers: []*hdr{dir("in/"), dir("in/d/"), reg("in/d/g")}},
			{Title: "in/d", Headers: []*hdr{dir("in/d/"), reg("in/d/g")}},
		}, "in/d/: duplicate entry", 1},
		{"a file, then a directory below it", []ArtifactLayer{
			{Title: "a", File: true},
			{Title: "a/b", Headers: []*hdr{dir("a/b/")}},
		}, "a/b/: below the file a", 1},
		{"the same file twice", []ArtifactLayer{
			{Title: "f", File: true},
			{Title: "f", File: true},
		}, "f: duplicate entry", 1},
		{"a symlink, then a layer through it", []ArtifactLayer{
			{Title: "a", Headers: []*hdr{dir("a/"), sym("a/l", "x")}},
			{Title: "a/l/f", File: true},
		}, "a/l/f: reached through the symlink a/l", 1},
		{"disjoint titles below one directory", []ArtifactLayer{
			{Title: "in/d", Headers: []*hdr{dir("in/d/"), reg("in/d/g")}},
			{Title: "in/e", File: true},
			{Title: "in", Headers: nil},
		}, "", 0},
	} {
		got := CheckArtifact(c.layers, Options{MaxSize: -1})
		switch {
		case c.want == "" && len(got) != 0:
			t.Errorf("%s: %v, want no refusal", c.name, got[0].Refusal)
		case c.want == "":
		case len(got) == 0:
			t.Errorf("%s: no refusal, want %q", c.name, c.want)
		case got[0].Error() != c.want || got[0].Layer != c.layer:
			t.Errorf("%s: layer %d %q, want layer %d %q", c.name, got[0].Layer, got[0].Error(), c.layer, c.want)
		}
	}
}
