package layout

import (
	"fmt"
	"regexp"
)

// tagPattern is the ref.name grammar of image-spec v1.1.1 (annotations.md):
//
//	ref       ::= component ("/" component)*
//	component ::= alphanum (separator alphanum)*
//	alphanum  ::= [A-Za-z0-9]+
//	separator ::= [-._:@+] | "--"
//
// with one addition: "_" is accepted as a separator, because release tags
// such as "1.0.0_rc1" are valid registry tags and users expect them to work.
var tagPattern = regexp.MustCompile(`^` + component + `(?:/` + component + `)*$`)

const component = `[A-Za-z0-9]+(?:(?:[-._:@+_]|--)[A-Za-z0-9]+)*`

// maxTagLen bounds a tag; registries allow 128 characters for a tag, a
// ref.name may be a longer path.
const maxTagLen = 1024

// ValidateTag reports whether tag may name a manifest in index.json.
func ValidateTag(tag string) error {
	if len(tag) > maxTagLen || !tagPattern.MatchString(tag) {
		return fmt.Errorf("%q: %w", tag, ErrBadTag)
	}
	return nil
}
