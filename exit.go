package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/glob"
	"github.com/ocibundle/ocibundle/inventory"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/signature"
	"github.com/ocibundle/ocibundle/units"
	"github.com/ocibundle/ocibundle/verify"
)

// exitClass is a kind of outcome and the exit code that reports it (README
// "Exit codes"; docs/json.md names the classes in JSON errors).
type exitClass struct {
	Name string
	Code int
}

var (
	classOK          = exitClass{"ok", 0}
	classContent     = exitClass{"content", 1}     // the content is bad
	classUsage       = exitClass{"usage", 2}       // the command line cannot be run as given
	classOperational = exitClass{"operational", 3} // I/O, permission, disk full, network, lock, missing path
	classInterrupted = exitClass{"interrupted", 130}
)

// exitTable classifies every exported sentinel of every package (exit_test.go
// fails when one is missing). An error is classified by the first class, in
// this order, one of whose sentinels it wraps; an error wrapping none is
// operational.
var exitTable = []struct {
	class     exitClass
	sentinels []error
}{
	{classInterrupted, []error{context.Canceled, compress.ErrAborted}},
	// The system said no: these win over a sentinel that wraps them (a
	// PATH to pack that is missing or unreadable is not a usage error).
	{classOperational, []error{fs.ErrNotExist, fs.ErrPermission, syscall.ENOSPC}},
	{classUsage, []error{
		errUsage,
		layout.ErrBadReference, layout.ErrBadTag,
		bundle.ErrAmbiguous, bundle.ErrTargetNotEmpty, bundle.ErrNotDirectory, bundle.ErrBadPlatform,
		verify.ErrBadTarget, verify.ErrBadOption,
		compress.ErrUnknownCodec, compress.ErrUnknownLevel,
		units.ErrBadSize,
		glob.ErrBadPattern,        // a malformed glob (pack --exclude, extract PATTERN)
		signature.ErrBadTrust,     // a trust policy, store, key, root or certificate file that cannot be used
		inventory.ErrBadInventory, // export --since FILE: not an inventory
		layout.ErrArchiveOrder, layout.ErrReadOnly,
	}},
	{classContent, []error{
		verify.ErrFailed,
		bundle.ErrBadInput, // the input tree holds what a layer cannot carry
		layout.ErrNotLayout, layout.ErrBadDigest, layout.ErrDigestMismatch, layout.ErrSizeMismatch,
		layout.ErrBlobNotFound, layout.ErrNotRegular, layout.ErrBadJSON, layout.ErrDuplicateKey,
		layout.ErrTooLarge, layout.ErrBadDocument, layout.ErrNotReferrer,
		layout.ErrUnsafeArchive, layout.ErrBadArchive, layout.ErrMemberType,
		layout.ErrDuplicateMember, layout.ErrBlobName,
		layer.ErrUnsafe, bundle.ErrUnsafe, // one sentinel: bundle.ErrUnsafe is layer.ErrUnsafe
		layer.ErrTooLarge,
		signature.ErrInvalid, signature.ErrUntrusted, signature.ErrExpired,
		signature.ErrIdentity, signature.ErrMalformed, signature.ErrMissing,
		layer.ErrUnportable, layer.ErrTargetNotSelected, // a name extract on Windows or macOS cannot write
		bundle.ErrUnsupported, bundle.ErrCorrupt, bundle.ErrNoPlatform,
		layout.ErrTagConflict, layout.ErrDuplicateTag, bundle.ErrBadPart, bundle.ErrNoMatch,
		compress.ErrUnknownMediaType,
		bundle.ErrDeltaBase, // a delta's left-out blobs are not all in the layout, sound
		bundle.ErrDiffer,    // diff: 1 when the bundles differ, as diff(1)
	}},
	{classOperational, []error{
		layout.ErrTagNotFound, bundle.ErrNotInRegistry, bundle.ErrUnauthorized,
	}},
}

// errUsage marks a command line that cannot be run as given.
var errUsage = errors.New("usage")

// markedError is err that also matches mark under errors.Is, without mark's
// text in its message (no "usage: " prefix).
type markedError struct{ err, mark error }

func (e markedError) Error() string        { return e.err.Error() }
func (e markedError) Unwrap() error        { return e.err }
func (e markedError) Is(target error) bool { return target == e.mark }

// usagef formats a usage error; %w in format wraps as fmt.Errorf does.
func usagef(format string, args ...any) error {
	return markedError{fmt.Errorf(format, args...), errUsage}
}

// classify returns the class of err (classOK for nil).
func classify(err error) exitClass {
	if err == nil {
		return classOK
	}
	for _, row := range exitTable {
		for _, s := range row.sentinels {
			if errors.Is(err, s) {
				return row.class
			}
		}
	}
	return classOperational
}

// exitCode maps an error to the exit code: the one place that knows it.
func exitCode(err error) int {
	return classify(err).Code
}
