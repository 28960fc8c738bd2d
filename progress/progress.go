package progress

import "reflect"

// Progress receives the byte counts of a long operation. Implementations
// must be safe for concurrent use: a workflow calls Start once with the
// total in bytes (-1 when unknown), then Add from any goroutine with the
// bytes just moved, then Finish once.
//
// A nil Progress means "show nothing"; a workflow passes what it is handed
// through Or before calling it. A nil pointer stored in the interface (the
// typed-nil trap) counts as nil too.
type Progress interface {
	Start(label string, total int64)
	Add(n int64)
	Finish()
}

// Nop is a Progress that shows nothing.
type Nop struct{}

func (Nop) Start(string, int64) {}
func (Nop) Add(int64)           {}
func (Nop) Finish()             {}

// Or returns p, or Nop when p is nil or holds a nil pointer, so that
// callers need no nil checks.
func Or(p Progress) Progress {
	if p == nil {
		return Nop{}
	}
	if v := reflect.ValueOf(p); v.Kind() == reflect.Pointer && v.IsNil() {
		return Nop{}
	}
	return p
}
