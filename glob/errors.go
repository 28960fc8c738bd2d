package glob

import "errors"

// ErrBadPattern is a pattern that cannot be parsed: empty, an unclosed `[`
// or `{`, a trailing `\`. Errors wrap it with the pattern.
var ErrBadPattern = errors.New("bad pattern")
