package glob

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		pat, name string
		want      bool
	}{
		{"*.o", "a.o", true},
		{"*.o", "d/a.o", false}, // a Pattern is the whole name; Excludes adds "any depth"
		{"bin/app", "bin/app", true},
		{"docs/**", "docs", true},
		{"docs/**", "docs/a/b.md", true},
		{"docs/**", "doc", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"?", "a", true},
		{"?", "/", false},
		{"*", "a/b", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{"[ab]c", "bc", true},
		{"{x,y}.txt", "y.txt", true},
	} {
		p, err := Parse(tc.pat)
		if err != nil {
			t.Fatalf("Parse(%q) = %v", tc.pat, err)
		}
		if got := p.Match(tc.name); got != tc.want {
			t.Errorf("Parse(%q).Match(%q) = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
		if p.String() != tc.pat {
			t.Errorf("Parse(%q).String() = %q", tc.pat, p.String())
		}
	}
}

func TestBadPattern(t *testing.T) {
	for _, pat := range []string{"", "[", "a[", `a\`, "{a"} {
		if _, err := Parse(pat); !errors.Is(err, ErrBadPattern) {
			t.Errorf("Parse(%q) = %v, want ErrBadPattern", pat, err)
		}
	}
	// An exclude pattern must also leave a name to match.
	for _, pat := range []string{"", "[", "a[", `a\`, "{a", "/", "//", "!", "!/"} {
		if _, err := ParseExcludes([]string{"ok", pat}); !errors.Is(err, ErrBadPattern) {
			t.Errorf("ParseExcludes(%q) = %v, want ErrBadPattern", pat, err)
		}
	}
}

// TestExcludes: the .gitignore rules, name by name.
func TestExcludes(t *testing.T) {
	type probe struct {
		name string
		dir  bool
		want bool
	}
	for _, tc := range []struct {
		pats   []string
		probes []probe
	}{
		// No slash: at any depth, files and directories.
		{[]string{"*.o"}, []probe{{"a.o", false, true}, {"x/y/a.o", false, true}, {"a.c", false, false}, {"d.o", true, true}}},
		{[]string{"build"}, []probe{{"build", true, true}, {"src/build", true, true}, {"src/build2", true, false}, {"src/build/x", false, false}}},
		// A slash at the start or in the middle: anchored at the root.
		{[]string{"/build"}, []probe{{"build", true, true}, {"src/build", true, false}}},
		{[]string{"doc/*.md"}, []probe{{"doc/a.md", false, true}, {"x/doc/a.md", false, false}, {"doc/sub/a.md", false, false}}},
		// A trailing slash: directories only.
		{[]string{"cache/"}, []probe{{"cache", true, true}, {"x/cache", true, true}, {"cache", false, false}}},
		// ** as a whole element.
		{[]string{"**/tmp"}, []probe{{"tmp", true, true}, {"a/b/tmp", false, true}}},
		{[]string{"logs/**"}, []probe{{"logs", true, false}, {"logs/a", false, true}, {"logs/a/b", false, true}}},
		{[]string{"a/**/z"}, []probe{{"a/z", false, true}, {"a/b/c/z", false, true}, {"b/a/z", false, false}}},
		{[]string{"**"}, []probe{{"a", false, true}, {"a/b", true, true}}},
		// ?: one character, never a slash.
		{[]string{"file?.txt"}, []probe{{"file1.txt", false, true}, {"d/fileX.txt", false, true}, {"file10.txt", false, false}}},
		// !: re-includes; the last match decides.
		{[]string{"*.log", "!keep.log"}, []probe{{"a.log", false, true}, {"keep.log", false, false}, {"d/keep.log", false, false}}},
		{[]string{"!keep.log", "*.log"}, []probe{{"keep.log", false, true}}},
		{[]string{`\!bang`}, []probe{{"!bang", false, true}, {"bang", false, false}}},
		// An escaped metacharacter is literal; # is no comment on a command line.
		{[]string{`back\\slash.txt`}, []probe{{`d/back\slash.txt`, false, true}}},
		{[]string{"#x"}, []probe{{"#x", false, true}}},
	} {
		e, err := ParseExcludes(tc.pats)
		if err != nil {
			t.Fatalf("ParseExcludes(%q) = %v", tc.pats, err)
		}
		for _, p := range tc.probes {
			if got := e.Match(p.name, p.dir); got != p.want {
				t.Errorf("ParseExcludes(%q).Match(%q, dir=%v) = %v, want %v", tc.pats, p.name, p.dir, got, p.want)
			}
		}
	}
}

func TestNoExcludes(t *testing.T) {
	e, err := ParseExcludes(nil)
	if err != nil || e != nil {
		t.Fatalf("ParseExcludes(nil) = %v, %v; want nil, nil", e, err)
	}
	if e.Match("a", false) {
		t.Error("nil Excludes excluded a name")
	}
}

// TestEscape: an escaped name matches itself, at any depth, and nothing else.
func TestEscape(t *testing.T) {
	for _, name := range []string{`back\slash`, "a*b", "q?", "[x]", "{a,b}", "!bang", "plain", "mid!dle"} {
		pat := Escape(name)
		e, err := ParseExcludes([]string{pat})
		if err != nil {
			t.Fatalf("ParseExcludes(Escape(%q) = %q) = %v", name, pat, err)
		}
		if !e.Match(name, false) || !e.Match("d/"+name, false) {
			t.Errorf("Escape(%q) = %q does not match the name", name, pat)
		}
		if e.Match(name+"x", false) || e.Match("x", false) {
			t.Errorf("Escape(%q) = %q matches another name", name, pat)
		}
		if p, err := Parse(pat); err != nil || !p.Match(name) {
			t.Errorf("Parse(Escape(%q)) = %v, %v; want a match", name, p, err)
		}
	}
}
