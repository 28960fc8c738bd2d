//go:build linux

package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// extracted lists what extract of ref writes: "name type", sorted.
func extracted(t *testing.T, dir, ref string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	mustRun(t, dir, nil, "extract", "-o", out, ref)
	var got []string
	for name, n := range xtTree(t, out) {
		got = append(got, filepath.ToSlash(name)+" "+n.Type)
	}
	slices.Sort(got)
	return got
}

// TestPackExcludeCLI: --exclude is repeatable, and OCIBUNDLE_EXCLUDE sets
// it; a comma belongs to the value (a glob "{a,b}", an annotation "x, y"),
// never splits it. The excluded files are not in what extract writes.
func TestPackExcludeCLI(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	for _, name := range []string{"a.txt", "b.txt", "c.txt", "obj/x.o", "sub/obj/y.o", "sub/keep.go"} {
		writeFile(t, filepath.Join(in, filepath.FromSlash(name)), []byte(name), 0o644)
	}
	lay := filepath.Join(dir, "layout")
	mustRun(t, dir, nil, "pack", "--exclude", "{a,b}.txt", "--exclude", "/obj/", "--exclude", "*.o", "-a", "k=x, y", "-o", lay+":v1", in)
	got := extracted(t, dir, lay+":v1")
	want := []string{"in dir", "in/c.txt file", "in/sub dir", "in/sub/keep.go file", "in/sub/obj dir"}
	if !slices.Equal(got, want) {
		t.Errorf("extract after pack --exclude '{a,b}.txt' --exclude /obj/ --exclude '*.o' = %q, want %q", got, want)
	}
	if stdout := mustRun(t, dir, nil, "inspect", "--json", lay+":v1"); !strings.Contains(stdout, `"k": "x, y"`) {
		t.Errorf("inspect: the annotation k is not %q: %s", "x, y", stdout)
	}

	mustRun(t, dir, []string{"OCIBUNDLE_EXCLUDE={a,b,c}.txt"}, "pack", "-o", lay+":v2", in)
	got = extracted(t, dir, lay+":v2")
	want = []string{"in dir", "in/obj dir", "in/obj/x.o file", "in/sub dir", "in/sub/keep.go file", "in/sub/obj dir", "in/sub/obj/y.o file"}
	if !slices.Equal(got, want) {
		t.Errorf("extract after OCIBUNDLE_EXCLUDE='{a,b,c}.txt' pack = %q, want %q", got, want)
	}
}
