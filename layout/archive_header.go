package layout

// The raw tar header fields the archive reader checks itself: PAX and GNU
// extension records, block padding and numeric fields (archive.go judges
// the members they describe).

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/ocibundle/ocibundle/layer"
)

func headerOnly(flag byte) bool {
	switch flag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		return true
	}
	return false
}

func blockPadding(n int64) int64 { return -n & (blockSize - 1) }

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// extInfo is what the raw headers read for one member say.
type extInfo struct {
	gnuLong bool  // a GNU long-name or long-link record
	pax     int64 // bytes of PAX extended records
}

type rawHeader struct {
	typeflag byte
	size     int64
	name     string // the USTAR name (prefix/name), as a reader ignoring PAX sees it
}

// extensions walks the raw header blocks tar.Reader read for the member it
// just returned (after the previous member's padding): extension headers
// ('x', 'g', 'L', 'K') with their data, then the member's own header, which
// it returns. archive/tar applies GNU long names without saying so; this is
// how they are seen.
func (a *ArchiveReader) extensions() (extInfo, rawHeader, error) {
	var info extInfo
	b := a.capture
	if a.overflow {
		return info, rawHeader{}, fmt.Errorf("%w: extension headers of more than %d bytes", ErrTooLarge, MaxPAXHeader)
	}
	if int64(len(b)) < a.lead+a.pad {
		return info, rawHeader{}, fmt.Errorf("%w: the archive reads inconsistently", ErrBadArchive)
	}
	b = b[a.lead+a.pad:]
	for len(b) >= blockSize {
		h := rawHeader{typeflag: b[156], size: parseNumeric(b[124:136]), name: cString(b[0:100])}
		if string(b[257:263]) == "ustar\x00" {
			if prefix := cString(b[345:500]); prefix != "" {
				h.name = prefix + "/" + h.name
			}
		}
		b = b[blockSize:]
		switch h.typeflag {
		case tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			if h.typeflag == tar.TypeXHeader {
				info.pax += h.size
			} else {
				info.gnuLong = true
			}
			skip := h.size + blockPadding(h.size)
			if skip < 0 || skip > int64(len(b)) {
				return info, h, fmt.Errorf("%w: the archive reads inconsistently", ErrBadArchive)
			}
			b = b[skip:]
		default:
			return info, h, nil
		}
	}
	return info, rawHeader{}, fmt.Errorf("%w: the archive reads inconsistently", ErrBadArchive)
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parseNumeric reads a tar numeric field: octal, or base-256 when the high
// bit of the first byte is set. archive/tar has accepted the header already.
func parseNumeric(b []byte) int64 {
	if len(b) > 0 && b[0]&0x80 != 0 {
		var n int64
		for i, c := range b {
			if i == 0 {
				c &= 0x7f
			}
			n = n<<8 | int64(c)
		}
		return n
	}
	s := strings.Trim(string(b), " \x00")
	n, _ := strconv.ParseInt(s, 8, 64)
	return n
}

// quoteName quotes a member name for messages when it has characters that
// would confuse a one-line message.
func quoteName(name string) string {
	q := strconv.Quote(name)
	if q[1:len(q)-1] == name && !strings.ContainsAny(name, " :") && name != "" {
		return name
	}
	return q
}

// captureWriter receives every byte the archive reader reads and keeps
// them, while capturing, up to a cap, for ArchiveReader.extensions.
type captureWriter struct{ a *ArchiveReader }

// captureCap bounds what one Next may read besides data: the previous
// member's padding, extension headers of MaxPAXHeader bytes with their
// headers, and the member's own header.
const captureCap = MaxPAXHeader + 8*blockSize

func (c captureWriter) Write(p []byte) (int, error) {
	a := c.a
	if a.capturing {
		if room := captureCap - len(a.capture); len(p) > room {
			a.capture = append(a.capture, p[:room]...)
			a.overflow = true
		} else {
			a.capture = append(a.capture, p...)
		}
	}
	return len(p), nil
}

// paxBlobName reports whether a PAX path record naming path is one a writer
// had to use: path is under blobs/, a plain USTAR header cannot hold it
// (a name of at most 100 bytes, or split at a slash into a prefix of at
// most 155 and a name of at most 100), and the header's own name is a
// truncation of it (what archive/tar and GNU tar write there).
func paxBlobName(path, header string) bool {
	return strings.HasPrefix(strings.TrimPrefix(path, "./"), BlobsDir+"/") &&
		!ustarFits(path) && len(header) < len(path) && strings.HasPrefix(path, header)
}

// ustarFits reports whether a USTAR header can hold name.
func ustarFits(name string) bool {
	if len(name) <= 100 {
		return true
	}
	for i := 1; i < len(name) && i <= 155; i++ {
		if rest := len(name) - i - 1; name[i] == '/' && rest > 0 && rest <= 100 {
			return true
		}
	}
	return false
}

// MemberError is the error of a refused member, for a caller that reports
// refusals itself (verify, which names the member in its own way). Its
// text is "NAME: SENTINEL: REASON"; it wraps ErrUnsafeArchive or
// ErrTooLarge and, for a kind of refusal that has one, ErrMemberType,
// ErrDuplicateMember or ErrBlobName.
type MemberError struct {
	Name   string // the member's name as stored
	Reason string // why it is refused
	errs   []error
}

func (e *MemberError) Error() string {
	return quoteName(e.Name) + ": " + e.errs[0].Error() + ": " + e.Reason
}

func (e *MemberError) Unwrap() []error { return e.errs }

// refusal returns the MemberError of the member name, wrapping base and
// kind (when not nil).
func refusal(name string, base, kind error, format string, args ...any) error {
	e := &MemberError{Name: name, Reason: fmt.Sprintf(format, args...), errs: []error{base}}
	if kind != nil {
		e.errs = append(e.errs, kind)
	}
	return e
}

// canonicalName takes a member name through the layer name rule and
// returns it ("." for the root), or why it is refused.
func canonicalName(name string) (string, string) {
	p, why := layer.Clean(name)
	if why == "" && p == "" {
		p = "."
	}
	return p, why
}

func knownAlgorithm(s string) bool {
	for _, alg := range Algorithms {
		if alg.String() == s {
			return true
		}
	}
	return false
}
