package layer

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/internal/layertest"
)

const (
	nfc = "caf\u00e9"  // é as one code point
	nfd = "cafe\u0301" // e + combining acute accent
)

// TestNameRulesComponent: each rule set on its own and together, on
// every OS (the rules are plain functions of the name). want holds, per
// rule set, a piece of the reason ("" when the set allows the name).
func TestNameRulesComponent(t *testing.T) {
	sets := []struct {
		name  string
		rules NameRules
	}{{"windows", WindowsNames}, {"darwin", DarwinNames}, {"portable", PortableNames}, {"linux", NameRules{}}}
	for _, c := range []struct {
		in   string
		want [4]string // windows, darwin, portable, linux
	}{
		{"README", [4]string{}},
		{"a.txt", [4]string{}},
		{"CON", [4]string{"device name", "", "device name", ""}},
		{"con", [4]string{"device name", "", "device name", ""}},
		{"nul.txt", [4]string{"device name", "", "device name", ""}},
		{"Nul.tar.gz", [4]string{"device name", "", "device name", ""}},
		{"aux ", [4]string{"device name", "", "device name", ""}},
		{"PRN", [4]string{"device name", "", "device name", ""}},
		{"COM1", [4]string{"device name", "", "device name", ""}},
		{"lpt9.log", [4]string{"device name", "", "device name", ""}},
		{"COM\u00b9", [4]string{"device name", "", "device name", ""}},
		{"LPT\u00b3.txt", [4]string{"device name", "", "device name", ""}},
		{"CONOUT$", [4]string{"device name", "", "device name", ""}},
		{"COM10", [4]string{}},
		{"COM0", [4]string{}},
		{"CONSOLE", [4]string{}},
		{"xcon", [4]string{}},
		{"a:b", [4]string{`holds ':'`, "", `holds ':'`, ""}},
		{"a<b", [4]string{`holds '<'`, "", `holds '<'`, ""}},
		{"a>b", [4]string{`holds '>'`, "", `holds '>'`, ""}},
		{`a"b`, [4]string{`holds '"'`, "", `holds '"'`, ""}},
		{"a|b", [4]string{`holds '|'`, "", `holds '|'`, ""}},
		{"a?b", [4]string{`holds '?'`, "", `holds '?'`, ""}},
		{"a*b", [4]string{`holds '*'`, "", `holds '*'`, ""}},
		{"a\x01b", [4]string{`holds '\x01'`, "", `holds '\x01'`, ""}},
		{"a\x1fb", [4]string{`holds '\x1f'`, "", `holds '\x1f'`, ""}},
		{"x.", [4]string{"dot or space", "", "dot or space", ""}},
		{"x ", [4]string{"dot or space", "", "dot or space", ""}},
		{"...", [4]string{"dot or space", "", "dot or space", ""}},
		{".hidden", [4]string{}},
		{"a\xffb", [4]string{"UTF-8", "UTF-8", "UTF-8", ""}},
		{nfd, [4]string{}},
	} {
		for i, s := range sets {
			got := s.rules.Component(c.in)
			want := c.want[i]
			if (want == "") != (got == "") || !strings.Contains(got, want) {
				t.Errorf("%s.Component(%q) = %q, want %q", s.name, c.in, got, want)
			}
		}
	}
}

func TestNameRulesFor(t *testing.T) {
	for goos, want := range map[string]NameRules{
		"windows": WindowsNames, "darwin": DarwinNames, "ios": DarwinNames,
		"linux": {}, "freebsd": {},
	} {
		if got := NameRulesFor(goos); got != want {
			t.Errorf("NameRulesFor(%q) = %+v, want %+v", goos, got, want)
		}
	}
}

func TestNameRulesKey(t *testing.T) {
	for _, c := range []struct {
		rules NameRules
		a, b  string
		same  bool
	}{
		{WindowsNames, "README", "readme", true},
		{DarwinNames, "README", "readme", true},
		{NameRules{}, "README", "readme", false},
		{WindowsNames, "Straße", "STRASSE", true}, // full case folding
		{WindowsNames, "\u00c9t\u00e9", "\u00e9T\u00c9", true},
		{WindowsNames, nfc, nfd, false}, // NTFS keeps both
		{DarwinNames, nfc, nfd, true},
		{DarwinNames, "CAF\u00c9", nfd, true}, // case and normalization at once
		{PortableNames, "CAF\u00c9", nfd, true},
		{DarwinNames, "a", "b", false},
	} {
		if got := c.rules.Key(c.a) == c.rules.Key(c.b); got != c.same {
			t.Errorf("%+v: Key(%q) == Key(%q) = %v, want %v", c.rules, c.a, c.b, got, c.same)
		}
	}
}

// TestNamesAdd: the names of one tree, added in order; the last one's
// problem is want ("" for none), every earlier one is accepted.
func TestNamesAdd(t *testing.T) {
	for _, c := range []struct {
		rules NameRules
		names []string
		want  string
		at    string // NameProblem.Name
	}{
		{PortableNames, []string{"README", "readme"}, `"readme" and "README" differ only in case: one file on Windows and macOS`, "readme"},
		{WindowsNames, []string{"README", "readme"}, "differ only in case", "readme"},
		{DarwinNames, []string{"README", "readme"}, "differ only in case", "readme"},
		{NameRules{}, []string{"README", "readme"}, "", ""},
		{PortableNames, []string{nfc, nfd}, `"cafe\u0301" and "caf\u00e9" differ only in Unicode normalization: one file on macOS`, nfd},
		{WindowsNames, []string{nfc, nfd}, "", ""},
		{PortableNames, []string{"CAF\u00c9", nfd}, "case and Unicode normalization: one file on macOS", nfd},
		{PortableNames, []string{"Docs/a", "docs/b"}, `"docs" and "Docs" differ only in case`, "docs"},
		{PortableNames, []string{"d/README", "e/readme"}, "", ""},
		{PortableNames, []string{"d", "d", "d/e"}, "", ""}, // the same name again
		{PortableNames, []string{"x/CON/f"}, `"CON" is a device name on Windows`, "x/CON"},
		{DarwinNames, []string{"x/CON/f"}, "", ""},
		{PortableNames, []string{"a:b"}, "holds ':'", "a:b"},
		{PortableNames, []string{"x./y"}, "ends in a dot or space", "x."},
	} {
		n := NewNames(c.rules, nil, 0)
		for i, name := range c.names[:len(c.names)-1] {
			if p := n.Add(name); p != nil {
				t.Errorf("%v: Add(%q) [%d] = %+v, want nil", c.names, name, i, p)
			}
		}
		last := c.names[len(c.names)-1]
		p := n.Add(last)
		switch {
		case c.want == "" && p != nil:
			t.Errorf("%+v %v: Add(%q) = %+v, want nil", c.rules, c.names, last, p)
		case c.want != "" && (p == nil || !strings.Contains(p.Reason, c.want) || p.Name != c.at):
			t.Errorf("%+v %v: Add(%q) = %+v, want %q at %q", c.rules, c.names, last, p, c.want, c.at)
		}
	}
}

// TestNamesPresent: a name collides only with one the tree still holds;
// past the cap, no collision is found and Limited says so.
func TestNamesPresent(t *testing.T) {
	gone := map[string]bool{}
	n := NewNames(PortableNames, func(name string) bool { return !gone[name] }, 0)
	if p := n.Add("README"); p != nil {
		t.Fatalf("Add(README) = %+v", p)
	}
	gone["README"] = true
	if p := n.Add("readme"); p != nil {
		t.Errorf("Add(readme) after README went = %+v, want nil", p)
	}
	if p := n.Add("Readme"); p == nil || p.Other != "readme" {
		t.Errorf("Add(Readme) = %+v, want a collision with readme", p)
	}

	capped := NewNames(PortableNames, nil, 1)
	capped.Add("a")
	capped.Add("b")
	if p := capped.Add("B"); p != nil || !capped.Limited() {
		t.Errorf("capped: Add(B) = %+v, Limited() = %v; want nil, true", p, capped.Limited())
	}
	once := NewNames(PortableNames, nil, 0)
	once.Add("x/CON/f")
	if p := once.Add("x/CON/g"); p != nil {
		t.Errorf("Add(x/CON/g) after x/CON/f = %+v, want nil: CON is checked once", p)
	}
	var none *Names
	if p := none.Add("CON"); p != nil {
		t.Errorf("(*Names)(nil).Add(CON) = %+v, want nil", p)
	}
}

// TestJudgeNames: a judge with Options.Names refuses, Unportable and
// wrapping ErrUnportable and ErrUnsafe, what its rules cannot hold; a judge
// without accepts the same entries.
func TestJudgeNames(t *testing.T) {
	for _, c := range []struct {
		rules   NameRules
		entries []*hdr
		reason  string
	}{
		{WindowsNames, []*hdr{dir("x/"), reg("x/CON")}, `x/CON: "CON" is a device name on Windows`},
		{WindowsNames, []*hdr{reg("x/a:b")}, `holds ':'`},
		{WindowsNames, []*hdr{reg("x/y.")}, `ends in a dot or space`},
		{WindowsNames, []*hdr{reg("x/README"), reg("x/readme")}, `x/readme: "x/readme" and "x/README" differ only in case`},
		{DarwinNames, []*hdr{reg("x/" + nfc), reg("x/" + nfd)}, "differ only in Unicode normalization"},
		{DarwinNames, []*hdr{dir("x/Docs/"), sym("x/docs", "Docs")}, "differ only in case"},
		{WindowsNames, []*hdr{reg("x/" + nfc), reg("x/" + nfd)}, ""},
		{DarwinNames, []*hdr{reg("x/CON"), reg("x/a:b"), reg("x/y.")}, ""},
	} {
		opts := Options{Scope: "x", MaxSize: -1}
		plain := NewJudge(opts, nil)
		opts.Names = NewNames(c.rules, nil, 0)
		j := NewJudge(opts, nil)
		var err error
		for _, h := range c.entries {
			if _, perr := plain.Entry(h); perr != nil {
				t.Fatalf("without rules: Entry(%q) = %v", h.Name, perr)
			}
			if _, err = j.Entry(h); err != nil {
				break
			}
		}
		var r *Refusal
		switch {
		case c.reason == "" && err != nil:
			t.Errorf("%v: %v, want no refusal", c.entries, err)
		case c.reason == "":
		case !errors.As(err, &r) || r.Kind != Unportable || !errors.Is(err, ErrUnportable) || !errors.Is(err, ErrUnsafe):
			t.Errorf("%v: %v, want an Unportable refusal wrapping ErrUnportable and ErrUnsafe", c.entries, err)
		case !strings.Contains(err.Error(), c.reason):
			t.Errorf("%v: %q, want %q", c.entries, err, c.reason)
		}
	}
}

// TestApplierNames: the applier refuses, with the Windows or macOS rule
// set injected, what those systems cannot hold, within a layer and across
// an image's layers (but not a name a lower layer's whiteout removed).
func TestApplierNames(t *testing.T) {
	tarOf := func(es ...layertest.Entry) []byte {
		b, err := layertest.Tar(es)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	file := func(name string) layertest.Entry {
		return layertest.Entry{Name: name, Type: '0', Body: "data of " + name}
	}
	wh := func(name string) layertest.Entry { return layertest.Entry{Name: name, Type: '0'} }
	for _, c := range []struct {
		name   string
		rules  NameRules
		image  bool
		layers [][]byte
		want   string // "" for applied
	}{
		{"device name", WindowsNames, false, [][]byte{tarOf(file("x/nul.txt"))}, `x/nul.txt: "nul.txt" is a device name on Windows`},
		{"colon", WindowsNames, false, [][]byte{tarOf(file("x/a:b"))}, `holds ':'`},
		{"case in a layer", DarwinNames, false, [][]byte{tarOf(file("x/README"), file("x/readme"))}, "differ only in case"},
		{"normalization", DarwinNames, false, [][]byte{tarOf(file("x/"+nfc), file("x/"+nfd))}, "Unicode normalization"},
		{"normalization on windows", WindowsNames, false, [][]byte{tarOf(file("x/"+nfc), file("x/"+nfd))}, ""},
		{"case across layers", WindowsNames, true, [][]byte{tarOf(file("README")), tarOf(file("readme"))}, `"readme" and "README" differ only in case`},
		{"after a whiteout", WindowsNames, true, [][]byte{tarOf(file("README")), tarOf(wh(".wh.README"), file("readme"))}, ""},
		{"no rules", NameRules{}, false, [][]byte{tarOf(file("x/CON"), file("x/README"), file("x/readme"))}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, err := os.OpenRoot(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			a := NewApplier(root, ApplyOptions{Image: c.image, Names: c.rules})
			defer a.Close()
			scope := "x"
			if c.image {
				scope = ""
			}
			for _, l := range c.layers {
				if err = a.Apply(context.Background(), strings.NewReader(string(l)), scope, -1); err != nil {
					break
				}
			}
			switch {
			case c.want == "" && err != nil:
				t.Errorf("Apply() = %v, want nil", err)
			case c.want != "" && (!errors.Is(err, ErrUnportable) || !strings.Contains(err.Error(), c.want)):
				t.Errorf("Apply() = %v, want ErrUnportable: %q", err, c.want)
			}
		})
	}
}

// TestCheckImageNames: with Options.Names, CheckImage finds the names of
// a layer that are one file with a name the layers below left in the
// tree; a layer's own collisions are the judge's, and a name whited out
// below no longer collides.
func TestCheckImageNames(t *testing.T) {
	for _, c := range []struct {
		name   string
		layers [][]*tar.Header
		want   string // part of the one refusal (of layer 1), "" for none
	}{
		{"case", [][]*tar.Header{{reg("README")}, {reg("readme")}}, `readme: "readme" and "README" differ only in case`},
		{"normalization", [][]*tar.Header{{reg(nfc)}, {reg(nfd)}}, "differ only in Unicode normalization"},
		{"a directory's case", [][]*tar.Header{{reg("Docs/a")}, {reg("docs/b")}}, `docs: "docs" and "Docs" differ only in case`},
		{"whited out", [][]*tar.Header{{reg("README")}, {reg(".wh.README"), reg("readme")}}, ""},
		{"replaced", [][]*tar.Header{{reg("README")}, {reg("README")}}, ""},
		{"within a layer", [][]*tar.Header{{reg("a")}, {reg("README"), reg("readme")}}, ""},
		{"a device name", [][]*tar.Header{{reg("a")}, {reg("CON")}}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := CheckImage(summarize(t, c.layers...), Options{MaxSize: -1, Names: NewNames(PortableNames, nil, 0)})
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("CheckImage() = %v, want none", got[0].Refusal)
			case c.want != "" && (len(got) != 1 || got[0].Layer != 1 || got[0].Kind != Unportable || !strings.Contains(got[0].Error(), c.want)):
				t.Errorf("CheckImage() = %v, want one Unportable refusal of layer 1 with %q", got, c.want)
			}
			if plain := CheckImage(summarize(t, c.layers...), Options{MaxSize: -1}); len(plain) > 0 {
				t.Errorf("CheckImage() without Names = %v, want none", plain)
			}
		})
	}
}

// BenchmarkJudgeNames judges a layer of 10,000 files in 100 directories
// (names as a source tree has them: mixed case, a few not ASCII), by the
// judge alone and with the portability rules verify --deep adds per entry.
func BenchmarkJudgeNames(b *testing.B) {
	var hdrs []*hdr
	for d := range 100 {
		dn := fmt.Sprintf("src/Module%02d/", d)
		hdrs = append(hdrs, dir(dn))
		for f := range 100 {
			name := fmt.Sprintf("%sFile_%03d.go", dn, f)
			if f%50 == 0 {
				name = fmt.Sprintf("%sR\u00e9sum\u00e9_%03d.txt", dn, f)
			}
			hdrs = append(hdrs, reg(name))
		}
	}
	for _, withNames := range []bool{false, true} {
		b.Run(fmt.Sprintf("names=%v", withNames), func(b *testing.B) {
			for b.Loop() {
				j := NewJudge(Options{Image: true, MaxSize: -1}, nil)
				var names *Names
				if withNames {
					names = NewNames(PortableNames, nil, 0)
				}
				for _, h := range hdrs {
					e, err := j.Entry(h)
					if err != nil {
						b.Fatal(err)
					}
					if p := names.Add(e.Name); p != nil {
						b.Fatal(p.Reason)
					}
				}
			}
		})
	}
}
