package bundle

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layer"
)

// TestExtractRefusesUnportableNames: extract under the Windows or macOS
// name rules (injected, as runtime.GOOS would choose them there) refuses a
// name that system cannot hold or holds as one file with another, with one
// line naming the entry, ErrUnportable (exit 1) and nothing written; the
// same layout extracts under the other system's rules where it may.
func TestExtractRefusesUnportableNames(t *testing.T) {
	const nfc, nfd = "caf\u00e9", "cafe\u0301"
	file := func(title string) testLayer {
		return testLayer{mediaType: "text/plain", blob: []byte("data of " + title), ann: map[string]string{ocispec.AnnotationTitle: title}}
	}
	bundleOf := func(names ...string) []testLayer {
		entries := []tarEntry{{name: "x/", typ: tar.TypeDir}}
		for _, n := range names {
			entries = append(entries, tarEntry{name: "x/" + n, body: n})
		}
		return []testLayer{ociLayer("x", tarOf(t, entries))}
	}
	for _, c := range []struct {
		name   string
		layers []testLayer
		image  bool
		refuse layer.NameRules // the rules that refuse it
		allow  layer.NameRules // rules that extract it
		msg    string
	}{
		{"device name", bundleOf("CON"), false, layer.WindowsNames, layer.DarwinNames, `layer x: x/CON: "CON" is a device name on Windows`},
		{"device name with an extension", bundleOf("nul.txt"), false, layer.WindowsNames, layer.DarwinNames, `x/nul.txt: "nul.txt" is a device name`},
		{"colon", bundleOf("a:b"), false, layer.WindowsNames, layer.DarwinNames, `x/a:b: "a:b" holds ':'`},
		{"trailing dot", bundleOf("x."), false, layer.WindowsNames, layer.DarwinNames, `x/x.: "x." ends in a dot or space`},
		{"case", bundleOf("README", "readme"), false, layer.DarwinNames, layer.NameRules{}, `x/readme: "x/readme" and "x/README" differ only in case`},
		{"case on windows", bundleOf("README", "readme"), false, layer.WindowsNames, layer.NameRules{}, `differ only in case`},
		{"normalization", bundleOf(nfc, nfd), false, layer.DarwinNames, layer.WindowsNames, `differ only in Unicode normalization: one file on macOS`},
		{"file layer title", []testLayer{file("aux.log")}, false, layer.WindowsNames, layer.DarwinNames, `layer aux.log: aux.log: "aux.log" is a device name`},
		{"titles in case", []testLayer{file("README"), file("readme")}, false, layer.DarwinNames, layer.NameRules{}, `layer readme: readme: "readme" and "README" differ only in case`},
		{"image layers in case", []testLayer{imageLayer(tarOf(t, []tarEntry{{name: "etc/", typ: tar.TypeDir}, {name: "etc/hosts"}})), imageLayer(tarOf(t, []tarEntry{{name: "etc/HOSTS"}}))},
			true, layer.WindowsNames, layer.NameRules{}, `etc/HOSTS: "etc/HOSTS" and "etc/hosts" differ only in case`},
	} {
		t.Run(c.name, func(t *testing.T) {
			ref := writeLayout(t, c.image, c.layers)
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			_, err := Extract(ctx, ref, out, ExtractOptions{Names: c.refuse})
			if !errors.Is(err, layer.ErrUnportable) || !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Extract() = %v, want one line with ErrUnportable: %q", err, c.msg)
			}
			if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("DIR after a refused extract: %v, want none", err)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Errorf("parent holds %v after a refused extract, want nothing (no staging left)", left)
			}
			if _, err := Extract(ctx, ref, filepath.Join(parent, "allowed"), ExtractOptions{Names: c.allow}); err != nil {
				t.Errorf("Extract() under %+v = %v, want it extracted", c.allow, err)
			}
		})
	}
}

// TestExtractNamesDefaultToTheHost: without ExtractOptions.Names, extract
// takes the rules of the OS it runs on (none on Linux).
func TestExtractNamesDefaultToTheHost(t *testing.T) {
	ref := writeLayout(t, false, []testLayer{ociLayer("x", tarOf(t, []tarEntry{{name: "x/CON"}, {name: "x/README"}, {name: "x/readme"}}))})
	_, err := Extract(ctx, ref, filepath.Join(t.TempDir(), "out"), ExtractOptions{})
	want := !layer.NameRulesFor(runtime.GOOS).IsZero()
	if refused := errors.Is(err, layer.ErrUnportable); refused != want || (!want && err != nil) {
		t.Errorf("Extract() on %s = %v; refused %v, want %v", runtime.GOOS, err, refused, want)
	}
}

// TestImportWritesOnlyPortableNames: import writes no name an archive
// chooses, only oci-layout, index.json and blobs/<algorithm>/<hex> (a
// validated lowercase digest), names every system holds apart: members
// whose names Windows or macOS could not hold, or that are a layout name in
// another case, are skipped, and a blob name in upper-case hex is refused
// (a name that is not ASCII needs PAX records, which the archive rules
// refuse). So import needs no name rules of its own, on any OS.
func TestImportWritesOnlyPortableNames(t *testing.T) {
	good, _, _ := validMembers(t)
	hex := strings.TrimPrefix(good[2].name, "blobs/sha256/")
	hostile := []arcMember{
		{name: "CON", data: []byte("x")}, {name: "nul.txt", data: []byte("x")}, {name: "a:b", data: []byte("x")},
		{name: "x.", data: []byte("x")},
		{name: "Index.json", data: good[1].data}, {name: "OCI-LAYOUT", data: good[0].data},
		{name: "BLOBS/sha256/" + hex, data: good[2].data}, {name: "blobs/SHA256/" + hex, data: good[2].data},
	}
	dst := filepath.Join(t.TempDir(), "layout")
	if _, err := Import(ctx, dst, bytes.NewReader(buildArchive(t, append(hostile, good...), nil, true)), ImportOptions{}); err != nil {
		t.Fatalf("Import() = %v, want the hostile members skipped", err)
	}
	names := layer.NewNames(layer.PortableNames, nil, 0)
	must(t, filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dst, p)
		if err != nil || rel == "." {
			return err
		}
		if p := names.Add(filepath.ToSlash(rel)); p != nil {
			t.Errorf("Import() wrote %s: %s", rel, p.Reason)
		}
		return nil
	}))
	// A blob name in upper-case hex is not a digest name: a stray member,
	// skipped like any file of blobs/<alg>/ that is not a digest (issue 12
	// item 9), so it is never written beside its lower-case twin.
	upper := append([]arcMember{{name: "blobs/sha256/" + strings.ToUpper(hex), data: good[2].data}}, good...)
	dst2 := filepath.Join(t.TempDir(), "layout")
	if _, err := Import(ctx, dst2, bytes.NewReader(buildArchive(t, upper, nil, true)), ImportOptions{}); err != nil {
		t.Fatalf("Import(a stray blob named in upper-case hex) = %v, want it skipped", err)
	}
	written, err := os.ReadDir(filepath.Join(dst2, "blobs", "sha256"))
	must(t, err)
	for _, e := range written {
		if e.Name() == strings.ToUpper(hex) {
			t.Errorf("Import() wrote the upper-case blob name %s", e.Name())
		}
	}
}
