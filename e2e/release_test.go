//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// releaseRun runs scripts/release.sh for two targets (make release builds
// six; two keep the test short and still cross-compile) into out, with
// umask, and returns the version it made.
func releaseRun(t *testing.T, out, umask string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", "umask "+umask+" && exec scripts/release.sh")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "RELEASE_OUT="+out, "RELEASE_TARGETS=linux/amd64 windows/arm64", "VERSION=")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/release.sh: %v\n%s", err, b)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "release: v"); ok {
			return "v" + v
		}
	}
	t.Fatalf("scripts/release.sh did not name the version:\n%s", b)
	return ""
}

// readTree returns every regular file below dir by its slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestReleaseReproducible: make release twice (another output directory,
// another umask) gives identical bytes: the binaries and SHA256SUMS, the
// layout (so the same manifest digest) and its export archive. What it
// publishes checks out as the README says: sha256sum -c, ocibundle verify
// --digest on the archive; and oras pull (of the layout, and of a registry
// it was pushed to) and ocibundle extract of the archive give the files.
func TestReleaseReproducible(t *testing.T) {
	oras := requireTool(t, "oras")
	work := t.TempDir()
	d1, d2 := filepath.Join(work, "d1"), filepath.Join(work, "a", "d2")
	v := releaseRun(t, d1, "022")
	if v2 := releaseRun(t, d2, "077"); v2 != v {
		t.Fatalf("second run made version %s, want %s", v2, v)
	}
	t1, t2 := readTree(t, d1), readTree(t, d2)
	name := "ocibundle-" + v
	for _, f := range []string{
		name + "/SHA256SUMS", name + "/" + name + "-linux-amd64", name + "/" + name + "-windows-arm64.exe",
		"MANIFEST_DIGEST", name + ".tar", name + ".tar.sha256", "oci/index.json",
	} {
		if _, ok := t1[f]; !ok {
			t.Errorf("release has no %s", f)
		}
	}
	if len(t1) != len(t2) {
		t.Errorf("the two runs wrote %d and %d files", len(t1), len(t2))
	}
	for f, b := range t1 {
		if t2[f] != b {
			t.Errorf("%s differs between the two runs", f)
		}
	}
	t.Logf("SHA256SUMS:\n%smanifest %s", t1[name+"/SHA256SUMS"], t1["MANIFEST_DIGEST"])

	check := func(dir, name string, args ...string) {
		t.Helper()
		if r := runCmd(t, dir, nil, name, args...); r.code != 0 {
			t.Errorf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	check(filepath.Join(d1, name), "sha256sum", "-c", "SHA256SUMS")
	digest := strings.TrimSpace(t1["MANIFEST_DIGEST"])
	checkDownload(t, d1, name, digest)
	// The files, from the layout and from a registry it was pushed to with
	// oras, and from the archive with extract: each the release's.
	reg := startDistribution(t, "")
	repo := reg.addr + "/ocibundle:" + v
	check(d1, bin, "push", "-q", "--plain-http", "oci:"+v, repo)
	for _, get := range []struct {
		what string
		args []string
	}{
		{"oras pull --oci-layout", []string{oras, "pull", "--oci-layout", "oci:" + v, "-o"}},
		{"oras pull", []string{oras, "pull", "--plain-http", repo, "-o"}},
		{"ocibundle extract", []string{bin, "extract", "-q", name + ".tar@" + digest, "-o"}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		check(d1, get.args[0], append(get.args[1:], out)...)
		got := readTree(t, out)
		for f, b := range t1 {
			if strings.HasPrefix(f, name+"/") && got[f] != b {
				t.Errorf("%s: %s is not the release's", get.what, f)
			}
		}
	}
	out, err := exec.Command(filepath.Join(d1, name, name+"-linux-amd64"), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "ocibundle "+v+"\n") {
		t.Errorf("the linux/amd64 release binary's version = %q (%v), want ocibundle %s", out, err, v)
	}
}

// downloadRecipe is the README's "Checking a download", line by line as it
// is written there (V and sha256:… as placeholders); a line run in a
// subdirectory is written "cd DIR && LINE".
var downloadRecipe = []struct{ dir, line string }{
	{"", "ocibundle verify --deep --digest sha256:… ocibundle-V.tar"},
	{"", "sha256sum -c ocibundle-V.tar.sha256"},
	{"", "ocibundle extract -o release ocibundle-V.tar@sha256:…"},
	{"release/ocibundle-V", "sha256sum -c --ignore-missing SHA256SUMS"},
}

// checkDownload runs downloadRecipe, after checking that README.md says
// each line, in a directory holding only the two files a user downloads
// from dist (the archive and its .sha256) (fix-b 2: the README's
// `extract -o .` could not work, "." holding the archive).
func checkDownload(t *testing.T, dist, name, digest string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	dl := t.TempDir()
	for _, f := range []string{name + ".tar", name + ".tar.sha256"} {
		b, err := os.ReadFile(filepath.Join(dist, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dl, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fill := strings.NewReplacer("ocibundle-V", name, "sha256:…", digest)
	for _, step := range downloadRecipe {
		said := step.line
		if step.dir != "" {
			said = "cd " + step.dir + " && " + step.line
		}
		if !strings.Contains(string(readme), "\n"+said+" ") {
			t.Errorf("README.md does not say %q", said)
		}
		args := strings.Fields(fill.Replace(step.line))
		if args[0] == "ocibundle" {
			args[0] = bin
		}
		if r := runCmd(t, filepath.Join(dl, fill.Replace(step.dir)), nil, args[0], args[1:]...); r.code != 0 {
			t.Errorf("%s: exit %d\n%s%s", said, r.code, r.stdout, r.stderr)
		}
	}
}
