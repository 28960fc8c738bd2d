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

// Sentinel errors of export and import.
var (
	// ErrTagConflict: an imported tag already names a different manifest in
	// the layout (import --force moves it).
	ErrTagConflict = errors.New("tag conflict")
	// ErrBadPart: a part of a split archive does not match its checksum list.
	ErrBadPart = errors.New("damaged part")
)
