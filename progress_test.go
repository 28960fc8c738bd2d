package main

import (
	"flag"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/progress"
)

// TestNewProgressNilInterface: when no bar is shown, main hands the
// workflows a nil interface, not a nil *barProgress stored in one (which
// compares non-nil, so progress.Or would pass it through as a working sink).
func TestNewProgressNilInterface(t *testing.T) {
	for _, tc := range []struct {
		mode  string
		quiet bool
		bar   bool
	}{
		{"never", false, false},
		{"always", true, false},
		{"auto", false, false}, // stderr of a test is not a terminal
		{"always", false, true},
	} {
		set := flag.NewFlagSet("test", flag.ContinueOnError)
		set.String("progress", tc.mode, "")
		set.Bool("quiet", tc.quiet, "")
		c := cli.NewContext(cli.NewApp(), set, nil)
		var got progress.Progress
		got, err := newProgress(c)
		if err != nil {
			t.Fatalf("newProgress(%s, quiet=%v) = %v", tc.mode, tc.quiet, err)
		}
		if tc.bar {
			if _, ok := got.(*barProgress); !ok || got == nil {
				t.Errorf("newProgress(%s, quiet=%v) = %#v, want a *barProgress", tc.mode, tc.quiet, got)
			}
			continue
		}
		if got != nil {
			t.Errorf("newProgress(%s, quiet=%v) = %#v, want a nil interface", tc.mode, tc.quiet, got)
		}
		if p := progress.Or(got); p != (progress.Nop{}) {
			t.Errorf("progress.Or(newProgress(%s, quiet=%v)) = %#v, want progress.Nop", tc.mode, tc.quiet, p)
		}
	}
}
