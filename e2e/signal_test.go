//go:build linux

package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Signals (issue 11): SIGINT and SIGTERM stop every command within 1 s, also
// while it waits for a lock; exit 130; the layout stays valid, no temp file
// is left in it, no partial output remains.

// stopWithin is the promise: from the signal to the exit.
const stopWithin = time.Second

// lockedBuffer is a bytes.Buffer safe for the command's writes and the
// test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// started is a running ocibundle.
type started struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
}

// start runs ocibundle with args in dir without waiting for it.
func start(t *testing.T, dir string, stdin io.Reader, stdout io.Writer, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(bin, args...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd.Dir = dir
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = stdin, stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// waitFor polls cond every 5 ms until it holds, failing the test after
// limit (or if the command exits first).
func (s *started) waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case <-s.done:
			t.Fatalf("ocibundle exited (%v) before %s\nstderr: %s", s.cmd.ProcessState, what, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v\nstderr: %s", what, limit, s.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// signal sends sig and returns the exit code and the time the command took
// to exit after it.
func (s *started) signal(t *testing.T, sig syscall.Signal) (int, time.Duration) {
	t.Helper()
	at := time.Now()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("ocibundle did not exit 30 s after %v\nstderr: %s", sig, s.stderr.String())
	}
	return s.cmd.ProcessState.ExitCode(), time.Since(at)
}

// checkInterrupted fails unless the command exited 130 within stopWithin.
func checkInterrupted(t *testing.T, what string, code int, took time.Duration, stderr string) {
	t.Helper()
	if code != 130 {
		t.Errorf("%s: exit %d, want 130\nstderr: %s", what, code, stderr)
	}
	if took > stopWithin {
		t.Errorf("%s: exited %v after the signal, want within %v", what, took, stopWithin)
	}
}

// checkLayoutAfterSignal: the layout verifies and ingest/ holds no temp file.
func checkLayoutAfterSignal(t *testing.T, work, lay string) {
	t.Helper()
	mustRun(t, work, nil, "verify", lay)
	entries, err := os.ReadDir(filepath.Join(lay, "ingest"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s/ingest/%s left behind", lay, e.Name())
	}
}

// randomFile writes n random bytes (incompressible, so -c none packs fast).
func randomFile(t *testing.T, path string, n int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSignalDuringLockWait: a command waiting for the layout lock says so
// after 1 s and stops at SIGINT or SIGTERM (issue 11: it ignored them until
// the lock was freed).
func TestSignalDuringLockWait(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			work := t.TempDir()
			lay := cliBundle(t, work)
			// Hold the blob lock exclusive, as a running gc does.
			f, err := os.Open(filepath.Join(lay, "oci-layout"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(work, "g.txt"), []byte("more\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			s := start(t, work, nil, io.Discard, "pack", "-o", lay, "-t", "v2", "g.txt")
			want := "waiting for lock on " + lay
			s.waitFor(t, "message "+want, 10*time.Second, func() bool { return strings.Contains(s.stderr.String(), want) })
			code, took := s.signal(t, sig)
			checkInterrupted(t, "pack waiting for the lock", code, took, s.stderr.String())
			f.Close() // frees the lock
			checkLayoutAfterSignal(t, work, lay)
			if r := run(t, work, nil, "inspect", lay+":v2"); r.code == 0 {
				t.Errorf("the interrupted pack tagged v2")
			}
		})
	}
}

// TestSignalDuringPack: SIGINT stops a pack that is compressing (issue 11:
// it kept compressing 7-12 s).
func TestSignalDuringPack(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)
	if err := os.WriteFile(filepath.Join(work, "big.txt"), bigText(64<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, work, nil, io.Discard, "pack", "-l", "best", "-o", lay, "-t", "big", "big.txt")
	s.waitFor(t, "layer bytes in ingest/", 20*time.Second, func() bool {
		entries, _ := os.ReadDir(filepath.Join(lay, "ingest"))
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && fi.Size() > 0 {
				return true
			}
		}
		return false
	})
	code, took := s.signal(t, syscall.SIGINT)
	checkInterrupted(t, "pack", code, took, s.stderr.String())
	checkLayoutAfterSignal(t, work, lay)
	if r := run(t, work, nil, "inspect", lay+":big"); r.code == 0 {
		t.Errorf("the interrupted pack tagged big")
	}
}

// TestSignalDuringExport: SIGINT stops an export to a file, which leaves no
// archive, part or temp file (issue 11: export ignored it and wrote the
// whole archive, exit 0), and an export to standard output.
func TestSignalDuringExport(t *testing.T) {
	work := t.TempDir()
	randomFile(t, filepath.Join(work, "big.bin"), 128<<20)
	lay := filepath.Join(work, "L")
	mustRun(t, work, nil, "pack", "-c", "none", "-o", lay, "-t", "v1", "big.bin")
	before, err := os.ReadDir(work)
	if err != nil {
		t.Fatal(err)
	}

	for _, split := range []bool{false, true} {
		args := []string{"export", "-o", "x.tar", lay + ":v1"}
		if split {
			args = append(args, "--split", "8M")
		}
		s := start(t, work, nil, io.Discard, args...)
		s.waitFor(t, "archive bytes on disk", 20*time.Second, func() bool {
			entries, _ := os.ReadDir(work)
			for _, e := range entries {
				if fi, err := e.Info(); err == nil && strings.Contains(e.Name(), "x.tar") && fi.Size() > 1<<20 {
					return true
				}
			}
			return false
		})
		code, took := s.signal(t, syscall.SIGINT)
		checkInterrupted(t, strings.Join(args, " "), code, took, s.stderr.String())
		after, err := os.ReadDir(work)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			var names []string
			for _, e := range after {
				names = append(names, e.Name())
			}
			t.Errorf("%s: the directory holds %v after the signal, want only what it held before", strings.Join(args, " "), names)
		}
		for _, e := range after { // so that the next run starts clean
			if strings.Contains(e.Name(), "x.tar") {
				os.Remove(filepath.Join(work, e.Name()))
			}
		}
	}
	checkLayoutAfterSignal(t, work, lay)

	// To standard output: the reader takes 1 MiB, the signal comes, the
	// reader drains the rest; the archive must end short of its size.
	pr, pw := io.Pipe()
	s := start(t, work, nil, pw, "export", "-o", "-", lay+":v1")
	if _, err := io.CopyN(io.Discard, pr, 1<<20); err != nil {
		t.Fatal(err)
	}
	got := make(chan int64)
	go func() { n, _ := io.Copy(io.Discard, pr); got <- n }()
	code, took := s.signal(t, syscall.SIGINT)
	pw.Close()
	checkInterrupted(t, "export -o -", code, took, s.stderr.String())
	if n := <-got + 1<<20; n >= 128<<20 {
		t.Errorf("export -o - wrote %d bytes, the whole archive, despite the signal", n)
	}
}

// TestSignalDuringStalledInput: an import whose standard input stops
// sending (a read that no context can interrupt) still exits 130 within 1 s
// of SIGINT, and the layout stays valid.
func TestSignalDuringStalledInput(t *testing.T) {
	work := t.TempDir()
	randomFile(t, filepath.Join(work, "big.bin"), 4<<20)
	lay := filepath.Join(work, "L")
	mustRun(t, work, nil, "pack", "-c", "none", "-o", lay, "-t", "v1", "big.bin")
	archive := []byte(mustRun(t, work, nil, "export", "-o", "-", lay+":v1"))
	// An OS pipe, so that the child's standard input is the pipe itself
	// (exec.Cmd.Wait would wait for a copier of any other reader).
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	dst := filepath.Join(work, "M")
	s := start(t, work, pr, io.Discard, "import", "-o", dst, "-")
	pr.Close() // the child has its copy
	// Half the archive, then nothing: once the import has read all of it
	// (its rchar in /proc), it is blocked in a read of standard input.
	half := len(archive) / 2
	go pw.Write(archive[:half])
	s.waitFor(t, "the import reading half the archive", 20*time.Second, func() bool {
		io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", s.cmd.Process.Pid))
		var rchar int
		for _, line := range strings.Split(string(io), "\n") {
			if v, ok := strings.CutPrefix(line, "rchar: "); ok {
				rchar, _ = strconv.Atoi(v)
			}
		}
		return err == nil && rchar >= half
	})
	code, took := s.signal(t, syscall.SIGINT)
	checkInterrupted(t, "import - with a stalled input", code, took, s.stderr.String())
	mustRun(t, work, nil, "verify", dst)
}
