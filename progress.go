package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ocibundle/ocibundle/progress"
)

// barProgress shows a progress bar by bytes on stderr.
type barProgress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

// newProgress returns the progress sink for c: a bar on stderr when asked
// (--progress always) or when stderr is a terminal (auto), and otherwise a
// nil interface (never a nil *barProgress in one: the workflows would take
// it for a working sink), which the workflows replace with progress.Nop.
func newProgress(c *cli.Context) (progress.Progress, error) {
	mode := c.String("progress")
	if err := parseProgressMode(mode); err != nil {
		return nil, usagef("--progress %w", err)
	}
	show := mode == "always" || (mode == "auto" && term.IsTerminal(int(os.Stderr.Fd())))
	if c.Bool("quiet") || !show {
		return nil, nil
	}
	return &barProgress{}, nil
}

// progressModes are the values of --progress.
var progressModes = []string{"auto", "always", "never"}

// parseProgressMode accepts the values of --progress.
func parseProgressMode(s string) error {
	if slices.Contains(progressModes, s) {
		return nil
	}
	return fmt.Errorf("%q: want auto, always or never", s)
}

func (p *barProgress) Start(label string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(io.Writer(os.Stderr)),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowBytes(true),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Add64(n)
	}
}

func (p *barProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
