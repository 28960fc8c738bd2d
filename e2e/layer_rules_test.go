//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The symptoms of issue 11: pack, verify --deep and extract disagreed about
// links that leave the packed tree and about names extract cannot write.
// Now one set of layer rules answers for all three.

// linkCase is a tree with one symlink that leaves it.
type linkCase struct {
	name   string
	target func(dir string) string // the link's target, given the test's directory
	reason string                  // the layer rules' reason
}

var outsideLinks = []linkCase{
	{name: "absolute target", target: func(dir string) string { return filepath.Join(dir, "zoneinfo", "UTC") }, reason: "absolute target"},
	{name: "climbs out of the PATH", target: func(string) string { return "../../shared/lib.so" }, reason: `target escapes the layer's title "in"`},
}

// outsideLinkTree builds dir/in/etc/localtime -> target, with the file the
// link names (dir/zoneinfo/UTC, dir/shared/lib.so) in place.
func outsideLinkTree(t *testing.T, dir string, target string) (in, link string) {
	t.Helper()
	in = filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "etc", "hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
	writeFile(t, filepath.Join(dir, "zoneinfo", "UTC"), []byte("TZif2 UTC\n"), 0o644)
	writeFile(t, filepath.Join(dir, "shared", "lib.so"), []byte("ELF lib\n"), 0o644)
	link = filepath.Join(in, "etc", "localtime")
	symlink(t, target, link)
	return in, link
}

// TestPackRefusesOutsideLinks: a link that leaves the tree is refused by
// pack before the layout exists, with the file and both ways out named.
// --keep-links stores it; then verify --deep reports it as an error naming
// the entry with extract's reason, extract refuses it with that reason, and
// --allow-outside-links makes it a warning and writes the link (nothing
// else). --dereference stores the file it points to, and that bundle
// verifies and extracts by default.
func TestPackRefusesOutsideLinks(t *testing.T) {
	for _, c := range outsideLinks {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			target := c.target(dir)
			in, link := outsideLinkTree(t, dir, target)
			lay := filepath.Join(dir, "layout")

			r := run(t, dir, nil, "pack", "-o", lay, in)
			if r.code != 1 || !strings.Contains(r.stderr, link) ||
				!strings.Contains(r.stderr, "--dereference") || !strings.Contains(r.stderr, "--keep-links") || !strings.Contains(r.stderr, c.reason) {
				t.Fatalf("pack of a tree with %s -> %s: exit %d, stderr %q; want exit 1 naming the file, %q and both ways out", link, target, r.code, r.stderr, c.reason)
			}
			checkOneLine(t, "pack refusal", r.stderr)
			if _, err := os.Lstat(lay); !os.IsNotExist(err) {
				t.Fatalf("the refused pack touched the layout: %v", err)
			}

			mustRun(t, dir, nil, "pack", "--keep-links", "-o", lay+":kept", in)
			entry := "in/etc/localtime -> " + target
			r = run(t, dir, nil, "verify", "--deep", lay+":kept")
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "TAR_LINK_ESCAPES") || !strings.Contains(r.stdout+r.stderr, entry+": "+c.reason) {
				t.Errorf("verify --deep of the kept link: exit %d\n%s%s\nwant exit 1, TAR_LINK_ESCAPES naming %q", r.code, r.stdout, r.stderr, entry)
			}
			out := filepath.Join(dir, "out")
			r = run(t, dir, nil, "extract", "-o", out, lay+":kept")
			if r.code != 1 || !strings.Contains(r.stderr, entry+": "+c.reason) {
				t.Errorf("extract of the kept link: exit %d, stderr %q; want exit 1 with %q", r.code, r.stderr, entry+": "+c.reason)
			}
			if _, err := os.Lstat(out); !os.IsNotExist(err) {
				t.Errorf("a refused extract left %s: %v", out, err)
			}
			r = run(t, dir, nil, "verify", "--deep", "--allow-outside-links", lay+":kept")
			if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "TAR_LINK_ESCAPES") {
				t.Errorf("verify --deep --allow-outside-links: exit %d\n%s%s\nwant exit 0 with a TAR_LINK_ESCAPES warning", r.code, r.stdout, r.stderr)
			}
			mustRun(t, dir, nil, "extract", "--allow-outside-links", "-o", out, lay+":kept")
			if got := mustReadlink(t, filepath.Join(out, "in", "etc", "localtime")); got != target {
				t.Errorf("extract --allow-outside-links wrote the link -> %q, want %q", got, target)
			}

			mustRun(t, dir, nil, "pack", "--dereference", "-o", lay+":deref", in)
			mustRun(t, dir, nil, "verify", "--deep", lay+":deref")
			out2 := filepath.Join(dir, "out2")
			mustRun(t, dir, nil, "extract", "-o", out2, lay+":deref")
			fi, err := os.Lstat(filepath.Join(out2, "in", "etc", "localtime"))
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("after pack --dereference, localtime is %v, %v; want a regular file", fi, err)
			}
			want, err := os.ReadFile(link) // through the link
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(filepath.Join(out2, "in", "etc", "localtime")); string(got) != string(want) {
				t.Errorf("dereferenced localtime holds %q, want %q", got, want)
			}
		})
	}
}

// TestPackRefusesBackslash: a file extract can never write (a backslash in
// its name) is refused by pack, naming the file and --exclude; with
// --exclude the rest packs, verifies and extracts.
func TestPackRefusesBackslash(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "ok.txt"), []byte("ok"), 0o644)
	bad := filepath.Join(in, `back\slash.txt`)
	writeFile(t, bad, []byte("bad"), 0o644)
	lay := filepath.Join(dir, "layout")
	r := run(t, dir, nil, "pack", "-o", lay, in)
	if r.code != 1 || !strings.Contains(r.stderr, bad) || !strings.Contains(r.stderr, "backslash") || !strings.Contains(r.stderr, "--exclude") {
		t.Fatalf("pack of %s: exit %d, stderr %q; want a refusal naming it, the backslash and --exclude", bad, r.code, r.stderr)
	}
	checkOneLine(t, "pack refusal", r.stderr)
	if _, err := os.Lstat(lay); !os.IsNotExist(err) {
		t.Fatalf("the refused pack touched the layout: %v", err)
	}
	mustRun(t, dir, nil, "pack", "--exclude", `back\\slash.txt`, "-o", lay+":v1", in)
	mustRun(t, dir, nil, "verify", "--deep", lay+":v1")
	out := filepath.Join(dir, "out")
	mustRun(t, dir, nil, "extract", "-o", out, lay+":v1")
	if data, err := os.ReadFile(filepath.Join(out, "in", "ok.txt")); err != nil || string(data) != "ok" {
		t.Errorf("ok.txt after extract = %q, %v", data, err)
	}
	if _, err := os.Lstat(filepath.Join(out, "in", `back\slash.txt`)); !os.IsNotExist(err) {
		t.Errorf("the excluded file was extracted: %v", err)
	}
}

// TestPackLinkOptions: the flags that exclude each other (a usage error,
// exit 2), and a link loop under --dereference, are refused with one line.
func TestPackLinkOptions(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.txt"), []byte("a"), 0o644)
	mkdir(t, filepath.Join(in, "sub"), 0o755)
	symlink(t, "..", filepath.Join(in, "sub", "up"))
	lay := filepath.Join(dir, "layout")
	// A flag clash is a usage error (2), decided before the layout is
	// touched.
	r := run(t, dir, nil, "pack", "--dereference", "--keep-links", "-o", lay, in)
	if r.code != 2 || !strings.Contains(r.stderr, "--dereference") || !strings.Contains(r.stderr, "--keep-links") {
		t.Errorf("pack --dereference --keep-links: exit %d, %q; want 2 naming both flags", r.code, r.stderr)
	}
	checkOneLine(t, "pack flag clash", r.stderr)
	if _, err := os.Lstat(lay); !os.IsNotExist(err) {
		t.Errorf("pack --dereference --keep-links made the layout: %v", err)
	}
	r = run(t, dir, nil, "pack", "--dereference", "-o", lay, in)
	if r.code != 1 || !strings.Contains(r.stderr, "loop") || !strings.Contains(r.stderr, filepath.Join(in, "sub", "up")) {
		t.Errorf("pack --dereference of a link to its parent: exit %d, %q; want a loop refusal naming it", r.code, r.stderr)
	}
	checkOneLine(t, "pack refusal", r.stderr)
	// A link inside the tree is kept as a link by default.
	mustRun(t, dir, nil, "pack", "-o", lay+":v1", in)
	out := filepath.Join(dir, "out")
	mustRun(t, dir, nil, "verify", "--deep", lay+":v1")
	mustRun(t, dir, nil, "extract", "-o", out, lay+":v1")
	if got := mustReadlink(t, filepath.Join(out, "in", "sub", "up")); got != ".." {
		t.Errorf("in/sub/up -> %q, want ..", got)
	}
}

// TestPackRefusalWayOutWorks: the way out pack's refusal names is one that
// works. A symlink loop is refused by every option (--keep-links and
// --dereference too), so its way out is --exclude, not the link flags; a
// dangling link under --dereference names the link, its target and
// --exclude. Following the named way out packs a bundle that verifies.
func TestPackRefusalWayOutWorks(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.txt"), []byte("a"), 0o644)
	symlink(t, "loop2", filepath.Join(in, "loop1"))
	symlink(t, "loop1", filepath.Join(in, "loop2"))
	lay := filepath.Join(dir, "layout")
	for _, opt := range []string{"", "--keep-links", "--dereference"} {
		args := []string{"pack", "-o", lay}
		if opt != "" {
			args = append(args, opt)
		}
		r := run(t, dir, nil, append(args, in)...)
		loop := filepath.Join(in, "loop1")
		if r.code != 1 || !strings.Contains(r.stderr, loop) || !strings.Contains(r.stderr, "--exclude 'loop1'") ||
			strings.Contains(r.stderr, "--keep-links") || strings.Contains(r.stderr, "--dereference stores") {
			t.Errorf("pack %s of a link loop: exit %d, %q; want exit 1 naming %s and the way out --exclude 'loop1' (no link flag: none of them packs a loop)", opt, r.code, r.stderr, loop)
		}
		checkOneLine(t, "pack refusal", r.stderr)
		if _, err := os.Lstat(lay); !os.IsNotExist(err) {
			t.Fatalf("the refused pack touched the layout: %v", err)
		}
	}
	mustRun(t, dir, nil, "pack", "--exclude", "loop1", "-o", lay+":v1", in)
	mustRun(t, dir, nil, "verify", "--deep", lay+":v1")

	deref := filepath.Join(dir, "deref")
	writeFile(t, filepath.Join(deref, "a.txt"), []byte("a"), 0o644)
	dangling := filepath.Join(deref, "dangling")
	symlink(t, "missing", dangling)
	r := run(t, dir, nil, "pack", "--dereference", "-o", lay+":v2", deref)
	if r.code == 0 || !strings.Contains(r.stderr, dangling+" -> missing") || !strings.Contains(r.stderr, "--dereference") ||
		!strings.Contains(r.stderr, "--exclude 'dangling'") {
		t.Errorf("pack --dereference of a dangling link: exit %d, %q; want a refusal naming %s -> missing, --dereference and --exclude 'dangling'", r.code, r.stderr, dangling)
	}
	checkOneLine(t, "pack refusal", r.stderr)
	mustRun(t, dir, nil, "pack", "--dereference", "--exclude", "dangling", "-o", lay+":v2", deref)
	mustRun(t, dir, nil, "verify", "--deep", lay+":v2")
	// A dangling PATH is a missing PATH (3); --exclude is no way out there.
	r = run(t, dir, nil, "pack", "--dereference", "-o", lay+":v3", dangling)
	if r.code != 3 || !strings.Contains(r.stderr, dangling+" -> missing") || strings.Contains(r.stderr, "--exclude") {
		t.Errorf("pack --dereference of a dangling PATH: exit %d, %q; want exit 3 naming %s -> missing, without --exclude", r.code, r.stderr, dangling)
	}
	checkOneLine(t, "pack refusal", r.stderr)
}

// TestPackBadExcludeIsUsage: a malformed --exclude glob is a bad flag
// value: exit 2, one line naming the pattern, the layout untouched.
func TestPackBadExcludeIsUsage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	writeFile(t, filepath.Join(in, "a.txt"), []byte("a"), 0o644)
	lay := filepath.Join(dir, "layout")
	r := run(t, dir, nil, "pack", "--exclude", "[", "-o", lay, in)
	if r.code != 2 || !strings.Contains(r.stderr, `--exclude "["`) {
		t.Errorf("pack --exclude '[': exit %d, %q; want exit 2 naming the pattern", r.code, r.stderr)
	}
	checkOneLine(t, "pack --exclude '['", r.stderr)
	if _, err := os.Lstat(lay); !os.IsNotExist(err) {
		t.Errorf("pack with a malformed --exclude touched the layout: %v", err)
	}
}

// TestPackRefusedPathTitle: a PATH whose own base name (the layer's title)
// extract could not write is refused with a way out that works: renaming
// it. --exclude works on the entries below a PATH, never on the PATH, so
// the refusal must not offer it.
func TestPackRefusedPathTitle(t *testing.T) {
	for _, base := range []string{`back\slash`, ".wh.top"} {
		dir := t.TempDir()
		in := filepath.Join(dir, base)
		writeFile(t, filepath.Join(in, "f"), []byte("f"), 0o644)
		lay := filepath.Join(dir, "layout")
		r := run(t, dir, nil, "pack", "-o", lay, in)
		if r.code != 1 || !strings.Contains(r.stderr, in) || !strings.Contains(r.stderr, "rename") || strings.Contains(r.stderr, "--exclude") {
			t.Errorf("pack %s: exit %d, %q; want exit 1 naming it and the way out (rename it), not --exclude", in, r.code, r.stderr)
		}
		checkOneLine(t, "pack refusal", r.stderr)
		if _, err := os.Lstat(lay); !os.IsNotExist(err) {
			t.Errorf("the refused pack touched the layout: %v", err)
		}
	}
}

// TestUnsafeArtifactTitle: an ORAS artifact whose file is titled with a
// ".." (oras push --disable-path-validation ../f) is refused by extract;
// verify --deep reports it as an error with extract's reason, naming the
// title, instead of saying OK.
func TestUnsafeArtifactTitle(t *testing.T) {
	oras := requireTool(t, "oras")
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	writeFile(t, filepath.Join(dir, "f"), []byte("f"), 0o644)
	mkdir(t, work, 0o755)
	lay := filepath.Join(dir, "layout")
	if r := runCmd(t, work, nil, oras, "push", "--oci-layout", "--disable-path-validation", lay+":v1", "../f"); r.code != 0 {
		t.Fatalf("oras push: exit %d: %s", r.code, r.stderr)
	}
	const reason = `../f: not a safe layer title: ".." in name`
	r := run(t, dir, nil, "extract", "-o", filepath.Join(dir, "out"), lay+":v1")
	if r.code != 1 || !strings.Contains(r.stderr, reason) {
		t.Errorf("extract of a layer titled ../f: exit %d, %q; want exit 1 with %q", r.code, r.stderr, reason)
	}
	r = run(t, dir, nil, "verify", "--deep", lay+":v1")
	if r.code != 1 || !strings.Contains(r.stdout, "TAR_UNSAFE_PATH") || !strings.Contains(r.stdout, reason) {
		t.Errorf("verify --deep of a layer titled ../f: exit %d\n%s%s\nwant exit 1, TAR_UNSAFE_PATH with %q", r.code, r.stdout, r.stderr, reason)
	}
}

// TestNestedArtifactTitles: an ORAS artifact whose layer titles are equal
// or nest (a directory and a file below it; two directories, one below the
// other) writes a name twice: extract refuses it, and verify --deep, which
// judged each layer alone, said OK. Now it reports TAR_DUPLICATE with
// extract's text, naming the entry.
func TestNestedArtifactTitles(t *testing.T) {
	oras := requireTool(t, "oras")
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	mkdir(t, filepath.Join(work, "in", "d"), 0o755)
	writeFile(t, filepath.Join(work, "in", "d", "g"), []byte("g"), 0o644)
	writeFile(t, filepath.Join(work, "in", "top"), []byte("t"), 0o644)
	lay := filepath.Join(dir, "layout")
	for _, c := range []struct {
		tag    string
		files  []string
		reason string
	}{
		{"w", []string{"in/d", "in/d/g"}, "in/d/g: duplicate entry"},
		{"v", []string{"in", "in/d"}, "in/d: duplicate entry"},
	} {
		args := append([]string{"push", "--oci-layout", lay + ":" + c.tag}, c.files...)
		if r := runCmd(t, work, nil, oras, args...); r.code != 0 {
			t.Fatalf("oras %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		r := run(t, dir, nil, "extract", "-o", filepath.Join(dir, "out-"+c.tag), lay+":"+c.tag)
		if r.code != 1 || !strings.Contains(r.stderr, c.reason) {
			t.Errorf("extract of %v: exit %d, %q; want exit 1 with %q", c.files, r.code, r.stderr, c.reason)
		}
		r = run(t, dir, nil, "verify", "--deep", lay+":"+c.tag)
		if r.code != 1 || !strings.Contains(r.stdout, "TAR_DUPLICATE") || !strings.Contains(r.stdout, c.reason) {
			t.Errorf("verify --deep of %v: exit %d\n%s%s\nwant exit 1, TAR_DUPLICATE with %q", c.files, r.code, r.stdout, r.stderr, c.reason)
		}
	}
	// Titles that do not nest are judged one layer at a time, and pass.
	if r := runCmd(t, work, nil, oras, "push", "--oci-layout", lay+":ok", "in/d", "in/top"); r.code != 0 {
		t.Fatalf("oras push: exit %d: %s", r.code, r.stderr)
	}
	mustRun(t, dir, nil, "verify", "--deep", lay+":ok")
	mustRun(t, dir, nil, "extract", "-o", filepath.Join(dir, "out-ok"), lay+":ok")
}
