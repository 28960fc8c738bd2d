//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIDelta walks the README's "Delta bundles" steps with the binary:
// the site records an inventory, the sender exports --since it (split), the
// site verifies and imports the parts; a bad inventory is exit 2 naming the
// file, a delta imported where the base is missing is 1 naming the base and
// the blob, and --json carries the inventory's digest.
func TestCLIDelta(t *testing.T) {
	work := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("fw/fw.bin", strings.Repeat("firmware ", 50000))
	write("app/v.txt", "1\n")
	mustRun(t, work, nil, "pack", "-o", "S:1", "fw", "app")
	mustRun(t, work, nil, "export", "-o", "r1.tar", "S:1")
	mustRun(t, work, nil, "import", "-o", "site", "r1.tar")
	write("app/v.txt", "2\n")
	mustRun(t, work, nil, "pack", "-o", "S:2", "fw", "app")

	// Site: the inventory, its digest printed.
	out := mustRun(t, work, nil, "inventory", "-o", "site.inv", "site")
	fields := strings.Fields(out)
	if len(fields) < 2 || fields[0] != "inventory" || !strings.HasPrefix(fields[1], "sha256:") {
		t.Fatalf("inventory printed %q", out)
	}
	js := mustRun(t, work, nil, "inventory", "--json", "-o", "site2.inv", "site")
	if !strings.Contains(js, `"digest": "`+fields[1]+`"`) {
		t.Errorf("inventory --json = %s, want the digest %s", js, fields[1])
	}
	// Sender: a split delta.
	out = mustRun(t, work, nil, "export", "--since", "site.inv", "--split", "2K", "-o", "r2.tar", "S:2")
	if !strings.Contains(out, "delta     base "+fields[1]) {
		t.Errorf("export --since printed %q, want the base %s", out, fields[1])
	}
	// Site: verify alone (info), with --base, then import the parts.
	out = mustRun(t, work, nil, "verify", "r2.tar.sha256")
	if !strings.Contains(out, "BASE_BLOB") || !strings.Contains(out, fields[1]) {
		t.Errorf("verify of the delta: %q, want BASE_BLOB infos naming %s", out, fields[1])
	}
	mustRun(t, work, nil, "verify", "--base", "site", "r2.tar.sha256")
	out = mustRun(t, work, nil, "import", "-o", "site", "r2.tar.sha256")
	if !strings.Contains(out, "delta of the base "+fields[1]) {
		t.Errorf("import of the delta printed %q", out)
	}

	// Refusals.
	write("bad.inv", "{\"mediaType\": 1}\n")
	r := run(t, work, nil, "export", "--since", "bad.inv", "-o", "x.tar", "S:2")
	if r.code != 2 {
		t.Errorf("export --since bad.inv: exit %d, want 2 (%s)", r.code, r.stderr)
	}
	oneLine(t, "export --since bad.inv", r.stderr, "bad.inv", "not a valid inventory")
	if _, err := os.Stat(filepath.Join(work, "x.tar")); err == nil {
		t.Errorf("export --since bad.inv wrote x.tar")
	}
	mustRun(t, work, nil, "export", "--since", "site.inv", "-o", "d.tar", "S:2")
	// The archive the site imported is the base its inventory describes;
	// a layout named as the base is inventoried as `inventory` does.
	mustRun(t, work, nil, "export", "--since", "r1.tar", "-o", "d-archive.tar", "S:2")
	mustRun(t, work, nil, "inventory", "-o", "now.inv", "site")
	mustRun(t, work, nil, "export", "--since", "now.inv", "-o", "d-now.tar", "S:2")
	mustRun(t, work, nil, "export", "--since", "site", "-o", "d-layout.tar", "S:2")
	for _, pair := range [][2]string{{"d-archive.tar", "d.tar"}, {"d-layout.tar", "d-now.tar"}} {
		got, _ := os.ReadFile(filepath.Join(work, pair[0]))
		want, _ := os.ReadFile(filepath.Join(work, pair[1]))
		if string(got) != string(want) || len(want) == 0 {
			t.Errorf("%s differs from %s", pair[0], pair[1])
		}
	}
	r = run(t, work, nil, "import", "-o", "elsewhere", "d.tar")
	if r.code != 1 {
		t.Errorf("import of a delta without its base: exit %d, want 1 (%s)", r.code, r.stderr)
	}
	oneLine(t, "import of a delta without its base", r.stderr, "d.tar", fields[1], "missing")
	// ls and inspect read the delta in place and say so.
	if out := mustRun(t, work, nil, "ls", "d.tar"); !strings.Contains(out, "a delta of the base "+fields[1]) {
		t.Errorf("ls d.tar = %q, want it to name the base %s", out, fields[1])
	}
	if out := mustRun(t, work, nil, "inspect", "--json", "d.tar"); !strings.Contains(out, `"delta": "`+fields[1]+`"`) {
		t.Errorf("inspect --json d.tar = %s, want delta %s", out, fields[1])
	}
	if out := mustRun(t, work, nil, "ls", "r1.tar"); strings.Contains(out, "delta") {
		t.Errorf("ls r1.tar (a full archive) = %q, says delta", out)
	}
	r = run(t, work, nil, "extract", "-o", "out", "d.tar")
	if r.code != 1 {
		t.Errorf("extract of a delta: exit %d, want 1 (%s)", r.code, r.stderr)
	}
	oneLine(t, "extract of a delta", r.stderr, "d.tar", fields[1])
}
