//go:build linux

package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goOutput runs the go command in the module root and returns its trimmed
// standard output.
func goOutput(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// versionJSON runs `version --json` of binary and decodes it.
func versionJSON(t *testing.T, binary string) map[string]any {
	t.Helper()
	r := runCmd(t, "", nil, binary, "version", "--json")
	if r.code != 0 {
		t.Fatalf("version --json: exit %d: %s", r.code, r.stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("version --json: %v\n%s", err, r.stdout)
	}
	return m
}

// TestVersion: `ocibundle version` and `--version` tell the Go version, the
// klauspost/compress version built in (part of the bundle format: go.mod's
// requirement) and the platform, as text and as JSON (issue 17: no
// --version, the compress version nowhere visible).
func TestVersion(t *testing.T) {
	want := builtWith(t, bin)
	for k, v := range map[string]any{
		"goVersion":       goOutput(t, "env", "GOVERSION"),
		"compressVersion": goOutput(t, "list", "-m", "-f", "{{.Version}}", "github.com/klauspost/compress"),
		"os":              runtime.GOOS,
		"arch":            runtime.GOARCH,
	} {
		want[k] = v
	}
	got := versionJSON(t, bin)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("version --json: %s = %v, want %v", k, got[k], v)
		}
	}
	text := mustRun(t, "", nil, "version")
	for _, w := range []string{
		"ocibundle " + want["version"].(string) + "\n",
		"github.com/klauspost/compress: " + want["compressVersion"].(string) + "\n",
		"go: " + want["goVersion"].(string) + "\n",
		"platform: " + runtime.GOOS + "/" + runtime.GOARCH + "\n",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("version does not say %q:\n%s", w, text)
		}
	}
	for _, flag := range []string{"--version", "-v"} {
		if out := mustRun(t, "", nil, flag); out != text {
			t.Errorf("ocibundle %s = %q, want what version prints: %q", flag, out, text)
		}
	}
	if r := run(t, "", nil, "version", "extra"); r.code != 2 {
		t.Errorf("version extra: exit %d, want 2 (usage)", r.code)
	}
}

// builtWith returns what `go version -m` reads from binary's build
// information: the main module's version ("(devel)", or a pseudo-version
// from the VCS when the checkout is a git clone built with -buildvcs) and
// the VCS revision, time and modified flag when stamped.
func builtWith(t *testing.T, binary string) map[string]any {
	t.Helper()
	m := map[string]any{"modified": false}
	for _, line := range strings.Split(goOutput(t, "version", "-m", binary), "\n") {
		f := strings.Split(strings.TrimSpace(line), "\t")
		switch {
		case len(f) >= 3 && f[0] == "mod":
			m["version"] = f[2]
		case len(f) == 2 && f[0] == "build":
			k, v, _ := strings.Cut(f[1], "=")
			switch k {
			case "vcs.revision":
				m["revision"] = v
			case "vcs.time":
				m["revisionTime"] = v
			case "vcs.modified":
				m["modified"] = v == "true"
			}
		}
	}
	if m["version"] == nil {
		t.Fatalf("go version -m %s names no module version", binary)
	}
	return m
}

// TestVersionStamp: the -ldflags -X stamp that make release sets wins over
// the build information.
func TestVersionStamp(t *testing.T) {
	stamped := filepath.Join(t.TempDir(), "ocibundle")
	ldflags := "-X main.version=v9.8.7 -X main.revision=0123abc -X main.revisionTime=2026-01-02T03:04:05Z"
	goOutput(t, "build", "-buildvcs=false", "-ldflags", ldflags, "-o", stamped, ".")
	got := versionJSON(t, stamped)
	for k, v := range map[string]any{"version": "v9.8.7", "revision": "0123abc", "revisionTime": "2026-01-02T03:04:05Z", "modified": false} {
		if got[k] != v {
			t.Errorf("stamped version --json: %s = %v, want %v", k, got[k], v)
		}
	}
	r := runCmd(t, "", nil, stamped, "--version")
	if !strings.HasPrefix(r.stdout, "ocibundle v9.8.7\nrevision: 0123abc (2026-01-02T03:04:05Z)\n") {
		t.Errorf("stamped --version = %q", r.stdout)
	}
}
