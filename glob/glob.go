package glob

import (
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Pattern is one parsed glob (see the package comment for the syntax). The
// zero Pattern matches only the empty name.
type Pattern struct {
	src  string // as given
	expr string // the doublestar expression matched
}

// Parse checks s and returns its Pattern. A malformed or empty pattern is
// ErrBadPattern wrapped with s.
func Parse(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, fmt.Errorf("%q: %w: empty", s, ErrBadPattern)
	}
	if !doublestar.ValidatePattern(s) {
		return Pattern{}, fmt.Errorf("%q: %w", s, ErrBadPattern)
	}
	return Pattern{src: s, expr: s}, nil
}

// Match reports whether the slash-separated name matches the whole pattern.
func (p Pattern) Match(name string) bool {
	return doublestar.MatchUnvalidated(p.expr, name)
}

// String returns the pattern as it was given.
func (p Pattern) String() string { return p.src }

// Escape returns a pattern that matches name exactly: the metacharacters
// `\ * ? [ ] { }` escaped, and a leading `!` (a negation in Excludes). With no
// "/" in name, it matches name at any depth in Excludes.
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

// Excludes is an ordered list of .gitignore-style patterns relative to one
// root. A nil *Excludes excludes nothing.
type Excludes struct {
	rules []rule
}

type rule struct {
	p       Pattern
	negate  bool // "!pat": a match re-includes
	dirOnly bool // "pat/": only directories match
}

// ParseExcludes parses patterns as lines of a .gitignore file would be
// (package comment), except that `#` and trailing spaces are kept as they
// are: a pattern given on a command line is never a comment. An error wraps
// ErrBadPattern and names the pattern; it is returned before anything is
// matched. No patterns give a nil *Excludes.
func ParseExcludes(patterns []string) (*Excludes, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	e := &Excludes{rules: make([]rule, 0, len(patterns))}
	for _, s := range patterns {
		r, err := parseRule(s)
		if err != nil {
			return nil, err
		}
		e.rules = append(e.rules, r)
	}
	return e, nil
}

// parseRule turns one .gitignore-style pattern into the doublestar
// expression that matches a name relative to the root.
func parseRule(s string) (rule, error) {
	var r rule
	expr := s
	if strings.HasPrefix(expr, "!") {
		r.negate, expr = true, expr[1:]
	}
	if strings.HasSuffix(expr, "/") && !strings.HasSuffix(expr, `\/`) {
		r.dirOnly, expr = true, strings.TrimRight(expr, "/")
	}
	switch {
	case strings.HasPrefix(expr, "/"):
		expr = strings.TrimLeft(expr, "/") // anchored at the root
	case !strings.Contains(expr, "/"):
		expr = "**/" + expr // no slash: at any depth
	}
	if expr == "" || expr == "**/" {
		return rule{}, fmt.Errorf("%q: %w: matches no name", s, ErrBadPattern)
	}
	// "dir/**" matches what is inside dir, not dir itself (gitignore).
	if rest, ok := strings.CutSuffix(expr, "/**"); ok {
		expr = rest + "/*/**"
	}
	if !doublestar.ValidatePattern(expr) {
		return rule{}, fmt.Errorf("%q: %w", s, ErrBadPattern)
	}
	r.p = Pattern{src: s, expr: expr}
	return r, nil
}

// Match reports whether name (slash-separated, relative to the root; dir
// when it names a directory) is excluded: the last pattern that matches it
// decides. It does not look at name's parent directories: a walker that
// skips an excluded directory never asks about what is below it, and a
// pattern cannot re-include a file whose directory is excluded (as git).
func (e *Excludes) Match(name string, dir bool) bool {
	if e == nil {
		return false
	}
	excluded := false
	for _, r := range e.rules {
		if r.negate == !excluded || (r.dirOnly && !dir) {
			continue // cannot change the outcome
		}
		if r.p.Match(name) {
			excluded = !r.negate
		}
	}
	return excluded
}
