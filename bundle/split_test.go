package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSplitManyParts: a set of more than 1,000 parts has one suffix width,
// so a glob sorts it in order; it replaces an older set of the same name;
// parts given out of order, or with one missing, are named.
func TestSplitManyParts(t *testing.T) {
	dir, _ := packedLayout(t, "v1")
	whole, _ := exportBytes(t, []string{dir}, ExportOptions{})
	size := int64(len(whole) / 1100) // > 1,000 parts
	out := t.TempDir()
	file := filepath.Join(out, "bundle.tar")
	// An older set of the same name, and a file that is not one of its parts.
	old, err := ExportFile(ctx, file, []string{dir}, ExportOptions{Split: int64(len(whole)/3 + 1)})
	must(t, err)
	if len(old.Archive.Parts) != 3 || filepath.Base(old.Archive.Parts[2].Name) != "bundle.tar.002" {
		t.Fatalf("older set: %v, want bundle.tar.000 … .002", old.Archive.Parts)
	}
	must(t, os.WriteFile(file+".notes", []byte("keep"), 0o644))

	res, err := ExportFile(ctx, file, []string{dir}, ExportOptions{Split: size})
	must(t, err)
	n := len(res.Archive.Parts)
	if n <= 1000 {
		t.Fatalf("%d parts, want more than 1000", n)
	}
	globbed, err := filepath.Glob(file + ".[0-9]*")
	must(t, err)
	var names []string
	var joined []byte
	for i, p := range res.Archive.Parts {
		if want := fmt.Sprintf("%s.%04d", file, i); p.Name != want {
			t.Fatalf("part %d is %s, want %s", i, p.Name, want)
		}
		names = append(names, p.Name)
		data, err := os.ReadFile(p.Name)
		must(t, err)
		joined = append(joined, data...)
	}
	// The glob is what `cat FILE.[0-9]*` joins: the new parts, in order,
	// and none of the older set's.
	if !slices.Equal(globbed, names) {
		t.Errorf("glob %s.[0-9]* = %d names (%s …), want the %d parts in order", file, len(globbed), globbed[:3], n)
	}
	if !bytes.Equal(joined, whole) {
		t.Error("the joined parts differ from the single-file export")
	}
	// The README's recipe, by the shell.
	if sh, err := exec.LookPath("sh"); err == nil {
		cmd := exec.Command(sh, "-c", "cat bundle.tar.[0-9]* > joined.tar")
		cmd.Dir = out
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cat bundle.tar.[0-9]*: %v\n%s", err, b)
		}
		if got, err := os.ReadFile(filepath.Join(out, "joined.tar")); err != nil || !bytes.Equal(got, whole) {
			t.Errorf("cat bundle.tar.[0-9]* > joined.tar: %d bytes, %v; want the archive", len(got), err)
		}
	}
	if _, err := os.Stat(file + ".notes"); err != nil {
		t.Errorf("a file that is no part was removed: %v", err)
	}

	// Given in order, the parts find their list; out of order or one
	// missing, the misplaced part is named.
	parts, wholeSum, err := PartsFromArgs(names)
	if err != nil || wholeSum != res.Archive.Digest || len(parts) != n {
		t.Fatalf("PartsFromArgs(the parts in order) = %d parts, %s, %v", len(parts), wholeSum, err)
	}
	swapped := slices.Clone(names)
	swapped[999], swapped[1000] = swapped[1000], swapped[999]
	_, _, err = PartsFromArgs(swapped)
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "bundle.tar.1000: bad input: parts out of order: given as part 1000, "+file+".sha256 lists it as part 1001") {
		t.Errorf("PartsFromArgs(two parts swapped) = %v, want ErrBadInput naming bundle.tar.1000", err)
	}
	// Without the list, the numbers give the order.
	must(t, os.Rename(res.Archive.ChecksumFile, file+".list"))
	if _, _, err := PartsFromArgs(names); err != nil {
		t.Errorf("PartsFromArgs(in order, no list) = %v", err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{swapped, "bundle.tar.0999: bad input: parts out of order: given after " + file + ".1000"},
		{slices.Delete(slices.Clone(names), 500, 501), "bundle.tar.0501: bad input: given as part 501, but its number says part 502"},
		// An older writer's set past 999 parts, as a glob sorts it.
		{[]string{file + ".099", file + ".100", file + ".1000", file + ".101"}, "bundle.tar.101: bad input: parts out of order: given after " + file + ".1000"},
	} {
		if _, _, err := PartsFromArgs(c.args); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("PartsFromArgs(%s …) = %v, want %q", filepath.Base(c.args[0]), err, c.want)
		}
	}
}
