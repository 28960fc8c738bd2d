//go:build linux

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// badArchives returns a directory holding cliBundle's layout L, its export
// A.tar of L:v1, G.tar (A.tar and a line of garbage) and T.tar (A.tar cut
// 2 KiB short).
func badArchives(t *testing.T) string {
	t.Helper()
	work := t.TempDir()
	cliBundle(t, work)
	mustRun(t, work, nil, "export", "-q", "-o", "A.tar", "L:v1")
	a, err := os.ReadFile(filepath.Join(work, "A.tar"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"G.tar": append(a, "garbage\n"...), "T.tar": a[:len(a)-2048]} {
		if err := os.WriteFile(filepath.Join(work, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return work
}

// TestMessagesSayWhatIsWrong: each message names the object once and the
// real reason (fix-b 6): a second export reference that does not exist is
// a missing path (exit 3), not "an archive holds one layout"; a file as
// extract's output directory is "not a directory", not "output directory
// not empty"; verify of a bad archive names it once, not "G.tar: G.tar:".
func TestMessagesSayWhatIsWrong(t *testing.T) {
	work := badArchives(t)
	if err := os.WriteFile(filepath.Join(work, "afile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "-o", "e.tar", "L", "nosuch"}, 3, "ocibundle: export: nosuch: no such file or directory\n"},
		{[]string{"extract", "-o", "afile", "L:v1"}, 2, "ocibundle: extract: afile: not a directory\n"},
		{[]string{"verify", "G.tar"}, 1, "ocibundle: verify: G.tar: bad archive: 8 bytes of data after the end of the tar (verification failed: 1 error, 0 warnings, 0 info)\n"},
	} {
		r := run(t, work, nil, append([]string{"-q"}, tc.args...)...)
		if r.code != tc.code || r.stderr != tc.want {
			t.Errorf("%v: exit %d, stderr %q; want exit %d, %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "e.tar")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("export refused, yet e.tar: %v", err)
	}
	// Parts given in order, the last cut short, no checksum list beside
	// them: the list of parts is named once.
	mustRun(t, work, nil, "export", "-q", "-o", "P.tar", "--split", "1KiB", "L:v1")
	if err := os.Remove(filepath.Join(work, "P.tar.sha256")); err != nil {
		t.Fatal(err)
	}
	parts, _ := filepath.Glob(filepath.Join(work, "P.tar.0*"))
	if len(parts) < 2 {
		t.Fatalf("export --split 1KiB made %d parts", len(parts))
	}
	last := parts[len(parts)-1]
	if err := os.Truncate(last, 10); err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = filepath.Base(p)
	}
	r := run(t, work, nil, append([]string{"verify", "-q"}, names...)...)
	if list := strings.Join(names, " "); r.code != 1 || strings.Count(r.stderr, list) != 1 {
		t.Errorf("verify of cut parts: exit %d, stderr %q; want exit 1 naming %q once", r.code, r.stderr, list)
	}
}

// TestRefusedImportCreatesNothing: an import refused into a layout that did
// not exist leaves nothing (it left oci-layout, an empty index.json and the
// blobs); into an empty directory, leaves it empty; into a layout, leaves
// its index.json as it was (fix-b 7).
func TestRefusedImportCreatesNothing(t *testing.T) {
	work := badArchives(t)
	for i, archive := range []string{"G.tar", "T.tar"} {
		gi := filepath.Join(work, "gi")
		if r := run(t, work, nil, "import", "-q", "-o", gi, archive); r.code != 1 {
			t.Fatalf("import %s: exit %d, want 1: %s", archive, r.code, r.stderr)
		}
		if _, err := os.Stat(gi); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("import %s refused, yet gi exists (%v)", archive, err)
		}
		empty := filepath.Join(work, fmt.Sprint("empty", i))
		if err := os.Mkdir(empty, 0o755); err != nil {
			t.Fatal(err)
		}
		if r := run(t, work, nil, "import", "-q", "-o", empty, archive); r.code != 1 {
			t.Fatalf("import %s into an empty directory: exit %d, want 1", archive, r.code)
		}
		if names, err := os.ReadDir(empty); err != nil || len(names) != 0 {
			t.Errorf("import %s refused, yet the empty directory holds %v (%v)", archive, names, err)
		}
	}
	other := filepath.Join(work, "O")
	if err := os.WriteFile(filepath.Join(work, "g.txt"), []byte("other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, work, nil, "pack", "-q", "-o", other+":x", "g.txt")
	before, err := os.ReadFile(filepath.Join(other, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, work, nil, "import", "-q", "-o", other, "G.tar"); r.code != 1 {
		t.Fatalf("import G.tar into a layout: exit %d, want 1", r.code)
	}
	if after, err := os.ReadFile(filepath.Join(other, "index.json")); err != nil || string(after) != string(before) {
		t.Errorf("a refused import changed the layout's index.json:\n%s\nwas\n%s", after, before)
	}
}
