package layer

import (
	"archive/tar"
	"strings"
	"testing"
)

// summarize judges each layer by itself, as verify does, and returns the
// summaries CheckImage reads.
func summarize(t *testing.T, layers ...[]*tar.Header) []*Summary {
	t.Helper()
	var out []*Summary
	for _, l := range layers {
		j := NewJudge(Options{Image: true, MaxSize: -1, Summarize: true}, nil)
		for _, h := range l {
			if _, err := j.Entry(h); err != nil {
				t.Fatalf("Entry(%q) = %v, want each layer fine by itself", h.Name, err)
			}
		}
		if rs := j.Finish(); len(rs) > 0 {
			t.Fatalf("Finish() = %v, want each layer fine by itself", rs)
		}
		out = append(out, j.Summary())
	}
	return out
}

func TestCheckImage(t *testing.T) {
	for _, c := range []struct {
		name   string
		layers [][]*tar.Header
		want   string // part of the one refusal, "" for none
	}{
		{"through a lower link", [][]*tar.Header{{sym("lib", "usr/lib"), dir("usr/lib/")}, {reg("lib/x.so")}}, "lib/x.so: reached through the symlink lib"},
		{"below a lower file", [][]*tar.Header{{reg("etc")}, {reg("etc/hosts")}}, "etc/hosts: below the file etc"},
		{"whiteout below a lower file", [][]*tar.Header{{reg("f")}, {reg("f/.wh.x")}}, "f/.wh.x: below the file f"},
		{"whiteout through a lower link", [][]*tar.Header{{sym("l", "/etc")}, {reg("l/.wh.passwd")}}, "l/.wh.passwd: reached through the symlink l"},
		{"a link escapes with the link below", [][]*tar.Header{{sym("d", "."), dir("e/")}, {sym("e/p", "../d/../x")}}, "escapes the root"},
		{"the link replaced by a directory", [][]*tar.Header{{sym("lib", "usr/lib")}, {dir("lib/"), reg("lib/x.so")}}, ""},
		{"the link whited out", [][]*tar.Header{{sym("lib", "usr/lib")}, {reg(".wh.lib"), reg("lib/x.so")}}, ""},
		{"the link below an opaque directory", [][]*tar.Header{{sym("a/l", "/etc")}, {reg("a/.wh..wh..opq"), reg("a/l/x")}}, ""},
		{"the file replaced by a directory", [][]*tar.Header{{reg("etc")}, {dir("etc/"), reg("etc/hosts")}}, ""},
		{"hard link to a lower file", [][]*tar.Header{{reg("usr/bin/a")}, {reg("usr/bin/.wh.b"), hard("usr/bin/b", "usr/bin/a")}}, ""},
		{"hard link to a lower hard link", [][]*tar.Header{{reg("a"), hard("b", "a")}, {hard("c", "b")}}, ""},
		{"hard link to a whited-out lower file", [][]*tar.Header{{reg("a")}, {reg(".wh.a"), hard("b", "a")}}, "b => a: the target is not a regular file earlier in the layer or a lower one"},
		{"hard link below an opaque directory", [][]*tar.Header{{reg("d/a")}, {reg("d/.wh..wh..opq"), hard("b", "d/a")}}, "b => d/a: the target is not a regular file"},
		{"hard link to a lower symlink", [][]*tar.Header{{reg("a"), sym("l", "a")}, {hard("b", "l")}}, "b => l: the target is not a regular file"},
		{"hard link to a lower directory", [][]*tar.Header{{dir("d/")}, {hard("b", "d")}}, "b => d: the target is not a regular file"},
		{"hard link through a lower symlink", [][]*tar.Header{{reg("e/a"), sym("l", "e")}, {hard("b", "l/a")}}, "b => l/a: the target is not a regular file"},
		{"hard link to nothing", [][]*tar.Header{{reg("a")}, {hard("b", "c")}}, "b => c: the target is not a regular file"},
		{"absolute links from the root", [][]*tar.Header{{sym("bin", "/usr/bin"), dir("usr/bin/")}, {sym("usr/bin/sh", "/bin/busybox")}}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := CheckImage(summarize(t, c.layers...), Options{MaxSize: -1})
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("CheckImage() = %v, want none", got[0].Refusal)
			case c.want != "" && (len(got) != 1 || got[0].Layer != 1 || !strings.Contains(got[0].Error(), c.want)):
				t.Errorf("CheckImage() = %v, want one refusal of layer 1 with %q", got, c.want)
			}
		})
	}
	// An image of one layer: its hard links name files of that layer.
	if got := CheckImage(summarize(t, []*tar.Header{hard("b", "a")}), Options{MaxSize: -1}); len(got) != 1 || got[0].Layer != 0 {
		t.Errorf("CheckImage(one layer, a hard link to nothing) = %v, want one refusal of layer 0", got)
	}
}
