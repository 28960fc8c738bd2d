package bundle

import (
	"errors"

	"github.com/ocibundle/ocibundle/layer"
)

var (
	// ErrBadInput: an input the user named cannot be packed as asked (a
	// missing or unreadable path, a FIFO, socket or device, a whiteout name,
	// two inputs with the same base name, a malformed annotation). The
	// layout's index.json is left untouched.
	ErrBadInput = errors.New("bad input")
	// ErrAmbiguous: a reference names a layout with several bundles where
	// one bundle is needed, or an index with several manifests for the
	// platform asked for.
	ErrAmbiguous = errors.New("ambiguous reference")
	// ErrBadPlatform: a platform that is not os/arch[/variant].
	ErrBadPlatform = errors.New("bad platform")
	// ErrNoPlatform: an index has no manifest for the platform asked for
	// (or this machine's).
	ErrNoPlatform = errors.New("no image for the platform")
)

var (
	// ErrUnsafe: extract refuses an entry or layer that could write outside
	// the output directory or that it will not create (an absolute or ".."
	// name, a link out of the tree, a device node, a duplicate entry, …).
	// The output directory is left as it was.
	// It is the layer rules' sentinel: every layer.Refusal wraps it.
	ErrUnsafe = layer.ErrUnsafe
	// ErrUnsupported: extract does not handle a layer or manifest of this
	// kind (skip layers with --skip-unknown).
	ErrUnsupported = errors.New("unsupported content")
	// ErrTargetNotEmpty: the output directory of extract is not empty (and
	// --overwrite is not given), or, with --overwrite, holds a directory
	// where the bundle has a file.
	ErrTargetNotEmpty = errors.New("output directory not empty")
	// ErrNotDirectory: the output directory of extract names a file (or
	// anything else that is not a directory).
	ErrNotDirectory = errors.New("not a directory")
	// ErrCorrupt: a layer's compressed stream or tar cannot be read (a zstd
	// window above the cap, a bad checksum, a truncated stream, a malformed
	// header).
	ErrCorrupt = errors.New("corrupt layer")
	// ErrNoMatch: an extract PATTERN selects no entry of the bundle.
	// Nothing is written.
	ErrNoMatch = errors.New("pattern matches nothing")
	// ErrDiffer: diff found the two bundles different (exit 1, as
	// diff(1)); the differences are its result, not this error.
	ErrDiffer = errors.New("bundles differ")
)

// Sentinel errors of export and import.
var (
	// ErrBadPart: a part of a split archive does not match its checksum list.
	ErrBadPart = errors.New("damaged part")
)

// Sentinel errors of push and pull.
var (
	// ErrUnauthorized: the registry refused the credentials, or gave none
	// access (HTTP 401 or 403).
	ErrUnauthorized = errors.New("registry refused access")
	// ErrNotInRegistry: the registry has no such repository, tag or
	// manifest (HTTP 404).
	ErrNotInRegistry = errors.New("not found in the registry")
)

// ReferrersError is a failure to find the referrers of a graph (index.json's
// or a registry's), met by export, push, pull and inspect. It unwraps to the
// cause, which decides the exit class; commands that can leave referrers out
// name the way in their message.
type ReferrersError struct {
	Where string // "index.json" or "the registry"
	Err   error
}

func (e *ReferrersError) Error() string {
	return "looking for referrers in " + e.Where + ": " + e.Err.Error()
}

func (e *ReferrersError) Unwrap() error { return e.Err }

// Sentinel errors of delta archives (export --since).
var (
	// ErrDeltaBase: a delta archive (profile.AnnotationDeltaBase) is read
	// where the blobs it leaves out are not all there and sound: missing
	// from the layout it is imported into, of another size, or not hashing
	// to their digests. Nothing is merged.
	ErrDeltaBase = errors.New("blobs of the delta's base missing or damaged")
)
