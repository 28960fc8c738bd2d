package bundle

import "errors"

var (
	// ErrBadInput: an input the user named cannot be packed as asked (a
	// missing or unreadable path, a FIFO, socket or device, a whiteout name,
	// two inputs with the same base name, a malformed annotation). The
	// layout's index.json is left untouched.
	ErrBadInput = errors.New("bad input")
	// ErrAmbiguous: a reference names a layout with several bundles where
	// one bundle is needed.
	ErrAmbiguous = errors.New("ambiguous reference")
)
