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
		{"[ab].txt", "b.txt", false, true},
		{"{x,y}/f", "y/f", false, true},
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
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, p := range []string{"", "/", ".", "..", "../x", "a/../../b", "[ab", "{a,b"} {
		if _, err := Compile(p); !errors.Is(err, ErrBadPattern) {
			t.Errorf("Compile(%q) = %v, want ErrBadPattern", p, err)
		}
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
	if none.Len() != 0 || none.Match("x", false) {
		t.Errorf("a nil Set selects something")
	}
}
