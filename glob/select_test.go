package glob

import (
	"errors"
	"testing"
)

func TestSelection(t *testing.T) {
	tests := []struct {
		pattern, name string
		dir, want     bool
	}{
		{"bin/app", "bin/app", false, true},
		{"bin/app", "bin/application", false, false},
		{"bin/app", "x/bin/app", false, false}, // a "/" anchors at the root
		{"docs/**", "docs/a/b.md", false, true},
		{"docs/**", "docsx/a", false, false},
		{"docs", "docs/a/b.md", false, true}, // below a selected directory
		{"*.log", "a/b/c.log", false, true},  // no "/": any depth
		{"*.log", "c.logx", false, false},
		{"/app", "x/app", false, false},
		{"a/**/c", "a/b/x/c", false, true},
		{"build/", "build", false, false}, // a trailing "/": directories only
		{"build/", "build/o.o", false, true},
		{"!x", "x", false, false}, // a negation alone selects nothing
	}
	for _, tt := range tests {
		s, err := ParseSelection([]string{tt.pattern})
		if err != nil {
			t.Fatalf("ParseSelection(%q) = %v", tt.pattern, err)
		}
		if got := s.Match(tt.name, tt.dir); got != tt.want {
			t.Errorf("ParseSelection(%q).Match(%q, %v) = %v, want %v", tt.pattern, tt.name, tt.dir, got, tt.want)
		}
	}
}

func TestSelectionUnused(t *testing.T) {
	s, err := ParseSelection([]string{"bin/app", "nothing/*", "docs/**"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"bin/app", "docs/a", "other"} {
		s.Match(n, false)
	}
	if got := s.Unused(); len(got) != 1 || got[0] != "nothing/*" {
		t.Errorf("Unused() = %q, want [nothing/*]", got)
	}
	if _, err := ParseSelection([]string{"[ab"}); !errors.Is(err, ErrBadPattern) {
		t.Errorf("ParseSelection([ab) = %v, want ErrBadPattern", err)
	}
	var none *Selection
	if !none.Match("x", false) || none.Func() != nil || none.Unused() != nil {
		t.Errorf("a nil Selection does not select everything")
	}
}
