package main

import (
	"errors"
	"fmt"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/verify"
)

// Exit codes (README "Exit codes").
const (
	exitOK          = 0
	exitContent     = 1
	exitUsage       = 2
	exitOperational = 3
)

// errUsage marks a command line that cannot be run as given.
var errUsage = errors.New("usage")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// exitCode maps an error to the exit code: the one place that knows it.
func exitCode(err error) int {
	content := []error{
		bundle.ErrBadInput, verify.ErrFailed,
		layout.ErrNotLayout, layout.ErrBadDigest, layout.ErrDigestMismatch, layout.ErrSizeMismatch,
		layout.ErrBlobNotFound, layout.ErrNotRegular, layout.ErrBadTag, layout.ErrTagNotFound,
		layout.ErrBadJSON, layout.ErrTooLarge, layout.ErrBadDocument,
		bundle.ErrUnsafe, bundle.ErrUnsupported, bundle.ErrCorrupt,
		layout.ErrUnsafeArchive, layout.ErrBadArchive, layout.ErrTagConflict, bundle.ErrBadPart,
		bundle.ErrUnauthorized, bundle.ErrNotInRegistry,
	}
	usage := []error{errUsage, layout.ErrBadReference, bundle.ErrAmbiguous, bundle.ErrTargetNotEmpty,
		verify.ErrBadTarget, verify.ErrBadOption,
		compress.ErrUnknownCodec, compress.ErrUnknownLevel}
	switch {
	case err == nil:
		return exitOK
	case isAny(err, usage):
		return exitUsage
	case isAny(err, content):
		return exitContent
	}
	return exitOperational
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
