package layer

import "errors"

// ErrUnsafe: an entry the layer rules refuse. Every *Refusal wraps it;
// callers branch with errors.Is and read the reason kind with errors.As.
var ErrUnsafe = errors.New("unsafe entry")

// ErrTooLarge: a layer decompresses to more bytes than its declared
// uncompressed size or, without one, the cap (ContentLimit).
var ErrTooLarge = errors.New("layer too large")

// ErrUnportable: a name the file system extract writes to cannot hold, or
// holds as the same file as another name of the tree (layer.NameRules).
// Its refusals wrap ErrUnsafe too.
var ErrUnportable = errors.New("name not portable")

// ErrTargetNotSelected: a hard link that ApplyOptions.Select chose names a
// file it did not choose (extract PATTERN...), so there is nothing to link
// to; nothing is written for the link.
var ErrTargetNotSelected = errors.New("hard link target not selected")
