//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBundleStringsCannotForgeLines: a file name or an annotation from a
// bundle with a newline shows escaped, on its own row, in files, inspect,
// ls and diff (issue s11 fix-b 1: a name with "\n-0644 ... passwd" forged a
// row of `files`, an annotation "x\nLayers: forged" a line of inspect).
func TestBundleStringsCannotForgeLines(t *testing.T) {
	work := t.TempDir()
	forged := "-0644  5 B  2026-11-30T06:05:34Z  0000  passwd"
	dir := filepath.Join(work, "nn", "r")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"ok": "real\n", "z\n" + forged: "evil\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lay := filepath.Join(work, "NN")
	mustRun(t, work, nil, "pack", "-q", "-o", lay+":1", "-a", "org.example=x\nLayers: forged", "nn/r")
	mustRun(t, work, nil, "pack", "-q", "-o", lay+":2", "nn/r/ok")
	for _, args := range [][]string{{"files", lay + ":1"}, {"inspect", lay + ":1"}, {"ls", lay}, {"diff", lay + ":2", lay + ":1"}} {
		r := run(t, work, nil, args...)
		if r.code != 0 && !(args[0] == "diff" && r.code == 1) {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(line, "-0644  5 B  2026") || strings.HasPrefix(strings.TrimSpace(line), "Layers: forged") {
				t.Errorf("%v: a bundle string forged the line %q:\n%s", args, line, r.stdout)
			}
		}
		if args[0] == "files" && !strings.Contains(r.stdout, `"r/z\n`+forged+`"`) {
			t.Errorf("files: the name is not shown escaped:\n%s", r.stdout)
		}
		if args[0] == "inspect" && !strings.Contains(r.stdout, `org.example="x\nLayers: forged"`) {
			t.Errorf("inspect: the annotation is not shown escaped:\n%s", r.stdout)
		}
	}
}
