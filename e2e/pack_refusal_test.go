//go:build linux

// End-to-end tests of pack's refusals: bad input (named, nothing written),
// an unprivileged user, usage errors.

package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ocibundle/ocibundle/layout"
)

// ---------------------------------------------------------------------------
// 4. Bad input and usage errors

func TestPackBadInput(t *testing.T) {
	t.Parallel()
	// setup builds the bad input below dir and returns the pack arguments
	// after "-o LAYOUT" and the text the error must name.
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) (args []string, names string)
		// notLayout: -o names a non-empty directory that is not a layout.
		notLayout bool
		// unprivileged: run ocibundle as a non-root user.
		unprivileged bool
		// code is the exit code (README "Exit codes"): 1, the input is
		// what a layer cannot carry, unless set (2: a malformed flag value;
		// 3: the system said no).
		code int
	}{
		{name: "missing path", code: 3, setup: func(t *testing.T, dir string) ([]string, string) {
			p := filepath.Join(dir, "does-not-exist")
			return []string{p}, p
		}},
		{name: "FIFO in a directory", setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			writeFile(t, filepath.Join(in, "a.txt"), []byte("a"), 0o644)
			mkdir(t, filepath.Join(in, "sub"), 0o755)
			p := filepath.Join(in, "sub", "pipe")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{in}, p
		}},
		{name: "FIFO as the PATH", setup: func(t *testing.T, dir string) ([]string, string) {
			p := filepath.Join(dir, "pipe")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{p}, p
		}},
		{name: "unix socket", setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			mkdir(t, in, 0o755)
			p := filepath.Join(in, "sock")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return []string{in}, p
		}},
		{name: "character device", setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"/dev/null"}, "/dev/null"
		}},
		{name: "whiteout name", setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			p := filepath.Join(in, "sub", ".wh.foo")
			writeFile(t, p, []byte("x"), 0o644)
			return []string{in}, p
		}},
		{name: "same base name twice", setup: func(t *testing.T, dir string) ([]string, string) {
			a, b := filepath.Join(dir, "a", "x"), filepath.Join(dir, "b", "x")
			writeFile(t, filepath.Join(a, "1.txt"), []byte("1"), 0o644)
			writeFile(t, filepath.Join(b, "2.txt"), []byte("2"), 0o644)
			return []string{a, b}, b
		}},
		{name: "annotation without =", code: 2, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"-a", "novalue", goodInput(t, dir)}, "novalue"
		}},
		{name: "annotation with an empty key", code: 2, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"-a", "=v", goodInput(t, dir)}, `"=v"`
		}},
		{name: "tag -a", code: 2, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"-t", "-a", goodInput(t, dir)}, `"-a"`
		}},
		{name: "tag a..b", code: 2, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"-t", "a..b", goodInput(t, dir)}, "a..b"
		}},
		// As root a chmod 000 file is still readable, so under root both
		// packs of this case run as the unprivileged uid/gid 65534.
		{name: "unreadable file", unprivileged: true, code: 3, setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			p := filepath.Join(in, "locked.txt")
			writeFile(t, p, []byte("secret"), 0o000)
			return []string{in}, p
		}},
		{name: "unreadable directory", unprivileged: true, code: 3, setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			writeFile(t, filepath.Join(in, "a.txt"), []byte("a"), 0o644)
			p := filepath.Join(in, "locked")
			writeFile(t, filepath.Join(p, "b.txt"), []byte("b"), 0o644)
			mkdir(t, p, 0o000)
			t.Cleanup(func() { os.Chmod(p, 0o755) }) // so that t.TempDir can remove it
			return []string{in}, p
		}},
		{name: "non-empty directory that is not a layout", notLayout: true, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{goodInput(t, dir)}, ""
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var ob *ocibundleAs
			if c.unprivileged {
				ob = asUnprivileged(t, dir)
			}
			lay := filepath.Join(dir, "layout")
			if r := ob.run(t, noEpoch, "pack", "-o", lay, "-t", "good", goodInput(t, dir)); r.code != 0 {
				t.Fatalf("pack of the good tag: exit %d\nstderr: %s", r.code, r.stderr)
			}
			indexBefore, err := os.ReadFile(filepath.Join(lay, layout.IndexFile))
			if err != nil {
				t.Fatal(err)
			}
			layoutBefore := snapshot(t, lay)

			args, names := c.setup(t, dir)
			out := lay
			if c.notLayout {
				out = filepath.Join(dir, "not-a-layout")
				writeFile(t, filepath.Join(out, "notes.txt"), []byte("mine\n"), 0o644)
				names = out
			}
			outBefore := snapshot(t, out)
			r := ob.run(t, noEpoch, append([]string{"pack", "-o", out}, args...)...)
			want := c.code
			if want == 0 {
				want = 1
			}
			if r.code != want {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, want, r.stderr)
			}
			checkOneLine(t, "stderr", r.stderr)
			if !strings.HasPrefix(r.stderr, "ocibundle: pack: ") {
				t.Errorf("stderr = %q, want it to start with %q", r.stderr, "ocibundle: pack: ")
			}
			if !strings.Contains(r.stderr, names) {
				t.Errorf("stderr = %q, want it to name %s", r.stderr, names)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			indexAfter, err := os.ReadFile(filepath.Join(lay, layout.IndexFile))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(indexAfter, indexBefore) {
				t.Errorf("index.json changed:\n%s\nwant\n%s", indexAfter, indexBefore)
			}
			for _, d := range diffSnapshots(snapshot(t, lay), layoutBefore) {
				t.Errorf("layout changed: %s", d)
			}
			for _, d := range diffSnapshots(snapshot(t, out), outBefore) {
				t.Errorf("-o %s changed: %s", out, d)
			}
		})
	}
}

// ocibundleAs runs a copy of the binary as another user; nil runs bin as
// the test's own user.
type ocibundleAs struct {
	bin  string
	cred *syscall.Credential
}

// asUnprivileged returns nil when the test does not run as root. As root it
// hands dir (and its parent, t.TempDir's 0700 directory) to uid/gid 65534
// and copies the binary there, where that user may execute it.
func asUnprivileged(t *testing.T, dir string) *ocibundleAs {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	const nobody = 65534
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chown(d, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ocibundle")
	writeFile(t, p, data, 0o755)
	return &ocibundleAs{bin: p, cred: &syscall.Credential{Uid: nobody, Gid: nobody}}
}

// run runs ocibundle with args as o's user (see runCmd).
func (o *ocibundleAs) run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	if o == nil {
		return run(t, "", env, args...)
	}
	cmd := exec.Command(o.bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s %s: %v", o.bin, strings.Join(args, " "), err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// goodInput returns a small valid directory to pack below dir.
func goodInput(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "good")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	writeFile(t, filepath.Join(p, "hello.txt"), []byte("hello\n"), 0o644)
	stamp(t, p, fixedTime)
	return p
}

func TestPackUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args func(lay, in string) []string
	}{
		{"no -o", func(lay, in string) []string { return []string{in} }},
		{"no PATH", func(lay, in string) []string { return []string{"-o", lay} }},
		{"unknown flag", func(lay, in string) []string { return []string{"--no-such-flag", "-o", lay, in} }},
		{"-c lz4", func(lay, in string) []string { return []string{"-c", "lz4", "-o", lay, in} }},
		{"--created yesterday", func(lay, in string) []string { return []string{"--created", "yesterday", "-o", lay, in} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			lay := filepath.Join(dir, "layout")
			r := run(t, "", noEpoch, append([]string{"pack"}, c.args(lay, goodInput(t, dir))...)...)
			if r.code != 2 {
				t.Errorf("exit code = %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			checkOneLine(t, "stderr", r.stderr)
			if !strings.HasPrefix(r.stderr, "ocibundle: ") {
				t.Errorf("stderr = %q, want it to start with %q", r.stderr, "ocibundle: ")
			}
			if _, err := os.Lstat(lay); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a usage error created %s (Lstat: %v), want nothing written", lay, err)
			}
		})
	}
}
