package glob

// Selection is what extract's PATTERN arguments select: a name that any
// pattern matches, each pattern read as one line of Excludes (the
// .gitignore rules: no "/" matches at any depth, a trailing "/" only
// directories), or that is below a directory one of them matches (`docs`
// selects docs/a.md). It remembers the patterns that selected nothing. A
// nil *Selection selects everything. Not safe for concurrent use.
type Selection struct {
	patterns []*Excludes
	src      []string
	used     []bool
}

// ParseSelection parses patterns (none: a nil *Selection). An error wraps
// ErrBadPattern and names the pattern; a negation ("!x") selects nothing.
func ParseSelection(patterns []string) (*Selection, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	s := &Selection{src: patterns, used: make([]bool, len(patterns))}
	for _, p := range patterns {
		e, err := ParseExcludes([]string{p})
		if err != nil {
			return nil, err
		}
		s.patterns = append(s.patterns, e)
	}
	return s, nil
}

// Match reports whether name (slash-separated, relative; dir when it is a
// directory) is selected, and marks each pattern that selects it used.
func (s *Selection) Match(name string, dir bool) bool {
	if s == nil {
		return true
	}
	hit := false
	for i, e := range s.patterns {
		if matchOrParent(e, name, dir) {
			s.used[i], hit = true, true
		}
	}
	return hit
}

// matchOrParent reports whether e matches name or a directory above it.
func matchOrParent(e *Excludes, name string, dir bool) bool {
	if e.Match(name, dir) {
		return true
	}
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '/' && e.Match(name[:i], true) {
			return true
		}
	}
	return false
}

// Unused returns the patterns that selected nothing so far, in order.
func (s *Selection) Unused() []string {
	if s == nil {
		return nil
	}
	var out []string
	for i, p := range s.src {
		if !s.used[i] {
			out = append(out, p)
		}
	}
	return out
}

// Func returns Match as a function, or nil for a nil Selection (no
// selection: everything is written).
func (s *Selection) Func() func(name string, dir bool) bool {
	if s == nil {
		return nil
	}
	return s.Match
}
