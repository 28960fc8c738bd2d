package glob

import "errors"

// ErrBadPattern: a pattern is empty, is not a valid glob (an unclosed "["
// or "{", a trailing "\"), or climbs out of the root (".."). Errors wrap it
// and quote the pattern.
var ErrBadPattern = errors.New("invalid pattern")
