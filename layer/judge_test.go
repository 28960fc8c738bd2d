package layer

import (
	"archive/tar"
	"errors"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want, why string }{
		{"a/b", "a/b", ""},
		{"./a/b/", "a/b", ""},
		{"./", "", ""},
		{".", "", ""},
		{"", "", "empty"},
		{"/a", "", "absolute"},
		{"a/../b", "", `".."`},
		{"..", "", `".."`},
		{"a\\b", "", "backslash"},
		{"a\x00b", "", "NUL"},
		{"a//b", "", "canonical"},
		{"a/./b", "", "canonical"},
		{"././a", "", "canonical"},
	} {
		got, why := Clean(c.in)
		if got != c.want || (c.why == "") != (why == "") || !strings.Contains(why, c.why) {
			t.Errorf("Clean(%q) = %q, %q; want %q, %q", c.in, got, why, c.want, c.why)
		}
	}
}

type hdr = tar.Header

func reg(name string) *hdr { return &hdr{Name: name, Typeflag: tar.TypeReg} }
func dir(name string) *hdr { return &hdr{Name: name, Typeflag: tar.TypeDir} }
func sym(name, target string) *hdr {
	return &hdr{Name: name, Typeflag: tar.TypeSymlink, Linkname: target}
}
func hard(name, target string) *hdr {
	return &hdr{Name: name, Typeflag: tar.TypeLink, Linkname: target}
}

// TestJudge: each layer's last entry is refused with kind and reason (or
// accepted when kind is 0); the entries before it are accepted.
func TestJudge(t *testing.T) {
	artifact := Options{Scope: "x", MaxSize: -1}
	image := Options{Image: true, MaxSize: -1}
	keep := Options{Scope: "x", AllowOutsideLinks: true, MaxSize: -1}
	for _, c := range []struct {
		name    string
		opts    Options
		entries []*hdr
		kind    Kind
		reason  string
		kept    bool
	}{
		{"a file", artifact, []*hdr{dir("x/"), reg("x/f")}, 0, "", false},
		{"root entry a directory", artifact, []*hdr{dir("./"), reg("x/f")}, 0, "", false},
		{"root entry a symlink", image, []*hdr{sym("./", "/")}, UnsafeName, "root entry is a symlink", false},
		{"root entry a file", image, []*hdr{reg(".")}, UnsafeName, "root entry is a regular file", false},
		{"backslash", artifact, []*hdr{reg(`x/back\slash.txt`)}, UnsafeName, "backslash", false},
		{"outside the title", artifact, []*hdr{reg("y")}, UnsafeName, `outside the layer's title "x"`, false},
		{"artifact: absolute symlink", artifact, []*hdr{sym("x/etc/localtime", "/usr/share/zoneinfo/UTC")}, LinkEscapes, "absolute target", false},
		{"artifact: absolute symlink kept", keep, []*hdr{sym("x/etc/localtime", "/usr/share/zoneinfo/UTC")}, 0, "", true},
		{"image: absolute symlink", image, []*hdr{sym("etc/localtime", "/usr/share/zoneinfo/UTC")}, 0, "", false},
		{"image: absolute symlink above the root", image, []*hdr{sym("bin/sh", "/../sh")}, LinkEscapes, "escapes the root", false},
		{"image: through an absolute symlink", image, []*hdr{sym("a", "/b"), sym("c", "a/../..")}, LinkEscapes, "escapes the root", false},
		{"climbs out of the title", artifact, []*hdr{sym("x/lib.so", "../shared/lib.so")}, LinkEscapes, `escapes the layer's title "x"`, false},
		{"the title a link beside it", artifact, []*hdr{sym("x", "y")}, LinkEscapes, `escapes the layer's title "x"`, false},
		{"the title a link into it", artifact, []*hdr{sym("x", "x/..")}, LinkEscapes, `escapes the layer's title "x"`, false},
		{"climbs out, kept", keep, []*hdr{sym("x/lib.so", "../shared/lib.so")}, 0, "", true},
		{"loop, even kept", keep, []*hdr{sym("x/a", "b"), sym("x/b", "a"), sym("x/c", "a/..")}, LinkEscapes, "too many levels", false},
		{"a link through itself, kept, then a loop", keep, []*hdr{sym("x/b", "b/../..")}, LinkEscapes, "too many levels", false},
		{"empty target, even kept", keep, []*hdr{sym("x/a", "")}, LinkEscapes, "empty target", false},
		{"through a symlink", artifact, []*hdr{sym("x/l", "d"), reg("x/l/f")}, LinkEscapes, "reached through the symlink x/l", false},
		{"below a file", artifact, []*hdr{reg("x/f"), reg("x/f/g")}, Duplicate, "below the file x/f", false},
		{"duplicate", artifact, []*hdr{reg("x/f"), reg("./x/f")}, Duplicate, "duplicate entry", false},
		{"a file over a parent", artifact, []*hdr{reg("x/d/f"), reg("x/d")}, Duplicate, "conflicts with an earlier entry", false},
		{"a directory over a parent", artifact, []*hdr{reg("x/d/f"), dir("x/d/")}, 0, "", false},
		{"hard link", artifact, []*hdr{reg("x/f"), hard("x/h", "x/f")}, 0, "", false},
		{"hard link to no earlier file", artifact, []*hdr{reg("x/g"), hard("x/h", "x/f")}, LinkEscapes, "not a regular file earlier", false},
		{"hard link to a directory", artifact, []*hdr{dir("x/d"), hard("x/h", "x/d")}, LinkEscapes, "not a regular file earlier", false},
		{"image: hard link to a name the layer lacks (a lower layer's, maybe)", image, []*hdr{hard("usr/bin/b", "usr/bin/a")}, 0, "", false},
		{"image: hard link to the layer's directory", image, []*hdr{dir("d/"), hard("h", "d")}, LinkEscapes, "not a regular file earlier in the layer or a lower one", false},
		{"image: hard link to the layer's symlink", image, []*hdr{sym("l", "f"), hard("h", "l")}, LinkEscapes, "h => l: the target is not a regular file", false},
		{"image: hard link through the layer's symlink", image, []*hdr{sym("l", "/etc"), hard("h", "l/passwd")}, LinkEscapes, "not a regular file", false},
		{"image: hard link below the layer's file", image, []*hdr{reg("f"), hard("h", "f/x")}, LinkEscapes, "not a regular file", false},
		{"image: hard link below itself", image, []*hdr{hard("d", "d/f")}, LinkEscapes, "not a regular file", false},
		{"hard link up", artifact, []*hdr{hard("x/h", "x/../../etc/passwd")}, LinkEscapes, `".."`, false},
		{"whiteout in an artifact", artifact, []*hdr{reg("x/.wh.f")}, UnsafeName, "whiteout", false},
		{"whiteout in an image", image, []*hdr{reg(".wh.f"), reg("a/.wh..wh..opq")}, 0, "", false},
		{"whiteout of dotdot", image, []*hdr{reg("a/.wh...")}, UnsafeName, "whiteout of", false},
		{"device", image, []*hdr{{Name: "dev/null", Typeflag: tar.TypeChar}}, Device, "device node", false},
		{"FIFO", image, []*hdr{{Name: "p", Typeflag: tar.TypeFifo}}, SpecialFile, "FIFO", false},
		{"sparse", image, []*hdr{{Name: "s", Typeflag: tar.TypeGNUSparse}}, SpecialFile, "sparse", false},
		{"too large", Options{MaxSize: 10}, []*hdr{{Name: "f", Typeflag: tar.TypeReg, Size: 11}}, TooLarge, "declares 11 bytes", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := NewJudge(c.opts, nil)
			var e Entry
			var err error
			for i, h := range c.entries {
				e, err = j.Entry(h)
				if i < len(c.entries)-1 && err != nil {
					t.Fatalf("Entry(%q) = %v, want it accepted", h.Name, err)
				}
			}
			if err == nil {
				if rs := j.Finish(); len(rs) > 0 {
					err = rs[0]
				}
			}
			var r *Refusal
			switch {
			case c.kind == 0 && err != nil:
				t.Fatalf("last entry: %v, want it accepted", err)
			case c.kind != 0 && (!errors.As(err, &r) || !errors.Is(err, ErrUnsafe)):
				t.Fatalf("last entry: %v, want a *Refusal wrapping ErrUnsafe", err)
			case c.kind != 0 && (r.Kind != c.kind || !strings.Contains(r.Error(), c.reason)):
				t.Fatalf("last entry: %v (kind %d), want kind %d with %q", r, r.Kind, c.kind, c.reason)
			case c.kind == 0 && (e.Kept != nil) != c.kept:
				t.Fatalf("last entry kept = %v, want %v", e.Kept, c.kept)
			}
		})
	}
}

// TestInferScope: verify reads an artifact layer before it knows the
// title; the first entry's top-level name holds the links instead.
func TestInferScope(t *testing.T) {
	j := NewJudge(Options{InferScope: true, MaxSize: -1}, nil)
	if _, err := j.Entry(dir("in/")); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Entry(sym("in/etc/lib.so", "../../shared/lib.so")); err == nil || !strings.Contains(err.Error(), `escapes the layer's title "in"`) {
		t.Errorf("a link out of the inferred title: %v, want refused", err)
	}
	if _, err := j.Entry(reg("other")); err != nil {
		t.Errorf("an entry outside the inferred title: %v, want it left to the caller", err)
	}
}

func TestCheckTitle(t *testing.T) {
	for title, want := range map[string]string{
		"f": "", "a/b": "", "../f": `".." in name`, "/etc/passwd": "absolute name", "a//b": "not a canonical name",
		"./a": "not a canonical name", "a/": "not a canonical name", ".": "the root", `a\b`: "backslash in name",
	} {
		r := CheckTitle(title)
		switch {
		case want == "" && r != nil:
			t.Errorf("CheckTitle(%q) = %v, want nil", title, r)
		case want != "" && (r == nil || r.Kind != UnsafeName || r.Name != title || !strings.HasSuffix(r.Reason, want)):
			t.Errorf("CheckTitle(%q) = %v, want an UnsafeName refusal ending %q", title, r, want)
		}
	}
}

// BenchmarkJudgeDeepPath judges a layer of 2,500 nested directories (a
// 5,000-byte path) with macOS's name rules, as verify --deep and extract on
// macOS do: each entry costs its new component, not its depth.
func BenchmarkJudgeDeepPath(b *testing.B) {
	var hdrs []*tar.Header
	p := ""
	for range 2500 {
		p += "d/"
		hdrs = append(hdrs, &tar.Header{Name: p, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	for b.Loop() {
		j := NewJudge(Options{Image: true, MaxSize: -1, Names: NewNames(NameRulesFor("darwin"), nil, 0)}, nil)
		for _, h := range hdrs {
			if _, err := j.Entry(h); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestJudgeParentsCache: the directory whose paths the judge found clean
// is forgotten when a link or file comes at one of them (possible once
// MaxTracked stops the judge remembering the parents of entries).
func TestJudgeParentsCache(t *testing.T) {
	j := NewJudge(Options{MaxSize: -1, MaxTracked: 1}, nil)
	for _, h := range []*tar.Header{reg("x"), reg("a/b/c"), sym("a", "x")} {
		if _, err := j.Entry(h); err != nil {
			t.Fatalf("Entry(%s) = %v", h.Name, err)
		}
	}
	if _, err := j.Entry(reg("a/b/d")); err == nil || !strings.Contains(err.Error(), "reached through the symlink a") {
		t.Errorf("Entry(a/b/d) after the link a = %v, want it refused", err)
	}
}

func TestContentLimit(t *testing.T) {
	for _, c := range []struct {
		declared, capSize, compressed, want int64
	}{
		{100, 1 << 20, 10, 100},                 // declared wins, even under a cap
		{-1, 1 << 20, 10, 1 << 20},              // --max-layer-size
		{-1, 0, 128 << 10, 1 << 30},             // a small layer: 1 GiB
		{-1, 0, 100 << 20, 100 * 100 << 20},     // 100 times the compressed size
		{-1, 0, 1 << 30, DefaultMaxLayerSize},   // at most 16 GiB
		{-1, 0, 100 << 30, DefaultMaxLayerSize}, // whatever the compressed size
	} {
		if got, _ := ContentLimit(c.declared, c.capSize, c.compressed); got != c.want {
			t.Errorf("ContentLimit(%d, %d, %d) = %d, want %d", c.declared, c.capSize, c.compressed, got, c.want)
		}
	}
}
