package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxDocumentSize caps every JSON document read from a layout or archive
// (index.json, manifests, indexes, configs that are parsed).
const MaxDocumentSize = 4 << 20

// ReadCapped reads all of r, refusing more than limit bytes with ErrTooLarge.
func ReadCapped(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return data, nil
}

// CheckStrictJSON reports, with ErrBadJSON, a document that different JSON
// parsers could read differently: invalid UTF-8, an object with a duplicate
// key or with keys that differ only in case (Go's decoder silently takes the
// last duplicate and matches field names case-insensitively), or anything
// after the first value.
func CheckStrictJSON(data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: not valid UTF-8", ErrBadJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkValue(dec, "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after the document", ErrBadJSON)
	}
	return nil
}

// maxDepth bounds nesting, so a hostile document cannot exhaust the stack.
const maxDepth = 1000

// checkValue consumes one JSON value from dec; ptr is its JSON pointer.
func checkValue(dec *json.Decoder, ptr string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d at %s", ErrBadJSON, maxDepth, pointer(ptr))
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %s", ErrBadJSON, syntaxMessage(err))
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '{':
		seen := make(map[string]string)
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%w: %s", ErrBadJSON, syntaxMessage(err))
			}
			key := tok.(string)
			// Fold the way case-insensitive matchers do, including the
			// Kelvin sign and long s, which fold to ASCII letters.
			folded := strings.ToLower(strings.ToUpper(key))
			if prev, dup := seen[folded]; dup {
				if prev == key {
					return fmt.Errorf("%w: %w %q at %s", ErrBadJSON, ErrDuplicateKey, key, pointer(ptr))
				}
				return fmt.Errorf("%w: %w: %q and %q differ only in case at %s", ErrBadJSON, ErrDuplicateKey, prev, key, pointer(ptr))
			}
			seen[folded] = key
			if err := checkValue(dec, ptr+"/"+escapePointer(key), depth+1); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := checkValue(dec, fmt.Sprintf("%s/%d", ptr, i), depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return fmt.Errorf("%w: %s", ErrBadJSON, syntaxMessage(err))
	}
	return nil
}

func syntaxMessage(err error) string {
	if errors.Is(err, io.EOF) {
		return "unexpected end of document"
	}
	return err.Error()
}

func pointer(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// DecodeStrict checks data with CheckStrictJSON and then decodes it into v.
func DecodeStrict(data []byte, v any) error {
	if err := CheckStrictJSON(data); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadJSON, err)
	}
	return nil
}
