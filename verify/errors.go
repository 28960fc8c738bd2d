package verify

import "errors"

// Sentinel errors. Content problems are never returned as errors by Verify:
// they are findings in the Report, and Report.Err wraps ErrFailed.
var (
	// ErrFailed: the report has at least one error finding.
	ErrFailed = errors.New("verification failed")
	// ErrBadTarget: the target string is not a layout, LAYOUT:TAG,
	// LAYOUT@DIGEST, an archive or "-" (a usage error).
	ErrBadTarget = errors.New("invalid target")
	// ErrBadOption: an option value cannot be used, such as a --digest that
	// is not a digest (a usage error).
	ErrBadOption = errors.New("invalid option")
)
