package layer

import (
	"archive/tar"
	"strings"
)

// Clean checks the name of a tar entry and returns it canonical: without
// an optional leading "./" and a directory's trailing "/" ("" for the root
// entry itself, "./" or "."). A name that is not a plain relative slash
// path (absolute, "..", backslash, NUL, empty or "." components) is
// refused: why says why ("" when the name is good). Extract, verify --deep,
// pack and the archive reader of layout all take names through it.
func Clean(name string) (clean, why string) {
	switch {
	case name == "":
		return "", "empty name"
	case strings.ContainsRune(name, 0):
		return "", "NUL in name"
	case strings.ContainsRune(name, '\\'):
		return "", "backslash in name"
	case strings.HasPrefix(name, "/"):
		return "", "absolute name"
	}
	name = strings.TrimPrefix(name, "./")
	name = strings.TrimSuffix(name, "/")
	if name == "" || name == "." {
		return "", ""
	}
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "..":
			return "", `".." in name`
		case "", ".":
			return "", "not a canonical name"
		}
	}
	return name, ""
}

// CheckTitle judges the title of an artifact layer (its
// org.opencontainers.image.title), the name its file or tree is written
// under: it must be a canonical entry name (Clean) naming something, not
// the root. It returns nil or a *Refusal (UnsafeName, wrapping ErrUnsafe)
// naming the title; extract refuses such a layer and verify --deep reports
// it with the same text.
func CheckTitle(title string) *Refusal {
	clean, why := Clean(title)
	switch {
	case why != "":
	case clean == "":
		why = "the root"
	case clean != title:
		why = "not a canonical name"
	default:
		return nil
	}
	return &Refusal{Name: title, Kind: UnsafeName, Reason: "not a safe layer title: " + why}
}

// IsSparse reports a GNU sparse tar entry, in the old GNU form or the PAX
// form (GNU.sparse.* records): archive/tar expands its holes on reading,
// so a few bytes can declare a file of any size.
func IsSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
