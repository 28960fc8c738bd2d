package layer

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// NameRules is what the file systems of an OS cannot hold as a name, or
// hold as one name where a tar has two. Extract on Windows and macOS refuses
// such names (the rule set of the host, NameRulesFor); verify --deep warns
// about them everywhere (PortableNames). The zero value has no rule.
type NameRules struct {
	// Reserved: a component that is a DOS device name (CON, PRN, AUX, NUL,
	// COM1-9, COM¹²³, LPT1-9, LPT¹²³, CONIN$, CONOUT$; any case, with or
	// without an extension: "nul.txt" is NUL), per Microsoft's "Naming
	// Files, Paths, and Namespaces". Windows opens the device instead.
	Reserved bool
	// Chars: a component with a character Windows forbids in names
	// (< > : " | ? *, control characters 1-31; "\" and NUL are never
	// allowed, see Clean). ':' names an NTFS alternate data stream.
	Chars bool
	// Trailing: a component ending in a dot or a space, which Windows
	// strips ("x." is "x").
	Trailing bool
	// UTF8: a name that is not valid UTF-8, which APFS refuses and Windows
	// (UTF-16 names) cannot spell.
	UTF8 bool
	// FoldCase: names that differ only in case are one file (NTFS and APFS
	// or HFS+ as formatted by default).
	FoldCase bool
	// FoldNorm: names that differ only in Unicode normalization (NFC "é"
	// and NFD "e"+U+0301) are one file (APFS, HFS+).
	FoldNorm bool
}

// The rule sets of the systems that have one.
var (
	WindowsNames = NameRules{Reserved: true, Chars: true, Trailing: true, UTF8: true, FoldCase: true}
	DarwinNames  = NameRules{UTF8: true, FoldCase: true, FoldNorm: true}
	// PortableNames is both: the names every system can hold apart.
	PortableNames = NameRules{Reserved: true, Chars: true, Trailing: true, UTF8: true, FoldCase: true, FoldNorm: true}
)

// NameRulesFor returns the rule set of the OS goos (a runtime.GOOS value):
// WindowsNames, DarwinNames (darwin and ios), or none.
func NameRulesFor(goos string) NameRules {
	switch goos {
	case "windows":
		return WindowsNames
	case "darwin", "ios":
		return DarwinNames
	}
	return NameRules{}
}

// IsZero reports whether r has no rule.
func (r NameRules) IsZero() bool { return r == NameRules{} }

// Component says why one component of a name (no "/") cannot be held, ""
// when it can. The reason names the systems it applies to.
func (r NameRules) Component(c string) string {
	switch {
	case r.UTF8 && !utf8.ValidString(c):
		return "not valid UTF-8, which Windows and macOS cannot hold"
	case r.Reserved && isReservedName(c):
		return fmt.Sprintf("%q is a device name on Windows", c)
	case r.Trailing && (strings.HasSuffix(c, ".") || strings.HasSuffix(c, " ")):
		return fmt.Sprintf("%q ends in a dot or space, which Windows drops", c)
	}
	if r.Chars {
		if i := strings.IndexFunc(c, forbiddenOnWindows); i >= 0 {
			ch, _ := utf8.DecodeRuneInString(c[i:])
			return fmt.Sprintf("%q holds %q, which Windows does not allow in a name", c, ch)
		}
	}
	return ""
}

func forbiddenOnWindows(c rune) bool {
	return c < 32 || strings.ContainsRune(`<>:"|?*`, c)
}

// isReservedName reports whether c is a Windows device name: the part
// before the first dot (or colon), trailing spaces dropped, as Go's
// internal/filepathlite and the Win32 path rules read it. Windows 11 no
// longer reserves a device name with an extension, earlier versions do:
// the rule keeps to the older.
func isReservedName(c string) bool {
	if i := strings.IndexAny(c, ".:"); i >= 0 {
		c = c[:i]
	}
	c = strings.TrimRight(c, " ")
	if len(c) < 3 || len(c) > len("CONOUT$") {
		return false
	}
	c = strings.ToUpper(c)
	switch c {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(c) < 4 || (c[:3] != "COM" && c[:3] != "LPT") {
		return false
	}
	switch c[3:] {
	case "1", "2", "3", "4", "5", "6", "7", "8", "9", "\u00b9", "\u00b2", "\u00b3":
		return true
	}
	return false
}

// Key returns the name as the systems of r see it: two names with the same
// key are one file there. Case is folded (Unicode full case folding) with
// FoldCase, and the canonical decomposition taken with FoldNorm, as
// Unicode's canonical caseless match (NFD(fold(NFD(name)))).
func (r NameRules) Key(name string) string {
	if isASCII(name) { // normalized in every form
		if r.FoldCase {
			return strings.ToLower(name)
		}
		return name
	}
	if r.FoldNorm {
		name = norm.NFD.String(name)
	}
	if r.FoldCase {
		name = foldCase(name)
		if r.FoldNorm {
			name = norm.NFD.String(name)
		}
	}
	return name
}

// foldCase folds the case of s; ASCII without a caser.
func foldCase(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return cases.Fold().String(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// collision says that a and b, two names with one key, are one file, and
// where.
func collision(a, b string) string {
	how, where := "case and Unicode normalization", "macOS"
	switch {
	case norm.NFC.String(a) == norm.NFC.String(b):
		// They look alike: spell them in ASCII.
		return fmt.Sprintf("%+q and %+q differ only in Unicode normalization: one file on macOS", a, b)
	case foldCase(a) == foldCase(b):
		how, where = "case", "Windows and macOS"
	}
	return fmt.Sprintf("%q and %q differ only in %s: one file on %s", a, b, how, where)
}

// Names is the set of names of one tree as the systems of a NameRules see
// it: each name added is checked once, component by component, and
// against the names added before. It is not safe for concurrent use.
type Names struct {
	rules NameRules
	keys  map[string]string // key → the name added with it
	// present, when set, says whether the tree still holds a name added
	// earlier (an image's later layers remove names).
	present func(name string) bool
	max     int
	limited bool
	lastDir string // the directory of the last name added
}

// NewNames returns an empty set under rules. present (nil: always true)
// says whether the tree still holds an earlier name that a new one
// collides with; max caps the names remembered (0: no cap), past which
// Limited reports true and collisions are no longer found.
func NewNames(rules NameRules, present func(name string) bool, max int) *Names {
	return &Names{rules: rules, keys: map[string]string{}, present: present, max: max}
}

// empty returns an empty set with the rules and cap of n (nil for nil)
// and present.
func (n *Names) empty(present func(name string) bool) *Names {
	if n == nil {
		return nil
	}
	return NewNames(n.rules, present, n.max)
}

// Limited reports whether the cap on names was reached.
func (n *Names) Limited() bool { return n.limited }

// NameProblem is a name the systems of a NameRules cannot hold as given.
type NameProblem struct {
	// Name is the name or the directory above it that has the problem.
	Name string
	// Other is the earlier name it collides with ("" for a problem of the
	// name alone).
	Other string
	// Reason names the component or the two names, and the systems.
	Reason string
}

// Add adds the canonical name (see Clean) and the directories above it,
// and returns the problem of the first of them that cannot be held, nil if
// none. A directory added before is not checked again.
// A nil *Names has no rule.
func (n *Names) Add(name string) *NameProblem {
	if n == nil || n.rules.IsZero() || name == "" {
		return nil
	}
	var first *NameProblem
	// Entries come sorted, mostly: siblings share the directories above,
	// and a directory below the last one adds only its own components (a
	// path of n directories costs n additions, not n²/2).
	if dir := name[:max(strings.LastIndexByte(name, '/'), 0)]; dir != "" && dir != n.lastDir {
		i := strings.IndexByte(name, '/')
		if n.lastDir != "" && strings.HasPrefix(dir, n.lastDir+"/") {
			i = next(name, len(n.lastDir))
		}
		for ; i >= 0; i = next(name, i) {
			if p := n.add(name[:i]); p != nil && first == nil {
				first = p
			}
		}
		n.lastDir = dir
	}
	if p := n.add(name); p != nil && first == nil {
		first = p
	}
	return first
}

// add adds one path, whose parents are added already.
func (n *Names) add(p string) *NameProblem {
	key := n.rules.Key(p)
	other, seen := n.keys[key]
	switch {
	case seen && other == p:
		return nil
	case seen && (n.present == nil || n.present(other)):
		return &NameProblem{Name: p, Other: other, Reason: collision(p, other)}
	}
	if !seen && n.max > 0 && len(n.keys) >= n.max {
		n.limited = true
	} else {
		n.keys[key] = p
	}
	base := p[strings.LastIndexByte(p, '/')+1:]
	if why := n.rules.Component(base); why != "" {
		return &NameProblem{Name: p, Reason: why}
	}
	return nil
}
