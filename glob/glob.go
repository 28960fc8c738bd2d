package glob

import (
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Pattern is one compiled pattern. The zero value matches nothing.
type Pattern struct {
	raw     string // as the user wrote it
	expr    string // the doublestar expression, "**/" prefixed when unanchored
	dirOnly bool   // a trailing "/": directories only
}

// Compile parses p (see the package comment). Errors wrap ErrBadPattern and
// quote p.
func Compile(p string) (Pattern, error) { return compile(p, p) }

// compile parses p, which the user wrote as raw (p, or "!" and p).
func compile(raw, p string) (Pattern, error) {
	expr := p
	dirOnly := strings.HasSuffix(expr, "/")
	expr = strings.TrimRight(expr, "/")
	anchored := strings.Contains(expr, "/")
	expr = strings.TrimPrefix(strings.TrimLeft(expr, "/"), "./")
	switch {
	case expr == "" || expr == ".":
		return Pattern{}, fmt.Errorf("%q: %w: empty", raw, ErrBadPattern)
	case expr == ".." || strings.HasPrefix(expr, "../") || strings.Contains(expr, "/../") || strings.HasSuffix(expr, "/.."):
		return Pattern{}, fmt.Errorf("%q: %w: \"..\" leaves the root", raw, ErrBadPattern)
	case !doublestar.ValidatePattern(expr):
		return Pattern{}, fmt.Errorf("%q: %w: not a valid glob", raw, ErrBadPattern)
	}
	if !anchored && !strings.HasPrefix(expr, "**/") {
		expr = "**/" + expr
	}
	return Pattern{raw: raw, expr: expr, dirOnly: dirOnly}, nil
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
	return doublestar.MatchUnvalidated(p.expr, name) // validated by Compile
}

// Escape returns a pattern that matches name exactly, at any depth when
// name has no "/": the metacharacters `\ * ? [ ] { }` escaped, and a
// leading `!` (a negation in Excludes).
func Escape(name string) string {
	var b strings.Builder
	for i, c := range name {
		if strings.ContainsRune(`\*?[]{}`, c) || (i == 0 && c == '!') {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
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

// Excludes is an ordered list of .gitignore-style patterns: a name is left
// out when the last pattern that matches it does not start with "!"
// ("!PATTERN" takes back what an earlier pattern left out). A nil
// *Excludes leaves out nothing.
type Excludes struct {
	rules []rule
}

type rule struct {
	p      Pattern
	negate bool
}

// CompileExcludes compiles patterns, each as a line of a .gitignore would
// be, except that "#" and trailing spaces are kept as they are: a pattern
// given on a command line is never a comment. Errors wrap ErrBadPattern
// and quote the first bad pattern. No patterns give a nil *Excludes.
func CompileExcludes(patterns []string) (*Excludes, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	e := &Excludes{rules: make([]rule, 0, len(patterns))}
	for _, s := range patterns {
		negate := strings.HasPrefix(s, "!")
		p, err := compile(s, strings.TrimPrefix(s, "!"))
		if err != nil {
			return nil, err
		}
		e.rules = append(e.rules, rule{p, negate})
	}
	return e, nil
}

// Match reports whether name (slash-separated, relative to the root; dir
// when it names a directory) is left out. A walker that does not descend
// into an excluded directory never asks about what is below it, so, as in
// git, nothing below an excluded directory can be taken back.
func (e *Excludes) Match(name string, dir bool) bool {
	if e == nil {
		return false
	}
	excluded := false
	for _, r := range e.rules {
		if r.negate == !excluded {
			continue // cannot change the outcome
		}
		if r.p.Match(name, dir) {
			excluded = !r.negate
		}
	}
	return excluded
}
