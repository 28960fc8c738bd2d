//go:build linux

// Package e2e runs the real ocibundle binary end to end, and the real peer
// tools (oras, skopeo, crane, regctl, umoci, zstd) against what it writes.
// Its files build on Linux only: they use FIFOs, inodes and the Linux peer
// tools, and the tests run on linux/amd64 (see the README's Platforms).
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// bin is the ocibundle binary built once by TestMain.
var bin string

// repoRoot is the module root (peer tools live in .tools/bin below it).
var repoRoot string

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Dir(filepath.Dir(file))
	dir, err := os.MkdirTemp("", "ocibundle-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "ocibundle")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build ocibundle: %v\n%s", err, out)
		os.Exit(1)
	}
	os.Setenv("PATH", filepath.Join(repoRoot, ".tools", "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of a command gave.
type result struct {
	stdout, stderr string
	code           int
}

// run runs ocibundle with args in dir (the test's working directory when
// empty), with extra environment entries, and returns its output and exit code.
func run(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runCmd(t, dir, env, bin, args...)
}

// runCmd runs any command and returns its output and exit code; failing to
// start it at all fails the test.
func runCmd(t *testing.T, dir string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// mustRun runs ocibundle and fails the test unless it exits 0.
func mustRun(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	r := run(t, dir, env, args...)
	if r.code != 0 {
		t.Fatalf("ocibundle %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// requireTool returns the path of a peer tool. When it is missing the test
// fails under CI=true and otherwise skips loudly, saying how to install it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("peer tool %s is not installed (run scripts/install-peers.sh or make test)", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg)
	return ""
}
