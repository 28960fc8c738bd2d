//go:build linux

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a new pseudo-terminal and returns its controller and its
// terminal side.
func openPTY(t *testing.T) (ptmx, pts *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pts: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptmx, pts
}

// TestStdinTerminalRefused: where - means "read an archive from standard
// input", a terminal there is a usage error (issue 11: verify - and
// extract - read keystrokes as archive data), and extract -o - is a usage
// error, never a directory named -.
func TestStdinTerminalRefused(t *testing.T) {
	work := t.TempDir()
	_, pts := openPTY(t)
	for _, args := range [][]string{
		{"verify", "-"},
		{"import", "-o", filepath.Join(work, "S"), "-"},
		{"extract", "-o", filepath.Join(work, "D"), "-"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Stdin = work, pts
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			t.Errorf("ocibundle %s with a terminal on stdin: still reading it after 10 s", strings.Join(args, " "))
			continue
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 2 || !strings.Contains(stderr.String(), "terminal") {
			t.Errorf("ocibundle %s with a terminal on stdin: exit %d, stderr %q; want 2 and a line naming the terminal", strings.Join(args, " "), code, stderr.String())
		}
	}
	lay := cliBundle(t, work)
	r := run(t, work, nil, "extract", "-o", "-", lay+":v1")
	if r.code != 2 {
		t.Errorf("extract -o -: exit %d, want 2", r.code)
	}
	if _, err := os.Lstat(filepath.Join(work, "-")); err == nil {
		t.Errorf("extract -o - made a directory named -")
	}
}
