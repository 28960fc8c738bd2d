package verify

import (
	"archive/tar"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/profile"
)

const (
	eNFC = "caf\u00e9"  // é as one code point
	eNFD = "cafe\u0301" // e + combining acute accent
)

// wantWarnings checks that rep is OK and holds exactly the warnings of
// code whose messages contain each of want, at loc.
func wantWarnings(t *testing.T, rep *Report, code Code, loc string, want ...string) {
	t.Helper()
	got := find(rep, code)
	if !rep.OK() || len(got) != len(want) {
		t.Fatalf("%s: %d findings, OK() = %v; want %d warnings, OK:\n%s", code, len(got), rep.OK(), len(want), dump(rep))
	}
	for i, f := range got {
		if f.Severity != Warning || !strings.Contains(f.Message, want[i]) || (loc != "" && f.Location != loc) {
			t.Errorf("%s finding %d = %+v, want a warning at %q with %q", code, i, f, loc, want[i])
		}
	}
}

// TestDeepPortabilityWarnings: verify --deep warns, on every OS, about the
// names of a layer that Windows or macOS cannot hold or hold as one, in a
// layout directory and in its archive alike; the report stays OK, and
// verify without --deep says nothing.
func TestDeepPortabilityWarnings(t *testing.T) {
	f := newFx(t)
	f.std(nil)
	content := tarOf(t,
		entry{name: "files/", typ: tar.TypeDir},
		entry{name: "files/CON", body: "1"},
		entry{name: "files/README", body: "2"},
		entry{name: "files/a:b", body: "3"},
		entry{name: "files/" + eNFC, body: "4"},
		entry{name: "files/" + eNFD, body: "5"},
		entry{name: "files/readme", body: "6"},
		entry{name: "files/x.", body: "7"},
	)
	l := f.layer(content, compressed(t, content, compress.Zstd), ocispec.MediaTypeImageLayerZstd)
	md := f.putJSON(manifest(f.emptyConfig(), l), ocispec.MediaTypeImageManifest)
	f.index(tagged(md, "v1"))
	loc := blobPath(l)

	for _, target := range []string{f.dir, archiveOf(t, f.dir)} {
		rep := run(t, target, Options{Deep: true})
		wantWarnings(t, rep, TarNameUnportable, loc,
			`files/CON: "CON" is a device name on Windows`,
			`files/a:b: "a:b" holds ':', which Windows does not allow`,
			`files/x.: "x." ends in a dot or space, which Windows drops`)
		wantWarnings(t, rep, TarNameCollision, loc,
			`"files/cafe\u0301" and "files/caf\u00e9" differ only in Unicode normalization: one file on macOS`,
			`files/readme: "files/readme" and "files/README" differ only in case: one file on Windows and macOS`)
		if shallow := run(t, target, Options{}); len(find(shallow, TarNameUnportable))+len(find(shallow, TarNameCollision)) > 0 {
			t.Errorf("verify without --deep: portability findings:\n%s", dump(shallow))
		}
	}
}

// TestDeepPortabilityAcrossImageLayers: a name of an image's upper layer
// that is one file on Windows and macOS with a name of a lower layer is a
// warning at the upper layer; one whited out first is not.
func TestDeepPortabilityAcrossImageLayers(t *testing.T) {
	for _, c := range []struct {
		name  string
		upper []entry
		want  []string
	}{
		{"case", []entry{{name: "readme", body: "2"}}, []string{`readme: "readme" and "README" differ only in case`}},
		{"a directory's case", []entry{{name: "Etc/", typ: tar.TypeDir}}, []string{`Etc: "Etc" and "etc" differ only in case`}},
		{"whited out", []entry{{name: ".wh.README"}, {name: "readme", body: "2"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t)
			lower := tarOf(t, entry{name: "README", body: "1"}, entry{name: "etc/", typ: tar.TypeDir})
			upper := tarOf(t, c.upper...)
			var layers []any
			var diffIDs []string
			for _, content := range [][]byte{lower, upper} {
				layers = append(layers, f.put(compressed(t, content, compress.Gzip), ocispec.MediaTypeImageLayerGzip))
				diffIDs = append(diffIDs, digest.FromBytes(content).String())
			}
			cfg := f.putJSON(map[string]any{"architecture": "amd64", "os": "linux",
				"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs}}, ocispec.MediaTypeImageConfig)
			md := f.putJSON(map[string]any{"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageManifest, "config": cfg, "layers": layers}, ocispec.MediaTypeImageManifest)
			f.index(tagged(md, "img"))
			wantWarnings(t, run(t, f.dir, Options{Deep: true}), TarNameCollision, blobPath(layers[1].(map[string]any)), c.want...)
		})
	}
}

// TestDeepPortabilityOfTitles: the titles of an artifact's layers that
// Windows or macOS cannot hold apart are warnings at the title annotation;
// a file layer's title is judged by itself too.
func TestDeepPortabilityOfTitles(t *testing.T) {
	f := newFx(t)
	file := func(title, body string) map[string]any {
		d := f.put([]byte(body), "text/plain")
		d["annotations"] = map[string]any{ocispec.AnnotationTitle: title}
		return d
	}
	content := tarOf(t, entry{name: "Docs/", typ: tar.TypeDir}, entry{name: "Docs/a", body: "a"})
	dir := f.put(compressed(t, content, compress.Gzip), ocispec.MediaTypeImageLayerGzip)
	dir["annotations"] = map[string]any{ocispec.AnnotationTitle: "Docs", profile.AnnotationORASUnpack: "true",
		profile.AnnotationORASDigest: digest.FromBytes(content).String()}
	m := manifest(f.emptyConfig(), file("README", "1"), file("readme", "2"), file("nul.txt", "3"), dir, file("docs", "4"))
	md := f.putJSON(m, ocispec.MediaTypeImageManifest)
	f.index(tagged(md, "v1"))
	rep := run(t, f.dir, Options{Deep: true})
	loc := blobPath(md)
	wantWarnings(t, rep, TarNameCollision, loc,
		`readme: "readme" and "README" differ only in case`,
		`docs: "docs" and "Docs" differ only in case`)
	wantWarnings(t, rep, TarNameUnportable, loc, `nul.txt: "nul.txt" is a device name on Windows`)
}
