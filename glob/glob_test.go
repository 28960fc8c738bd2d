package glob

import (
	"errors"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		dir, want     bool
	}{
		{"bin/app", "bin/app", false, true},
		{"bin/app", "bin/application", false, false},
		{"bin/app", "x/bin/app", false, false}, // a "/" anchors at the root
		{"docs/**", "docs/a/b.md", false, true},
		{"docs/**", "docs", true, true},
		{"docs/**", "docsx/a", false, false},
		{"docs", "docs/a/b.md", false, true}, // below a matched directory
		{"*.log", "a/b/c.log", false, true},  // no "/": any depth
		{"*.log", "c.log", false, true},
		{"*.log", "c.logx", false, false},
		{"/app", "app", false, true},
		{"/app", "x/app", false, false},
		{"a/*/c", "a/b/c", false, true},
		{"a/*/c", "a/b/x/c", false, false},
		{"a/**/c", "a/b/x/c", false, true},
		{"a/**/c", "a/c", false, true},
		{"?.txt", "a.txt", false, true},
		{"?.txt", "ab.txt", false, false},
		{"?", "/", false, false},
		{"[ab].txt", "b.txt", false, true},
		{"{x,y}/f", "y/f", false, true},
		{`a\*`, "a*", false, true},
		{`a\*`, "ab", false, false},
		{"build/", "build", false, false}, // a trailing "/": directories only
		{"build/", "build", true, true},
		{"build/", "build/o.o", false, true},
		{"./bin/app", "bin/app", false, true},
		{"**", "anything/at/all", false, true},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if err != nil {
			t.Fatalf("Compile(%q) = %v", tt.pattern, err)
		}
		if got := p.Match(tt.name, tt.dir); got != tt.want {
			t.Errorf("Compile(%q).Match(%q, %v) = %v, want %v", tt.pattern, tt.name, tt.dir, got, tt.want)
		}
		if p.String() != tt.pattern {
			t.Errorf("Compile(%q).String() = %q", tt.pattern, p.String())
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, p := range []string{"", "/", "//", ".", "..", "../x", "a/../../b", "[ab", "{a,b", `a\`} {
		if _, err := Compile(p); !errors.Is(err, ErrBadPattern) {
			t.Errorf("Compile(%q) = %v, want ErrBadPattern", p, err)
		}
		// An exclude pattern too, and "!" before any of them.
		for _, x := range []string{p, "!" + p} {
			if _, err := CompileExcludes([]string{"ok", x}); !errors.Is(err, ErrBadPattern) {
				t.Errorf("CompileExcludes(%q) = %v, want ErrBadPattern", x, err)
			}
		}
	}
	if _, err := CompileExcludes([]string{"!["}); err == nil || err.Error() != `"![": invalid pattern: not a valid glob` {
		t.Errorf("CompileExcludes(\"![\") = %v, want the pattern quoted as written", err)
	}
}

func TestSetUnused(t *testing.T) {
	s, err := CompileSet([]string{"bin/app", "nothing/*", "docs/**"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"bin/app", "docs/a", "other"} {
		s.Match(n, false)
	}
	if got := s.Unused(); len(got) != 1 || got[0] != "nothing/*" {
		t.Errorf("Unused() = %q, want [nothing/*]", got)
	}
	var none *Set
	if none.Len() != 0 || none.Match("x", false) || none.Select() != nil {
		t.Errorf("a nil Set selects something")
	}
}

// TestExcludes: the .gitignore rules pack --exclude follows, name by name.
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
		{[]string{"build"}, []probe{{"build", true, true}, {"src/build", true, true}, {"src/build2", true, false}}},
		// A slash at the start or in the middle: anchored at the root.
		{[]string{"/build"}, []probe{{"build", true, true}, {"src/build", true, false}}},
		{[]string{"doc/*.md"}, []probe{{"doc/a.md", false, true}, {"x/doc/a.md", false, false}, {"doc/sub/a.md", false, false}}},
		// A trailing slash: directories only.
		{[]string{"cache/"}, []probe{{"cache", true, true}, {"x/cache", true, true}, {"cache", false, false}}},
		// ** as a whole element.
		{[]string{"**/tmp"}, []probe{{"tmp", true, true}, {"a/b/tmp", false, true}}},
		{[]string{"logs/**"}, []probe{{"logs", true, true}, {"logs/a", false, true}, {"logs/a/b", false, true}, {"x/logs", true, false}}},
		{[]string{"a/**/z"}, []probe{{"a/z", false, true}, {"a/b/c/z", false, true}, {"b/a/z", false, false}}},
		{[]string{"**"}, []probe{{"a", false, true}, {"a/b", true, true}}},
		// ?: one character, never a slash.
		{[]string{"file?.txt"}, []probe{{"file1.txt", false, true}, {"d/fileX.txt", false, true}, {"file10.txt", false, false}}},
		// !: takes back; the last match decides.
		{[]string{"*.log", "!keep.log"}, []probe{{"a.log", false, true}, {"keep.log", false, false}, {"d/keep.log", false, false}}},
		{[]string{"!keep.log", "*.log"}, []probe{{"keep.log", false, true}}},
		{[]string{`\!bang`}, []probe{{"!bang", false, true}, {"bang", false, false}}},
		// An escaped metacharacter is literal; # is no comment on a command line.
		{[]string{`back\\slash.txt`}, []probe{{`d/back\slash.txt`, false, true}}},
		{[]string{"#x"}, []probe{{"#x", false, true}}},
	} {
		e, err := CompileExcludes(tc.pats)
		if err != nil {
			t.Fatalf("CompileExcludes(%q) = %v", tc.pats, err)
		}
		for _, p := range tc.probes {
			if got := e.Match(p.name, p.dir); got != p.want {
				t.Errorf("CompileExcludes(%q).Match(%q, dir=%v) = %v, want %v", tc.pats, p.name, p.dir, got, p.want)
			}
		}
	}
}

func TestNoExcludes(t *testing.T) {
	e, err := CompileExcludes(nil)
	if err != nil || e != nil {
		t.Fatalf("CompileExcludes(nil) = %v, %v; want nil, nil", e, err)
	}
	if e.Match("a", false) {
		t.Error("nil Excludes excluded a name")
	}
}

// TestEscape: an escaped name matches itself, at any depth, and nothing else.
func TestEscape(t *testing.T) {
	for _, name := range []string{`back\slash`, "a*b", "q?", "[x]", "{a,b}", "!bang", "plain", "mid!dle"} {
		pat := Escape(name)
		e, err := CompileExcludes([]string{pat})
		if err != nil {
			t.Fatalf("CompileExcludes(Escape(%q) = %q) = %v", name, pat, err)
		}
		if !e.Match(name, false) || !e.Match("d/"+name, false) {
			t.Errorf("Escape(%q) = %q does not match the name", name, pat)
		}
		if e.Match(name+"x", false) || e.Match("x", false) {
			t.Errorf("Escape(%q) = %q matches another name", name, pat)
		}
	}
}
