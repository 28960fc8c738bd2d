package layer

import "errors"

// ErrUnsafe: an entry the layer rules refuse. Every *Refusal wraps it;
// callers branch with errors.Is and read the reason kind with errors.As.
var ErrUnsafe = errors.New("unsafe entry")
