//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliBundle packs a one-file bundle into work/L tagged v1 and returns the
// layout path.
func cliBundle(t *testing.T, work string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(work, "f.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lay := filepath.Join(work, "L")
	mustRun(t, work, nil, "pack", "-o", lay, "-t", "v1", "f.txt")
	return lay
}

// oneLine fails unless s is exactly one line naming every want.
func oneLine(t *testing.T, what, s string, want ...string) {
	t.Helper()
	if strings.Count(strings.TrimRight(s, "\n"), "\n") != 0 || s == "" {
		t.Errorf("%s: stderr is not one line: %q", what, s)
	}
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s: stderr %q does not name %q", what, s, w)
		}
	}
}

// TestCLIExitCodes: the same kind of mistake gives the same code in every
// command (issue 11: pack -a badpair exited 1 and -c lz4 2, a malformed
// digest 1, a mistyped layout path 3 with Go's raw stat message).
func TestCLIExitCodes(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)
	for _, tc := range []struct {
		name string
		args []string
		code int
		says []string
	}{
		{"malformed K=V", []string{"pack", "-o", lay, "-a", "badpair", "f.txt"}, 2, []string{"badpair", "K=V"}},
		{"unknown codec", []string{"pack", "-o", lay, "-c", "lz4", "f.txt"}, 2, []string{"--compression", "lz4", "zstd, gzip or none"}},
		{"unknown level", []string{"pack", "-o", lay, "-l", "worst", "f.txt"}, 2, []string{"--level", "fastest, default, better or best"}},
		{"bad progress", []string{"--progress", "bogus", "ls", lay}, 2, []string{"--progress", "bogus", "auto, always or never"}},
		{"bad progress after", []string{"ls", lay, "--progress", "bogus"}, 2, []string{"--progress", "auto, always or never"}},
		{"malformed digest", []string{"inspect", lay + "@sha256:zz"}, 2, []string{"sha256:zz", "invalid digest"}},
		{"malformed tag", []string{"inspect", lay + ":bad tag!"}, 2, []string{"invalid tag"}},
		{"malformed --digest", []string{"verify", "--digest", "sha256:zz", lay}, 2, []string{"sha256:zz"}},
		{"missing argument", []string{"extract", "-o", filepath.Join(work, "x")}, 2, []string{"REFERENCE"}},
		{"unknown flag", []string{"ls", "--bogus", lay}, 2, []string{"bogus"}},
		{"malformed registry reference push", []string{"push", lay + ":v1", "BAD REF//"}, 2, []string{"BAD REF//", "invalid reference"}},
		{"malformed registry reference pull", []string{"pull", "-o", filepath.Join(work, "P"), "BAD REF//"}, 2, []string{"BAD REF//", "invalid reference"}},
		{"jobs 0", []string{"pack", "-o", lay, "--jobs", "0", "f.txt"}, 2, []string{"--jobs 0", "1 or more"}},
		{"jobs negative", []string{"pack", "-o", lay, "--jobs", "-1", "f.txt"}, 2, []string{"--jobs -1", "1 or more"}},
		{"concurrency 0", []string{"push", "--concurrency", "0", lay + ":v1", "127.0.0.1:1/r"}, 2, []string{"--concurrency 0", "1 or more"}},
		{"missing layout", []string{"inspect", filepath.Join(work, "nosuch") + ":v1"}, 3, []string{"nosuch", "no such file or directory"}},
		{"missing layout ls", []string{"ls", filepath.Join(work, "nosuch")}, 3, []string{"nosuch", "no such file or directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, work, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("ocibundle %s: exit %d, want %d\nstderr: %s", strings.Join(tc.args, " "), r.code, tc.code, r.stderr)
			}
			oneLine(t, tc.name, r.stderr, tc.says...)
			if strings.Contains(r.stderr, "stat ") || strings.Contains(r.stderr, "usage: ") {
				t.Errorf("%s: stderr %q has a raw Go prefix", tc.name, r.stderr)
			}
			if strings.Count(r.stderr, "invalid reference") > 1 {
				t.Errorf("%s: stderr %q says invalid reference twice", tc.name, r.stderr)
			}
		})
	}
}

// TestCLIFlagsAnywhere: flags after the arguments are flags, in every
// command (issue 11: verify L:v1 --deep, export … --split, import …
// --force were read as arguments), and -- ends the flags.
func TestCLIFlagsAnywhere(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)

	r := run(t, work, nil, "verify", lay+":v1", "--deep", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"ok": true`) {
		t.Fatalf("verify L:v1 --deep --json: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	archive := filepath.Join(work, "x.tar")
	mustRun(t, work, nil, "export", "-o", archive, lay+":v1", "--split", "1K")
	for _, p := range []string{archive + ".000", archive + ".001", archive + ".sha256"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("export … --split 1K: %v", err)
		}
	}
	if _, err := os.Stat(archive); err == nil {
		t.Errorf("export … --split 1K wrote the whole archive %s too", archive)
	}

	// S has tag v1 on another bundle: import must be told --force, and is,
	// after the arguments.
	if err := os.WriteFile(filepath.Join(work, "g.txt"), []byte("other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := filepath.Join(work, "S")
	mustRun(t, work, nil, "pack", "-o", s, "-t", "v1", "g.txt")
	if r := run(t, work, nil, "import", "-o", s, archive+".sha256"); r.code != 1 {
		t.Fatalf("import into a layout whose v1 differs, no --force: exit %d, want 1\nstderr: %s", r.code, r.stderr)
	}
	mustRun(t, work, nil, "import", "-o", s, archive+".sha256", "--force")
	want := strings.TrimSpace(mustRun(t, work, nil, "inspect", lay+":v1", "--json"))
	got := strings.TrimSpace(mustRun(t, work, nil, "inspect", "--json", s+":v1"))
	if gotD, wantD := jsonField(t, got, "digest"), jsonField(t, want, "digest"); gotD != wantD {
		t.Errorf("after import --force, S:v1 = %s, want %s", gotD, wantD)
	}

	// -- ends the flags: a layout named -L.
	mustRun(t, work, nil, "pack", "-o", "./-L", "f.txt")
	mustRun(t, work, nil, "ls", "--", "-L")
	if r := run(t, work, nil, "ls", "-L"); r.code != 2 {
		t.Errorf("ls -L: exit %d, want 2 (an unknown flag)", r.code)
	}
}

// TestCLIGlobalFlagsAnywhere: -q and --progress work before and after the
// command name (issue 11: before it they were ignored).
func TestCLIGlobalFlagsAnywhere(t *testing.T) {
	work := t.TempDir()
	// Big enough at -l best for the bar to be drawn (it is throttled).
	if err := os.WriteFile(filepath.Join(work, "f.txt"), bigText(8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--progress", "always", "pack", "-l", "best", "-o", "P1", "f.txt"},
		{"pack", "-o", "P2", "-l", "best", "f.txt", "--progress=always"},
	} {
		if r := run(t, work, nil, args...); r.code != 0 || r.stderr == "" {
			t.Errorf("ocibundle %s: exit %d, stderr %q: want a progress bar", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	for _, args := range [][]string{
		{"-q", "--progress", "always", "pack", "-l", "best", "-o", "P3", "f.txt"},
		{"--progress", "always", "pack", "-l", "best", "-o", "P4", "f.txt", "-q"},
	} {
		if r := run(t, work, nil, args...); r.code != 0 || r.stderr != "" {
			t.Errorf("ocibundle %s: exit %d, stderr %q: want nothing (quiet)", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// jsonField returns the string value of key in the JSON object doc.
func jsonField(t *testing.T, doc, key string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, doc)
	}
	s, _ := m[key].(string)
	return s
}

// TestCLIFlagsAnywhereRegistry: push and pull read flags after their
// arguments too (issue 11: pull REG/R:v1 -o DIR read -o DIR as arguments).
func TestCLIFlagsAnywhereRegistry(t *testing.T) {
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	_, lay, d := regPack(t, work)
	repo := reg.addr + "/site/anywhere"
	out := mustRun(t, work, env, "push", lay+":1.0", repo+":v1", "--plain-http", "--json")
	checkSchema(t, "push", "push", jsonObject(t, "push", out))
	pulled := filepath.Join(work, "pulled")
	out = mustRun(t, work, env, "pull", repo+":v1", "-o", pulled, "--plain-http", "--json")
	checkSchema(t, "pull", "pull", jsonObject(t, "pull", out))
	if got := jsonField(t, out, "digest"); got != d.String() {
		t.Errorf("pull REPO:v1 -o DIR --plain-http --json: digest %s, want %s", got, d)
	}
	mustRun(t, work, nil, "verify", pulled+":v1")
}

// TestCLIMistakesAgree: a mistyped path and a tag that is not there give
// the same class, and one line naming the object without Go's system-call
// prefix, in every command that reads a layout, an archive or its parts
// (README "Exit codes": 3 for a path, tag or digest that names nothing, as
// pull says of a registry object). inspect, tag, extract and export said 1
// (content) for LAYOUT@DIGEST of an absent digest. verify
// said "stat L: …", exited 1 for a missing tag and 2 (with "verify: verify:")
// for a missing part, where import said 3 and "open X: …".
func TestCLIMistakesAgree(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)
	archive := filepath.Join(work, "x.tar")
	mustRun(t, work, nil, "export", "-o", archive, lay+":v1")
	mustRun(t, work, nil, "export", "-o", filepath.Join(work, "s.tar"), "--split", "1K", lay+":v1")
	nosuch := filepath.Join(work, "nosuch")
	part0, missingPart := filepath.Join(work, "s.tar.000"), filepath.Join(work, "nosuch.001")
	absent := "sha256:" + strings.Repeat("0", 64) // a digest, like pull's REPO@DIGEST, that names nothing
	for _, tc := range []struct {
		name string
		args []string
		code int
		says []string
	}{
		{"verify missing layout", []string{"verify", nosuch}, 3, []string{"nosuch", "no such file or directory"}},
		{"verify missing layout tag", []string{"verify", nosuch + ":v1"}, 3, []string{"nosuch", "no such file or directory"}},
		{"verify missing archive", []string{"verify", nosuch + ".tar"}, 3, []string{"nosuch.tar", "no such file or directory"}},
		{"import missing archive", []string{"import", "-o", filepath.Join(work, "I1"), nosuch + ".tar"}, 3, []string{"nosuch.tar", "no such file or directory"}},
		{"import missing checksum file", []string{"import", "-o", filepath.Join(work, "I2"), nosuch + ".sha256"}, 3, []string{"nosuch.sha256", "no such file or directory"}},
		{"verify missing part", []string{"verify", part0, missingPart}, 3, []string{"nosuch.001", "no such file or directory"}},
		{"import missing part", []string{"import", "-o", filepath.Join(work, "I3"), part0, missingPart}, 3, []string{"nosuch.001", "no such file or directory"}},
		{"extract missing archive", []string{"extract", "-o", filepath.Join(work, "E1"), nosuch + ".tar"}, 3, []string{"nosuch.tar", "no such file or directory"}},
		{"inspect missing tag", []string{"inspect", lay + ":nope"}, 3, []string{"nope", "tag not found"}},
		{"export missing tag", []string{"export", "-o", filepath.Join(work, "y.tar"), lay + ":nope"}, 3, []string{"nope", "tag not found"}},
		{"extract missing tag", []string{"extract", "-o", filepath.Join(work, "E2"), lay + ":nope"}, 3, []string{"nope", "tag not found"}},
		{"tag missing tag", []string{"tag", lay + ":nope", "v2"}, 3, []string{"nope", "tag not found"}},
		{"verify missing tag", []string{"verify", lay + ":nope"}, 3, []string{"nope"}},
		{"verify missing tag in archive", []string{"verify", archive + ":nope"}, 3, []string{"nope"}},
		{"inspect missing digest", []string{"inspect", lay + "@" + absent}, 3, []string{absent}},
		{"export missing digest", []string{"export", "-o", filepath.Join(work, "z.tar"), lay + "@" + absent}, 3, []string{absent}},
		{"extract missing digest", []string{"extract", "-o", filepath.Join(work, "E3"), lay + "@" + absent}, 3, []string{absent}},
		{"tag missing digest", []string{"tag", lay + "@" + absent, "v3"}, 3, []string{absent}},
		{"push missing digest", []string{"push", lay + "@" + absent, "127.0.0.1:1/r"}, 3, []string{absent}},
		{"verify missing digest", []string{"verify", lay + "@" + absent}, 3, []string{absent}},
		{"pack into a file's child", []string{"pack", "-o", filepath.Join(work, "f.txt", "L"), filepath.Join(work, "f.txt")}, 3, []string{"f.txt", "not a directory"}},
		{"import into a file's child", []string{"import", "-o", filepath.Join(work, "f.txt", "L"), archive}, 3, []string{"f.txt", "not a directory"}},
		{"export into a file's child", []string{"export", "-o", filepath.Join(work, "f.txt", "x.tar"), lay + ":v1"}, 3, []string{"f.txt", "not a directory"}},
		{"extract into a file's child", []string{"extract", "-o", filepath.Join(work, "f.txt", "D"), lay + ":v1"}, 3, []string{"f.txt", "not a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, work, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("ocibundle %s: exit %d, want %d\nstderr: %s", strings.Join(tc.args, " "), r.code, tc.code, r.stderr)
			}
			oneLine(t, tc.name, r.stderr, tc.says...)
			for _, raw := range []string{"stat ", "open ", "lstat ", "mkdir ", "rename ", "verify: verify:", "import: import:"} {
				if strings.Contains(r.stderr, raw) {
					t.Errorf("%s: stderr %q has %q", tc.name, r.stderr, raw)
				}
			}
		})
	}
}

// TestCLIAmbiguousAgree: a bare LAYOUT that holds several bundles where a
// command needs one is a usage error (2) in every command. inspect and
// extract said so; verify --digest exited 1 (DIGEST_PIN_AMBIGUOUS), as if
// the content were bad.
func TestCLIAmbiguousAgree(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)
	writeFile(t, filepath.Join(work, "g.txt"), []byte("other\n"), 0o644)
	d := strings.TrimSpace(mustRun(t, work, nil, "pack", "-o", lay, "-t", "v2", "g.txt"))
	for _, args := range [][]string{
		{"inspect", lay},
		{"extract", "-o", filepath.Join(work, "E"), lay},
		{"verify", "--digest", d, lay},
	} {
		r := run(t, work, nil, args...)
		if r.code != 2 {
			t.Errorf("ocibundle %s: exit %d, want 2 (name one bundle)\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		oneLine(t, strings.Join(args, " "), r.stderr, "LAYOUT:TAG")
	}
}

// TestCLIExportToDirectory: export -o naming a directory is a usage error
// (2) said before anything is read, as import says of an ARCHIVE that is a
// directory; it exited 3 after writing the whole archive, with Go's
// "rename ./.DIR.tmp-… DIR: file exists" naming the temporary file.
func TestCLIExportToDirectory(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)
	dir := filepath.Join(work, "media")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := run(t, work, nil, "export", "-o", dir, lay+":v1")
	if r.code != 2 {
		t.Errorf("export -o DIR: exit %d, want 2\nstderr: %s", r.code, r.stderr)
	}
	oneLine(t, "export -o DIR", r.stderr, dir, "directory")
	if strings.Contains(r.stderr, ".tmp-") || strings.Contains(r.stderr, "rename ") {
		t.Errorf("export -o DIR: stderr %q names the temporary file or the system call", r.stderr)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 3 { // f.txt, L, media
		t.Errorf("export -o DIR left files beside it: %v", entries)
	}
}

// TestCLIHelpSaysWhatREADMESays: each command's --help names the argument
// forms and file keys the README documents (extract's help named only a
// layout reference; pack's --annotation-file help left out $config).
func TestCLIHelpSaysWhatREADMESays(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"extract", []string{"ARCHIVE[:TAG|@DIGEST]", "| -"}},
		{"pack", []string{`"$manifest"`, `"$index"`, `"$config"`, `"TITLE"`}},
		{"import", []string{"ARCHIVE", "PART...", "FILE.sha256"}},
		{"verify", []string{"ARCHIVE", "PARTS...", "FILE.sha256"}},
	} {
		out := mustRun(t, "", nil, tc.cmd, "--help")
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("ocibundle %s --help does not say %q:\n%s", tc.cmd, w, out)
			}
		}
	}
}

// TestCLIArchiveErrorsNameTheArchive: a truncated archive is refused by
// import, verify and extract alike (1), each naming the archive. import
// said only "import: bad archive: truncated after N bytes".
func TestCLIArchiveErrorsNameTheArchive(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)
	whole := filepath.Join(work, "x.tar")
	mustRun(t, work, nil, "export", "-o", whole, lay+":v1")
	data, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(work, "cut.tar")
	writeFile(t, cut, data[:3000], 0o644)
	for _, args := range [][]string{
		{"import", "-o", filepath.Join(work, "I"), cut},
		{"verify", cut},
		{"extract", "-o", filepath.Join(work, "E"), cut},
	} {
		r := run(t, work, nil, args...)
		if r.code != 1 {
			t.Errorf("ocibundle %s: exit %d, want 1\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		oneLine(t, strings.Join(args, " "), r.stderr, cut)
	}
}
