package bundle

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/verify"
)

// verifyDeep runs verify --deep on target and returns its report as text
// and whether it is OK.
func verifyDeep(t *testing.T, target string) (string, bool) {
	t.Helper()
	rep, err := verify.Verify(ctx, target, verify.Options{Deep: true})
	must(t, err)
	var b strings.Builder
	rep.WriteText(&b)
	return b.String(), rep.OK()
}

// TestExtractImageHardLinkToLowerLayer: an upper layer of an image may
// hard-link a regular file a lower layer wrote (a package upgrade linking
// to a file of the base layer), as containerd and umoci accept. extract
// writes the link (sharing the file's inode); verify --deep passes on the
// layout and on its export archive.
func TestExtractImageHardLinkToLowerLayer(t *testing.T) {
	ref := writeLayout(t, true, []testLayer{
		imageLayer(tarOf(t, []tarEntry{{name: "usr/bin/", typ: tar.TypeDir}, {name: "usr/bin/python3.11", body: "ELF"}})),
		imageLayer(tarOf(t, []tarEntry{{name: "usr/bin/", typ: tar.TypeDir}, {name: "usr/bin/python3", typ: tar.TypeLink, link: "usr/bin/python3.11"}})),
	})
	out := filepath.Join(t.TempDir(), "out")
	_, err := Extract(ctx, ref, out, ExtractOptions{})
	must(t, err)
	a, err := os.Stat(filepath.Join(out, "usr/bin/python3.11"))
	must(t, err)
	b, err := os.Stat(filepath.Join(out, "usr/bin/python3"))
	must(t, err)
	if !os.SameFile(a, b) {
		t.Errorf("usr/bin/python3 and usr/bin/python3.11 are two files, want one inode")
	}
	if text, ok := verifyDeep(t, ref); !ok {
		t.Errorf("verify --deep of the layout:\n%s", text)
	}
	archive := filepath.Join(t.TempDir(), "image.tar")
	_, err = ExportFile(ctx, archive, []string{ref}, ExportOptions{})
	must(t, err)
	if text, ok := verifyDeep(t, archive); !ok {
		t.Errorf("verify --deep of the export archive:\n%s", text)
	}
}

// TestExtractImageHardLinkRefused: a hard link to a lower layer's file that
// a whiteout removed, to a lower symlink, to a lower directory, or to a
// name no layer has: extract refuses it and verify --deep reports it, with
// the same text naming the link and its target.
func TestExtractImageHardLinkRefused(t *testing.T) {
	const reason = "the target is not a regular file earlier in the layer or a lower one"
	for _, c := range []struct {
		name  string
		lower []tarEntry
		upper []tarEntry
	}{
		{"whited-out file", []tarEntry{{name: "a", body: "1"}}, []tarEntry{{name: ".wh.a"}, {name: "h", typ: tar.TypeLink, link: "a"}}},
		{"file below an opaque directory", []tarEntry{{name: "d/a", body: "1"}}, []tarEntry{{name: "d/.wh..wh..opq"}, {name: "h", typ: tar.TypeLink, link: "d/a"}}},
		{"symlink", []tarEntry{{name: "a", body: "1"}, {name: "l", typ: tar.TypeSymlink, link: "a"}}, []tarEntry{{name: "h", typ: tar.TypeLink, link: "l"}}},
		{"symlink out of the root", []tarEntry{{name: "l", typ: tar.TypeSymlink, link: "/etc/passwd"}}, []tarEntry{{name: "h", typ: tar.TypeLink, link: "l"}}},
		{"file through a symlink", []tarEntry{{name: "e/a", body: "1"}, {name: "l", typ: tar.TypeSymlink, link: "e"}}, []tarEntry{{name: "h", typ: tar.TypeLink, link: "l/a"}}},
		{"directory", []tarEntry{{name: "d/", typ: tar.TypeDir}}, []tarEntry{{name: "h", typ: tar.TypeLink, link: "d"}}},
		{"nothing", []tarEntry{{name: "a", body: "1"}}, []tarEntry{{name: "h", typ: tar.TypeLink, link: "b"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ref := writeLayout(t, true, []testLayer{imageLayer(tarOf(t, c.lower)), imageLayer(tarOf(t, c.upper))})
			link := c.upper[len(c.upper)-1]
			want := "h => " + link.link + ": " + reason
			checkRefused(t, ref, want, ErrUnsafe)
			text, ok := verifyDeep(t, ref)
			if ok || !strings.Contains(text, "TAR_LINK_ESCAPES") || !strings.Contains(text, want) {
				t.Errorf("verify --deep:\n%s\nwant TAR_LINK_ESCAPES with %q", text, want)
			}
		})
	}
	// An image of one layer whose hard link names nothing.
	ref := writeLayout(t, true, []testLayer{imageLayer(tarOf(t, []tarEntry{{name: "h", typ: tar.TypeLink, link: "a"}}))})
	checkRefused(t, ref, "h => a: "+reason, ErrUnsafe)
	if text, ok := verifyDeep(t, ref); ok || !strings.Contains(text, "h => a: "+reason) {
		t.Errorf("verify --deep of one layer linking to nothing:\n%s", text)
	}
}
