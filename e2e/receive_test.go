//go:build linux

// End-to-end tests of issue 13 items 1-3 through the real binary: ls,
// inspect, files and extract read a layout, an archive (with :TAG and
// @DIGEST), standard input, a split set's parts and its .sha256 list, and
// skopeo's oci-archive copy of a bundle, all in place; files --format
// sha256sum is checked by the real sha256sum -c in the extracted tree;
// extract PATTERN writes only what it selects. Helpers are prefixed rc.

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rcSetup packs a small bundle (tag v1) and exports it whole and split;
// it returns the work directory and the manifest digest.
func rcSetup(t *testing.T) (string, string) {
	t.Helper()
	work := t.TempDir()
	xtWrite(t, filepath.Join(work, "in/app/bin/app"), "#!/bin/sh\necho app\n", 0o755)
	xtWrite(t, filepath.Join(work, "in/app/docs/a.md"), "doc a\n", 0o644)
	xtWrite(t, filepath.Join(work, "in/app/docs/sub/b.md"), strings.Repeat("b", 5000), 0o644)
	xtWrite(t, filepath.Join(work, "in/app/name with space.txt"), "s\n", 0o644)
	if err := os.Symlink("bin/app", filepath.Join(work, "in/app/run")); err != nil {
		t.Fatal(err)
	}
	dgst := strings.TrimSpace(mustRun(t, work, nil, "pack", "-q", "-o", "L", "-t", "v1", "in/app"))
	mustRun(t, work, nil, "export", "-o", "a.tar", "L:v1")
	mustRun(t, work, nil, "export", "-o", "s.tar", "--split", "4KB", "L:v1")
	return work, dgst
}

// rcSources are the forms of one bundle every reading command takes, as
// shell words (stdin through a pipe).
func rcSources(dgst string, parts []string) map[string]string {
	return map[string]string{
		"layout":       "L:v1",
		"archive":      "a.tar",
		"archive:tag":  "a.tar:v1",
		"archive@dgst": "a.tar@" + dgst,
		"stdin":        "- < a.tar",
		"stdin:tag":    "-:v1 < a.tar",
		"stdin@dgst":   "-@" + dgst + " < a.tar",
		"sha256 list":  "s.tar.sha256",
		"parts":        strings.Join(parts, " "),
	}
}

// rcSh runs ocibundle through sh (for pipes and redirections) in dir.
func rcSh(t *testing.T, dir, script string) result {
	t.Helper()
	return runCmd(t, dir, nil, "sh", "-c", strings.ReplaceAll(script, "OCB", bin))
}

func TestReceiveEverySource(t *testing.T) {
	work, dgst := rcSetup(t)
	parts, err := filepath.Glob(filepath.Join(work, "s.tar.[0-9][0-9][0-9]"))
	if err != nil || len(parts) < 2 {
		t.Fatalf("the split export made %d parts, want several (%v)", len(parts), err)
	}
	for i := range parts {
		parts[i] = filepath.Base(parts[i])
	}
	for name, src := range rcSources(dgst, parts) {
		t.Run(name, func(t *testing.T) {
			if r := rcSh(t, work, "OCB ls "+src); r.code != 0 || !strings.Contains(r.stdout, dgst) {
				t.Errorf("ls %s: exit %d, stdout %q, stderr %q; want 0 and %s", src, r.code, r.stdout, r.stderr, dgst)
			}
			r := rcSh(t, work, "OCB inspect --json "+src)
			var in struct{ Digest string }
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &in) != nil || in.Digest != dgst {
				t.Errorf("inspect --json %s: exit %d, digest %q, stderr %q; want 0 and %s", src, r.code, in.Digest, r.stderr, dgst)
			}
			out := filepath.Join(t.TempDir(), "out")
			sums := filepath.Join(t.TempDir(), "SHA256SUMS")
			if r := rcSh(t, work, "OCB files --format sha256sum "+src+" > "+sums); r.code != 0 {
				t.Fatalf("files %s: exit %d: %s", src, r.code, r.stderr)
			}
			if r := rcSh(t, work, "OCB extract -q -o "+out+" "+src); r.code != 0 {
				t.Fatalf("extract %s: exit %d: %s", src, r.code, r.stderr)
			}
			// The real sha256sum checks the list against the extracted tree.
			r = runCmd(t, out, nil, "sha256sum", "-c", "--strict", sums)
			if r.code != 0 || strings.Count(r.stdout, ": OK") != 4 {
				t.Errorf("sha256sum -c of files %s in the extracted tree: exit %d\n%s%s", src, r.code, r.stdout, r.stderr)
			}
			// A subset: one file and a directory's content.
			sub := filepath.Join(t.TempDir(), "sub")
			if r := rcSh(t, work, "OCB extract -q -o "+sub+" "+src+" app/run 'app/docs/**'"); r.code != 0 {
				t.Fatalf("extract %s PATTERN...: exit %d: %s", src, r.code, r.stderr)
			}
			for _, p := range []string{"app/run", "app/docs/a.md", "app/docs/sub/b.md"} {
				if _, err := os.Lstat(filepath.Join(sub, p)); err != nil {
					t.Errorf("extract %s with patterns: %s missing: %v", src, p, err)
				}
			}
			for _, p := range []string{"app/bin/app", "app/name with space.txt"} {
				if _, err := os.Lstat(filepath.Join(sub, p)); err == nil {
					t.Errorf("extract %s with patterns wrote %s, which no pattern selects", src, p)
				}
			}
		})
	}
}

// TestReceiveNamedPipe: a named pipe (mkfifo, a shell's <(…)) is read
// as standard input is, once, forward.
func TestReceiveNamedPipe(t *testing.T) {
	work, dgst := rcSetup(t)
	want := mustRun(t, work, nil, "files", "--format", "sha256sum", "a.tar")
	for _, cmd := range []string{"ls", "files --format sha256sum", "inspect --json"} {
		r := rcSh(t, work, "rm -f p && mkfifo p && { cat a.tar > p & } && OCB "+cmd+" p")
		if r.code != 0 || !strings.Contains(r.stdout, dgst) && !strings.Contains(cmd, "files") || strings.Contains(cmd, "files") && r.stdout != want {
			t.Errorf("%s of a named pipe: exit %d, stdout %q, stderr %q", cmd, r.code, r.stdout, r.stderr)
		}
	}
}

func TestReceiveFilesAndExtractJSON(t *testing.T) {
	work, _ := rcSetup(t)
	var files struct {
		Files []struct{ Path, Type, Mode, Link, SHA256 string }
	}
	if err := json.Unmarshal([]byte(mustRun(t, work, nil, "files", "--json", "a.tar:v1")), &files); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range files.Files {
		if f.Type == "file" {
			want[f.Path] = f.SHA256
		}
		if f.Path == "app/run" && (f.Type != "symlink" || f.Link != "bin/app") {
			t.Errorf("files: app/run = %+v, want a symlink to bin/app", f)
		}
		if f.Path == "app/bin/app" && f.Mode != "0755" {
			t.Errorf("files: app/bin/app mode %s, want 0755", f.Mode)
		}
	}
	var ex struct {
		Entries []struct{ Path, Type, SHA256 string }
	}
	out := filepath.Join(work, "out")
	if err := json.Unmarshal([]byte(mustRun(t, work, nil, "extract", "--json", "-o", out, "a.tar:v1")), &ex); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ex.Entries {
		if e.Type != "file" {
			continue
		}
		n++
		if e.SHA256 == "" || e.SHA256 != want[e.Path] {
			t.Errorf("extract --json: %s sha256 %q, files says %q", e.Path, e.SHA256, want[e.Path])
		}
	}
	if n != 4 || len(want) != 4 {
		t.Errorf("extract --json listed %d files, files %d; want 4", n, len(want))
	}
}

func TestReceiveExtractPatternMatchesNothing(t *testing.T) {
	work, _ := rcSetup(t)
	out := filepath.Join(work, "out")
	r := run(t, work, nil, "extract", "-o", out, "a.tar:v1", "app/docs/**", "nope/*")
	if r.code != 1 || !strings.Contains(r.stderr, "nope/*") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("extract with a pattern matching nothing: exit %d, stderr %q; want 1 and one line naming nope/*", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed extract left %s", out)
	}
	if r := run(t, work, nil, "extract", "-o", out, "a.tar:v1", "[bad"); r.code != 2 {
		t.Errorf("extract with a malformed pattern: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
}

// TestReceiveSkopeoArchive reads skopeo's oci-archive copy of a bundle in
// place, from the file and from standard input.
func TestReceiveSkopeoArchive(t *testing.T) {
	skopeo := requireTool(t, "skopeo")
	work, dgst := rcSetup(t)
	if r := runCmd(t, work, nil, skopeo, "copy", "--preserve-digests", "oci:L:v1", "oci-archive:sk.tar:v1"); r.code != 0 {
		t.Fatalf("skopeo copy: exit %d\n%s", r.code, r.stderr)
	}
	want := mustRun(t, work, nil, "files", "--format", "sha256sum", "L:v1")
	for _, src := range []string{"sk.tar", "sk.tar:v1", "- < sk.tar"} {
		r := rcSh(t, work, "OCB files --format sha256sum "+src)
		if r.code != 0 || r.stdout != want {
			t.Errorf("files %s (skopeo's archive): exit %d, stderr %q, stdout %q; want %q", src, r.code, r.stderr, r.stdout, want)
		}
	}
	if r := rcSh(t, work, "OCB ls sk.tar"); r.code != 0 || !strings.Contains(r.stdout, dgst) {
		t.Errorf("ls sk.tar: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

// TestReceivePeerArchives: the archives of skopeo (oci-archive, gzip and
// zstd), regctl (image export) and oras (backup), read in place from the
// file and from standard input, list the same bundles and files as the
// layout import makes of them, and extract the tree their file list
// describes (checked by sha256sum -c).
func TestReceivePeerArchives(t *testing.T) {
	n := 0
	for _, p := range buildPeerTargets(t) {
		if !p.archive {
			continue
		}
		n++
		t.Run(p.name, func(t *testing.T) {
			work := t.TempDir()
			lay := filepath.Join(work, "imported")
			mustRun(t, work, nil, "import", "-q", "-o", lay, p.path)
			var ls struct {
				Bundles []struct{ Digest string }
			}
			if err := json.Unmarshal([]byte(mustRun(t, work, nil, "ls", "--json", p.path)), &ls); err != nil || len(ls.Bundles) == 0 {
				t.Fatalf("ls --json %s: %v, %d bundles", p.path, err, len(ls.Bundles))
			}
			var fromLayout struct{ Bundles []struct{ Digest string } }
			if err := json.Unmarshal([]byte(mustRun(t, work, nil, "ls", "--json", lay)), &fromLayout); err != nil || len(fromLayout.Bundles) != len(ls.Bundles) {
				t.Fatalf("ls of the archive lists %d bundles, of the imported layout %d (%v)", len(ls.Bundles), len(fromLayout.Bundles), err)
			}
			sel := "@" + ls.Bundles[0].Digest
			want := mustRun(t, work, nil, "files", "--format", "sha256sum", "--platform", "linux/amd64", lay+sel)
			if want == "" {
				t.Fatalf("files of %s lists no file", lay+sel)
			}
			for _, src := range []string{p.path + sel, "-" + sel + " < " + p.path} {
				r := rcSh(t, work, "OCB files --format sha256sum --platform linux/amd64 "+src)
				if r.code != 0 || r.stdout != want {
					t.Errorf("files %s: exit %d, stderr %q\n%s\nwant (as imported)\n%s", src, r.code, r.stderr, r.stdout, want)
				}
			}
			sums := filepath.Join(work, "SHA256SUMS")
			if err := os.WriteFile(sums, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(work, "out")
			mustRun(t, work, nil, "extract", "-q", "--platform", "linux/amd64", "-o", out, p.path+sel)
			if r := runCmd(t, out, nil, "sha256sum", "-c", "--strict", sums); r.code != 0 {
				t.Errorf("sha256sum -c in the tree extracted from %s: exit %d\n%s%s", p.path, r.code, r.stdout, r.stderr)
			}
		})
	}
	if n < 4 {
		t.Errorf("%d peer archives built, want 4 (skopeo gzip and zstd, regctl, oras backup)", n)
	}
}

// TestReceiveStdinOrder: an archive with a big layer before index.json (as
// peers write) cannot be read from standard input: exit 2, one line saying
// to read it from a file; as a file it reads.
func TestReceiveStdinOrder(t *testing.T) {
	work := t.TempDir()
	xtWrite(t, filepath.Join(work, "in/big"), strings.Repeat("0123456789abcdef", 512<<10), 0o644) // 8 MiB
	mustRun(t, work, nil, "pack", "-q", "-c", "none", "-o", "L", "-t", "v1", "in/big")
	if r := runCmd(t, work, nil, "tar", "-C", "L", "-cf", "peer.tar", "blobs", "index.json", "oci-layout"); r.code != 0 {
		t.Fatalf("tar: %s", r.stderr)
	}
	r := rcSh(t, work, "OCB files - < peer.tar")
	if r.code != 2 || !strings.Contains(r.stderr, "read the archive from a file") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("files - of blobs before index.json: exit %d, stderr %q; want 2 and one line saying to read it from a file", r.code, r.stderr)
	}
	if r := run(t, work, nil, "files", "peer.tar"); r.code != 0 || !strings.Contains(r.stdout, "big") {
		t.Errorf("files peer.tar: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
