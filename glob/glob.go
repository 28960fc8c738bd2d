package glob

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// ErrBadPattern: a pattern is empty, is not a valid glob (an unclosed "["
// or "{"), or climbs out of the root ("..").
var ErrBadPattern = errors.New("invalid pattern")

// Pattern is one compiled pattern. The zero value matches nothing.
type Pattern struct {
	raw     string // as the user wrote it
	expr    string // the doublestar expression, "**/" prefixed when unanchored
	dirOnly bool   // a trailing "/": directories only
}

// Compile parses p (see the package comment). Errors wrap ErrBadPattern and
// quote p.
func Compile(p string) (Pattern, error) {
	expr := p
	dirOnly := strings.HasSuffix(expr, "/")
	expr = strings.TrimRight(expr, "/")
	anchored := strings.Contains(expr, "/")
	expr = strings.TrimPrefix(strings.TrimLeft(expr, "/"), "./")
	switch {
	case expr == "" || expr == ".":
		return Pattern{}, fmt.Errorf("%q: %w: empty", p, ErrBadPattern)
	case expr == ".." || strings.HasPrefix(expr, "../") || strings.Contains(expr, "/../") || strings.HasSuffix(expr, "/.."):
		return Pattern{}, fmt.Errorf("%q: %w: \"..\" leaves the root", p, ErrBadPattern)
	case !doublestar.ValidatePattern(expr):
		return Pattern{}, fmt.Errorf("%q: %w: not a valid glob", p, ErrBadPattern)
	}
	if !anchored && !strings.HasPrefix(expr, "**/") {
		expr = "**/" + expr
	}
	return Pattern{raw: p, expr: expr, dirOnly: dirOnly}, nil
}

// String returns the pattern as it was written.
func (p Pattern) String() string { return p.raw }

// Match reports whether the relative, slash-separated, clean name (a
// directory when dir) is selected by p: p matches name itself, or one of
// the directories name is below.
func (p Pattern) Match(name string, dir bool) bool {
	if p.expr == "" {
		return false
	}
	name = strings.TrimSuffix(name, "/")
	if (dir || !p.dirOnly) && p.matchOne(name) {
		return true
	}
	for parent := path.Dir(name); parent != "." && parent != "/"; parent = path.Dir(parent) {
		if p.matchOne(parent) {
			return true
		}
	}
	return false
}

func (p Pattern) matchOne(name string) bool {
	ok, _ := doublestar.Match(p.expr, name) // validated by Compile
	return ok
}

// Set is a list of patterns that selects a name when any of them does,
// remembering which patterns selected something (extract names the ones
// that matched nothing).
type Set struct {
	patterns []Pattern
	used     []bool
}

// CompileSet compiles every pattern of ps; the first bad one is the error.
func CompileSet(ps []string) (*Set, error) {
	s := &Set{patterns: make([]Pattern, 0, len(ps)), used: make([]bool, len(ps))}
	for _, p := range ps {
		c, err := Compile(p)
		if err != nil {
			return nil, err
		}
		s.patterns = append(s.patterns, c)
	}
	return s, nil
}

// Len returns the number of patterns; a nil Set has none.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.patterns)
}

// Match reports whether any pattern selects name (see Pattern.Match), and
// marks each one that does as used.
func (s *Set) Match(name string, dir bool) bool {
	if s == nil {
		return false
	}
	hit := false
	for i, p := range s.patterns {
		if p.Match(name, dir) {
			s.used[i], hit = true, true
		}
	}
	return hit
}

// Select returns Match as a function, or nil for a Set without patterns
// (which selects everything: no selection).
func (s *Set) Select() func(name string, dir bool) bool {
	if s.Len() == 0 {
		return nil
	}
	return s.Match
}

// Unused returns the patterns that selected nothing so far, in order.
func (s *Set) Unused() []string {
	var out []string
	for i, p := range s.patterns {
		if !s.used[i] {
			out = append(out, p.raw)
		}
	}
	return out
}
