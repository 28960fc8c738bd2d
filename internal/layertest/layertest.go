// Package layertest makes random layer tars for the tests that hold pack,
// verify --deep and extract to one set of layer rules, and for the
// fuzzers' seed corpora. Names and link targets come from small sets, so
// that duplicates, links through links, escapes, whiteouts and hard links
// to earlier entries (of the layer or a lower one) all happen often.
package layertest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Entry is one entry of a random layer.
type Entry struct {
	Name string
	Type byte
	Link string
	Body string
}

// Random returns the entries of a random layer: an image layer (names from
// the root, whiteouts) or an artifact layer titled "x". lower holds the
// entries of the image's lower layers (nil for none): a hard link may name
// one of them too, as an upgrade layer links to a file of its base.
func Random(r *rand.Rand, image bool, lower []Entry) []Entry {
	comps := []string{"a", "b", "l", "m"}
	randPath := func() string {
		var p []string
		for range 1 + r.IntN(3) {
			p = append(p, comps[r.IntN(len(comps))])
		}
		return strings.Join(p, "/")
	}
	prefix := "x/"
	if image {
		prefix = ""
	}
	odd := []string{"./", ".", "x", "/abs", "x/../y", `x/a\b`, "y/a", "x//a", "x/.wh.a", ".wh.a", "a/.wh..wh..opq", "./x/a", "x/a/", "a/.wh..."}
	targets := []string{"a", "../a", "../../a", "../../..", "..", "/etc", "/a", ".", "b/../..", "l", "m/a", "", "l/../..", "/../x",
		"b", "m", "../b", "a/b"}
	var out []Entry
	var names []string
	for _, e := range lower {
		names = append(names, e.Name)
	}
	for range 1 + r.IntN(8) {
		name := prefix + randPath()
		if r.IntN(12) == 0 {
			name = odd[r.IntN(len(odd))]
		}
		e := Entry{Name: name, Type: tar.TypeReg, Body: "data of " + name}
		switch k := r.IntN(20); {
		case k < 8:
		case k < 12:
			e.Type, e.Body = tar.TypeDir, ""
		case k < 17:
			e.Type, e.Body, e.Link = tar.TypeSymlink, "", targets[r.IntN(len(targets))]
		case k < 19:
			e.Type, e.Body = tar.TypeLink, ""
			if len(names) > 0 && r.IntN(4) > 0 {
				e.Link = names[r.IntN(len(names))]
			} else {
				e.Link = prefix + randPath()
			}
		default:
			e.Type, e.Body = []byte{tar.TypeFifo, tar.TypeChar}[r.IntN(2)], ""
		}
		if strings.HasSuffix(name, "/") && e.Type != tar.TypeDir { // archive/tar writes no such header
			e.Type, e.Body, e.Link = tar.TypeDir, "", ""
		}
		names = append(names, name)
		out = append(out, e)
	}
	return out
}

// Tar writes entries as a tar stream (PAX, fixed mtime, mode 0644 or 0755).
func Tar(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := int64(0o644)
		if e.Type == tar.TypeDir {
			mode = 0o755
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Linkname: e.Link, Mode: mode, Size: int64(len(e.Body)),
			ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if e.Type != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("%q: %w", e.Name, err)
		}
		if _, err := tw.Write([]byte(e.Body)[:hdr.Size]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Describe lists entries, one a line, for a failure message.
func Describe(entries []Entry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "  %q type %q link %q\n", e.Name, e.Type, e.Link)
	}
	return b.String()
}
