// TEMPORARY API skeleton so the tree compiles; being replaced by the real verifier.
package verify

import (
	"context"
	"errors"
	"io"
)

var ErrFailed = errors.New("verification failed")

type Progress interface {
	Start(label string, total int64)
	Add(n int64)
	Finish()
}

type Options struct {
	Strict, AllowMissing, Deep bool
	Digest                     string
	Progress                   Progress
}

type Report struct{}

func Verify(ctx context.Context, target string, opts Options) (*Report, error) {
	return nil, errors.New("not implemented")
}
func (r *Report) Err() error                  { return nil }
func (r *Report) WriteText(w io.Writer) error { return nil }
func (r *Report) WriteJSON(w io.Writer) error { return nil }
