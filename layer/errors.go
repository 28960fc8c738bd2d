package layer

import "errors"

// ErrUnsafe: an entry the layer rules refuse. Every *Refusal wraps it;
// callers branch with errors.Is and read the reason kind with errors.As.
var ErrUnsafe = errors.New("unsafe entry")

// ErrTooLarge: a layer decompresses to more bytes than its declared
// uncompressed size or, without one, the cap (ContentLimit).
var ErrTooLarge = errors.New("layer too large")
