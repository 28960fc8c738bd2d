package progress_test

import (
	"testing"

	"github.com/ocibundle/ocibundle/progress"
)

type counter struct{ n int64 }

func (*counter) Start(string, int64) {}
func (c *counter) Add(n int64)       { c.n += n }
func (*counter) Finish()             {}

func TestOr(t *testing.T) {
	if got := progress.Or(nil); got != (progress.Nop{}) {
		t.Errorf("Or(nil) = %#v, want Nop", got)
	}
	c := &counter{}
	got := progress.Or(c)
	got.Start("x", 10)
	got.Add(7)
	got.Finish()
	if got != progress.Progress(c) || c.n != 7 {
		t.Errorf("Or(p) = %#v (counted %d), want p itself (7)", got, c.n)
	}
}

// TestOrTypedNil: a nil pointer stored in the interface (the typed-nil
// trap) is no sink: Or gives Nop, whose methods are safe to call.
func TestOrTypedNil(t *testing.T) {
	var c *counter
	var p progress.Progress = c
	got := progress.Or(p)
	if got != (progress.Nop{}) {
		t.Errorf("Or((*counter)(nil)) = %#v, want Nop", got)
	}
	got.Start("x", 1)
	got.Add(1)
	got.Finish()
}
