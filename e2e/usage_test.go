//go:build linux

package e2e

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestVersionFlagJSON: `ocibundle --version --json` (either order) prints
// the JSON of `ocibundle version --json`, as the README says (it was a
// usage error, "flag provided but not defined: -json").
func TestVersionFlagJSON(t *testing.T) {
	want := mustRun(t, "", nil, "version", "--json")
	for _, args := range [][]string{{"--version", "--json"}, {"--json", "--version"}, {"-v", "--json"}} {
		got := mustRun(t, "", nil, args...)
		var v struct{ Version string }
		if err := json.Unmarshal([]byte(got), &v); err != nil || v.Version == "" {
			t.Errorf("%v: not the version JSON (%v):\n%s", args, err, got)
		}
		if got != want {
			t.Errorf("%v printed\n%s\nwant (version --json)\n%s", args, got, want)
		}
	}
}

// TestUnknownFlagNamed: an unknown or malformed flag is one line naming the
// command and the flag as typed, exit 2 (it was "ocibundle: flag provided
// but not defined: -bogus").
func TestUnknownFlagNamed(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ls", "--bogus", lay}, "ocibundle: ls: unknown flag --bogus\n"},
		{[]string{"ls", lay, "-x"}, "ocibundle: ls: unknown flag -x\n"},
		{[]string{"ls", "--json=maybe", lay}, `ocibundle: ls: invalid boolean value "maybe" for --json: parse error` + "\n"},
		{[]string{"extract", lay, "-o"}, "ocibundle: extract: flag needs an argument: -o\n"},
		{[]string{"--progress"}, "ocibundle: flag needs an argument: --progress\n"},
		{[]string{"files", "--bogus", filepath.Join(work, "nosuch")}, "ocibundle: files: unknown flag --bogus\n"},
	} {
		r := run(t, work, nil, tc.args...)
		if r.code != 2 || r.stderr != tc.want {
			t.Errorf("%v: exit %d, stderr %q; want exit 2, %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
