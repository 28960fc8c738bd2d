//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// trPack packs one small file with content into lay, tagged v1, with extra
// pack flags, and returns the digest and the run's stderr.
func trPack(t *testing.T, work, lay, content string, flags ...string) (digest.Digest, string) {
	t.Helper()
	src := filepath.Join(work, "src-"+content)
	writeFile(t, filepath.Join(src, "file.txt"), []byte(content+"\n"), 0o644)
	args := append(append([]string{"pack", "-o", lay, "-t", "v1"}, flags...), src)
	r := run(t, work, nil, args...)
	if r.code != 0 {
		t.Fatalf("ocibundle %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return digestOut(t, r.stdout), r.stderr
}

// trIndex reads a layout's index.json.
func trIndex(t *testing.T, lay string) ocispec.Index {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(lay, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// trEntry returns the index.json entry tag names.
func trEntry(t *testing.T, lay, tag string) ocispec.Descriptor {
	t.Helper()
	for _, m := range trIndex(t, lay).Manifests {
		if m.Annotations[ocispec.AnnotationRefName] == tag {
			return m
		}
	}
	t.Fatalf("%s: no entry tagged %s", lay, tag)
	return ocispec.Descriptor{}
}

// trAnnotateEntry adds the entry annotation k=v to the entry tag names,
// as a peer tool (or docker save) may write it.
func trAnnotateEntry(t *testing.T, lay, tag, k, v string) {
	t.Helper()
	idx := trIndex(t, lay)
	for i, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] == tag {
			idx.Manifests[i].Annotations[k] = v
		}
	}
	data, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lay, "index.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTagRuleAuthorsMove: pack and tag author, so they move a tag, and say
// so: `moved TAG: OLD -> NEW` on stderr, `moved` in the JSON result.
func TestTagRuleAuthorsMove(t *testing.T) {
	work := t.TempDir()
	lay := filepath.Join(work, "layout")
	a, stderr := trPack(t, work, lay, "a")
	if strings.Contains(stderr, "moved") {
		t.Errorf("first pack: stderr %q, want no move", stderr)
	}
	b, stderr := trPack(t, work, lay, "b")
	if want := "moved v1: " + a.String() + " -> " + b.String(); !strings.Contains(stderr, want) {
		t.Errorf("re-pack of v1: stderr %q, want %q", stderr, want)
	}
	r := run(t, work, nil, "tag", "--json", lay+"@"+a.String(), "v1")
	if want := "moved v1: " + b.String() + " -> " + a.String(); r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("tag moving v1: exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	var res struct {
		Moved []struct {
			Tag      string
			From, To digest.Digest
		} `json:"moved"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Moved) != 1 || res.Moved[0].Tag != "v1" || res.Moved[0].From != b || res.Moved[0].To != a {
		t.Errorf("tag --json = %s (%v), want moved [{v1 %s %s}]", r.stdout, err, b, a)
	}
	if got := trEntry(t, lay, "v1").Digest; got != a {
		t.Errorf("v1 names %s after tag, want %s", got, a)
	}
}

// TestTagRuleImportRefuses: import receives, so a tag that names another
// manifest is refused without --force (exit 1, both digests named, nothing
// merged) and moved with it; index.json's own annotations and the entry
// annotations travel with an export of a selection and are kept by import.
func TestTagRuleImportRefuses(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join(work, "src")
	a, _ := trPack(t, work, src, "a", "--index-annotation", "com.example.site=north")
	trAnnotateEntry(t, src, "v1", "com.example.note", "kept")
	archive := filepath.Join(work, "v1.tar")
	mustRun(t, work, nil, "export", "-o", archive, src+":v1")

	dst := filepath.Join(work, "dst")
	mustRun(t, work, nil, "import", "-o", dst, archive)
	idx := trIndex(t, dst)
	if idx.Annotations["com.example.site"] != "north" {
		t.Errorf("import of an export of L:v1: index.json annotations %v, want com.example.site=north", idx.Annotations)
	}
	if e := trEntry(t, dst, "v1"); e.Annotations["com.example.note"] != "kept" {
		t.Errorf("import of an export of L:v1: entry annotations %v, want com.example.note=kept", e.Annotations)
	}

	// A whole-layout archive always carried them; import dropped them.
	whole := filepath.Join(work, "whole.tar")
	mustRun(t, work, nil, "export", "-o", whole, src)
	dstWhole := filepath.Join(work, "dst-whole")
	mustRun(t, work, nil, "import", "-o", dstWhole, whole)
	if idx := trIndex(t, dstWhole); idx.Annotations["com.example.site"] != "north" {
		t.Errorf("import of a whole-layout archive: index.json annotations %v, want com.example.site=north", idx.Annotations)
	}

	other := filepath.Join(work, "other")
	b, _ := trPack(t, work, other, "b")
	before, err := os.ReadFile(filepath.Join(other, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, work, nil, "import", "-o", other, archive)
	if r.code != 1 || !strings.Contains(r.stderr, a.String()) || !strings.Contains(r.stderr, b.String()) {
		t.Errorf("import moving v1 without --force: exit %d, stderr %q, want 1 naming %s and %s", r.code, r.stderr, a, b)
	}
	if after, _ := os.ReadFile(filepath.Join(other, "index.json")); string(after) != string(before) {
		t.Errorf("refused import changed index.json:\n%s\nwas\n%s", after, before)
	}
	r = run(t, work, nil, "import", "--force", "--json", "-o", other, archive)
	if r.code != 0 {
		t.Fatalf("import --force: exit %d: %s", r.code, r.stderr)
	}
	if got := trEntry(t, other, "v1").Digest; got != a {
		t.Errorf("import --force: v1 names %s, want %s", got, a)
	}
	// A forced move is said as pack and tag say one: on stderr and in JSON.
	if want := fmt.Sprintf("moved v1: %s -> %s\n", b, a); !strings.Contains(r.stderr, want) {
		t.Errorf("import --force: stderr %q, want the line %q", r.stderr, want)
	}
	var res struct {
		Moved   []struct{ Tag, From, To string }    `json:"moved"`
		Bundles []struct{ Status, Previous string } `json:"bundles"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("import --force --json: %v\n%s", err, r.stdout)
	}
	if len(res.Moved) != 1 || res.Moved[0].Tag != "v1" || res.Moved[0].From != b.String() || res.Moved[0].To != a.String() {
		t.Errorf("import --force --json: moved = %+v, want [{v1 %s %s}]", res.Moved, b, a)
	}
	if len(res.Bundles) != 1 || res.Bundles[0].Status != "moved" || res.Bundles[0].Previous != b.String() {
		t.Errorf("import --force --json: bundles = %+v, want one moved from %s", res.Bundles, b)
	}
}

// TestTagRulePullRefuses: pull receives, like import: a tag that names
// another manifest is refused without --force (exit 1, both digests named,
// index.json untouched) and moved with it; a pull that leaves a tag where
// it is keeps the entry's annotations.
func TestTagRulePullRefuses(t *testing.T) {
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	src := filepath.Join(work, "src")
	a, _ := trPack(t, work, src, "a")
	repo := reg.addr + "/site/rule"
	mustRun(t, work, env, "push", "--plain-http", src+":v1", repo)

	// The same manifest under the same tag: the entry stays as it is.
	trAnnotateEntry(t, src, "v1", "com.example.note", "kept")
	mustRun(t, work, env, "pull", "--plain-http", "-o", src, repo+":v1")
	if e := trEntry(t, src, "v1"); e.Digest != a || e.Annotations["com.example.note"] != "kept" {
		t.Errorf("pull of the same v1: entry %+v, want %s with com.example.note=kept", e, a)
	}

	other := filepath.Join(work, "other")
	b, _ := trPack(t, work, other, "b")
	before, err := os.ReadFile(filepath.Join(other, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, work, env, "pull", "--plain-http", "-o", other, repo+":v1")
	if r.code != 1 || !strings.Contains(r.stderr, a.String()) || !strings.Contains(r.stderr, b.String()) {
		t.Errorf("pull moving v1 without --force: exit %d, stderr %q, want 1 naming %s and %s", r.code, r.stderr, a, b)
	}
	if after, _ := os.ReadFile(filepath.Join(other, "index.json")); string(after) != string(before) {
		t.Errorf("refused pull changed index.json:\n%s\nwas\n%s", after, before)
	}
	mustRun(t, work, env, "pull", "--plain-http", "--force", "-o", other, repo+":v1")
	if got := trEntry(t, other, "v1").Digest; got != a {
		t.Errorf("pull --force: v1 names %s, want %s", got, a)
	}
}
