package verify

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/layout"
)

// mediaTypePattern is RFC 6838's restricted-name "/" restricted-name, as
// image-spec descriptors require (no parameters).
var mediaTypePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`)

// digestPattern is image-spec's digest grammar. A digest that matches it but
// fails layout.ValidateDigest is either malformed for a known algorithm or
// uses an algorithm this tool cannot check.
var digestPattern = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

// maxSize is the largest size a descriptor may state: 2^53, the largest
// integer every JSON implementation reads exactly.
const maxSize = 1 << 53

// knownAnnotations are the org.opencontainers.image.* keys image-spec
// v1.1.1 defines (annotations.md, and conversion.md for the config ones).
var knownAnnotations = map[string]bool{}

func init() {
	for _, k := range []string{
		"created", "authors", "url", "documentation", "source", "version", "revision",
		"vendor", "licenses", "ref.name", "title", "description", "base.digest", "base.name",
		"exposedPorts", "os", "architecture", "variant", "os.version", "os.features", "stopSignal",
	} {
		knownAnnotations["org.opencontainers.image."+k] = true
	}
}

// asString reads a JSON string value; ok is false for any other JSON type.
func asString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// asObject reads a JSON object; ok is false for null and any other type.
func asObject(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	return m, true
}

// asArray reads a JSON array; ok is false for null and any other type.
func asArray(raw json.RawMessage) ([]json.RawMessage, bool) {
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, false
	}
	return a, true
}

// asSize reads a descriptor size: a JSON integer without fraction or
// exponent, from 0 to maxSize.
func asSize(raw json.RawMessage) (int64, string) {
	s := string(raw)
	if s == "" || strings.ContainsAny(s, ".eE") || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, "size is not an integer"
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return 0, "size is not an integer below 2^63"
	case n < 0:
		return 0, "size is negative"
	case n > maxSize:
		return 0, "size is above 2^53"
	}
	return n, ""
}

// digestProblem classifies a digest string: "" when usable, otherwise the
// code and message of the finding.
func digestProblem(s string) (Code, string) {
	if !digestPattern.MatchString(s) {
		return BadDigest, strconv.Quote(s) + " is not a digest"
	}
	d := digest.Digest(s)
	if err := layout.ValidateDigest(d); err == nil {
		return "", ""
	}
	if slices.Contains(layout.Algorithms, d.Algorithm()) {
		return BadDigest, strconv.Quote(s) + ": " + d.Algorithm().String() + " needs " +
			strconv.Itoa(d.Algorithm().Size()*2) + " lowercase hex digits"
	}
	return UnknownAlgorithm, strconv.Quote(s) + ": algorithm " + strconv.Quote(d.Algorithm().String()) + " cannot be checked"
}

// decodeData decodes a descriptor's data field: padded standard base64, no
// line breaks (Go's decoder would skip them).
func decodeData(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// isURI reports whether s is an absolute URI.
func isURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "" || u.Path != "")
}
