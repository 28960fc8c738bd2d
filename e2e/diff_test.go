//go:build linux

package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffCLI: ocibundle diff of two bundles, each a layout, an archive,
// standard input, a split set's parts or its .sha256 list: exit 0 and no
// output when equal, exit 1 and every difference when not (as diff(1)),
// --json the same as one object; one REFERENCE is a usage error.
func TestDiffCLI(t *testing.T) {
	dir := t.TempDir()
	v1 := filepath.Join(dir, "v1", "app")
	v2 := filepath.Join(dir, "v2", "app")
	writeFile(t, filepath.Join(v1, "keep.txt"), []byte("keep"), 0o644)
	writeFile(t, filepath.Join(v1, "old.txt"), []byte("old"), 0o644)
	writeFile(t, filepath.Join(v2, "keep.txt"), []byte("keep"), 0o644)
	writeFile(t, filepath.Join(v2, "new.txt"), []byte("new"), 0o755)
	lay := filepath.Join(dir, "L")
	mustRun(t, dir, nil, "pack", "-o", lay, "-t", "1", v1)
	mustRun(t, dir, nil, "pack", "-o", lay, "-t", "2", "-a", "note=second", v2)
	archive := filepath.Join(dir, "one.tar")
	mustRun(t, dir, nil, "export", "-o", archive, lay+":1")
	split := filepath.Join(dir, "two.tar")
	mustRun(t, dir, nil, "export", "-o", split, "--split", "1KiB", lay+":2")
	parts, err := filepath.Glob(split + ".[0-9]*")
	if err != nil || len(parts) < 2 {
		t.Fatalf("export --split 1KiB: parts %q, %v; want several", parts, err)
	}
	before := snapshot(t, dir)

	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"layout and layout", []string{lay + ":1", lay + ":2"}, 1},
		{"the same bundle", []string{lay + ":1", lay + ":1"}, 0},
		{"archive and its layout", []string{archive, lay + ":1"}, 0},
		{"archive and another", []string{archive, lay + ":2"}, 1},
		{"parts and the .sha256 list", append(append([]string{}, parts...), split+".sha256"), 0},
		{"layout and parts", append([]string{lay + ":1"}, parts...), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, dir, nil, append([]string{"diff"}, c.args...)...)
			if r.code != c.code {
				t.Fatalf("diff %q: exit %d, stderr %q; want %d", c.args, r.code, r.stderr, c.code)
			}
			if c.code == 0 && r.stdout != "" {
				t.Errorf("diff %q of equal bundles printed %q, want nothing", c.args, r.stdout)
			}
			if c.code == 1 && (!strings.Contains(r.stdout, "A app/new.txt") || !strings.Contains(r.stdout, "D app/old.txt")) {
				t.Errorf("diff %q: stdout %q; want A app/new.txt and D app/old.txt", c.args, r.stdout)
			}
		})
	}

	// Standard input, and --json: every difference in one object.
	r := runCmd(t, dir, nil, "sh", "-c", `"$0" diff --json - "$1" < "$2"`, bin, lay+":2", archive)
	if r.code != 1 {
		t.Fatalf("diff --json - L:2 < one.tar: exit %d, stderr %q; want 1", r.code, r.stderr)
	}
	var res struct {
		Equal bool `json:"equal"`
		From  struct {
			Reference, Digest string
		} `json:"from"`
		Annotations []struct {
			Key  string  `json:"key"`
			From *string `json:"from"`
			To   *string `json:"to"`
		} `json:"annotations"`
		Layers []struct{ Change, Title string } `json:"layers"`
		Files  []struct {
			Path, Change string
			What         []string
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("diff --json: %v\n%s", err, r.stdout)
	}
	if res.Equal || res.From.Reference != "-" || len(res.Annotations) != 1 || res.Annotations[0].Key != "note" ||
		res.Annotations[0].From != nil || *res.Annotations[0].To != "second" || len(res.Layers) != 1 || res.Layers[0].Change != "changed" {
		t.Errorf("diff --json - L:2: %s", r.stdout)
	}
	if len(res.Files) != 2 || res.Files[0].Path != "app/new.txt" || res.Files[0].Change != "added" || res.Files[1].Path != "app/old.txt" || res.Files[1].Change != "removed" {
		t.Errorf("diff --json - L:2: files %+v, want app/new.txt added, app/old.txt removed", res.Files)
	}
	checkOneLine(t, "diff --json", r.stderr)

	r = runCmd(t, dir, nil, "sh", "-c", `"$0" diff - -:1 < "$1"`, bin, archive)
	if r.code != 2 || !strings.Contains(r.stderr, "name - once") {
		t.Errorf("diff - -:1: exit %d, %q; want 2, standard input named once", r.code, r.stderr)
	}
	r = run(t, dir, nil, "diff", lay+":1")
	if r.code != 2 {
		t.Errorf("diff with one REFERENCE: exit %d, %q; want 2", r.code, r.stderr)
	}
	r = run(t, dir, nil, "diff", lay+":1", lay+":2", lay+":1")
	if r.code != 2 {
		t.Errorf("diff with three REFERENCEs: exit %d, %q; want 2", r.code, r.stderr)
	}
	// A peer's archive: skopeo's oci-archive of bundle 2 (blobs before
	// index.json) against bundle 1 and against itself.
	skopeo := requireTool(t, "skopeo")
	peer := filepath.Join(dir, "skopeo.tar")
	if r := runCmd(t, dir, nil, skopeo, "copy", "--quiet", "oci:"+lay+":2", "oci-archive:"+peer+":2"); r.code != 0 {
		t.Fatalf("skopeo copy to oci-archive: %s", r.stderr)
	}
	before[filepath.Base(peer)] = snapshot(t, dir)[filepath.Base(peer)]
	if r := run(t, dir, nil, "diff", lay+":1", peer); r.code != 1 || !strings.Contains(r.stdout, "A app/new.txt") || !strings.Contains(r.stdout, "D app/old.txt") {
		t.Errorf("diff L:1 skopeo.tar: exit %d, stdout %q, stderr %q; want 1, A app/new.txt, D app/old.txt", r.code, r.stdout, r.stderr)
	}
	if r := run(t, dir, nil, "diff", peer, lay+":2"); r.code != 0 {
		t.Errorf("diff skopeo.tar L:2: exit %d, %q %q; want 0", r.code, r.stdout, r.stderr)
	}

	// diff reads; it writes nothing, in the layout or beside the archives.
	if d := diffSnapshots(snapshot(t, dir), before); len(d) > 0 {
		t.Errorf("diff changed the files it read: %q", d)
	}
}
