//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestPackRawORASPull: pack --raw stores a file as its own bytes, as
// `oras push FILE` does (the same blob digest), so that `oras pull`, from
// the layout and from a registry, gives the file back byte for byte; with
// -c gzip a directory still arrives unpacked. extract writes the same file,
// and verify --deep passes. (Before, a packed file always arrived from
// `oras pull` as a zstd or gzip tar named like the file.)
func TestPackRawORASPull(t *testing.T) {
	oras := requireTool(t, "oras")
	work := t.TempDir()
	dir, file := interopTree(t, work)
	lay := filepath.Join(work, "layout")
	d := digestOut(t, mustRun(t, work, nil, "pack", "--raw", "-c", "gzip", "-o", lay+":v1", dir, file))
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(interopBlob(t, lay, d), &m); err != nil {
		t.Fatal(err)
	}
	raw := m.Layers[1]
	if raw.MediaType != "application/octet-stream" || raw.Digest != digest.FromBytes(want) || raw.Annotations[ocispec.AnnotationTitle] != "one.txt" {
		t.Errorf("raw layer = %+v, want application/octet-stream, the file's digest %s, title one.txt", raw, digest.FromBytes(want))
	}

	// oras push stores the same file as the same blob.
	orasLay := filepath.Join(work, "oras-layout")
	if r := runCmd(t, filepath.Dir(file), nil, oras, "push", "--oci-layout", orasLay+":v1", filepath.Base(file)); r.code != 0 {
		t.Fatalf("oras push: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(orasLay, "blobs", "sha256", raw.Digest.Encoded())); err != nil {
		t.Errorf("oras push of the file did not write the blob pack --raw wrote: %v", err)
	}

	check := func(what, out string) {
		t.Helper()
		interopOnlyEntries(t, out, []string{"dist", "one.txt"})
		interopCompareTrees(t, filepath.Join(out, "dist"), dir)
		got, err := os.ReadFile(filepath.Join(out, "one.txt"))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		interopSameBytes(t, what+" one.txt", got, want)
	}
	out := filepath.Join(work, "oras-pulled")
	interopPeer(t, "oras", "pull", "--oci-layout", lay+":v1", "-o", out)
	check("oras pull --oci-layout", out)

	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	repo := reg.addr + "/site/raw"
	mustRun(t, work, env, "push", "--plain-http", lay+":v1", repo)
	out = filepath.Join(work, "oras-pulled-registry")
	if r := runCmd(t, work, env, oras, "pull", "--plain-http", repo+":v1", "-o", out); r.code != 0 {
		t.Fatalf("oras pull from the registry: exit %d\n%s", r.code, r.stderr)
	}
	check("oras pull from the registry", out)

	out = filepath.Join(work, "extracted")
	mustRun(t, work, nil, "extract", "-o", out, lay+":v1")
	check("extract", out)
	if r := run(t, work, nil, "verify", "--deep", lay+":v1"); r.code != 0 || !strings.Contains(r.stdout, "0 errors, 0 warnings, 0 info") {
		t.Errorf("verify --deep: exit %d, want 0 with no finding\n%s", r.code, r.stdout)
	}
}

// TestPackOutputTag: pack -o DIR:TAG, where DIR does not exist or is a
// layout, packs into DIR and tags the bundle TAG, as ORAS reads
// --oci-layout dir:tag (oras reads the tag back); -t adds tags to it.
// Where DIR exists and is not a layout, -o is the path as written, as
// before. (Before, -o new:v1 made a directory "new:v1" holding an
// untagged bundle.)
func TestPackOutputTag(t *testing.T) {
	oras := requireTool(t, "oras")
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "a.txt"), []byte("a\n"), 0o644)
	writeFile(t, filepath.Join(work, "b.txt"), []byte("b\n"), 0o644)

	d1 := digestOut(t, mustRun(t, work, nil, "pack", "-o", "new:v1", "a.txt"))
	d2 := digestOut(t, mustRun(t, work, nil, "pack", "-o", "new:v2", "-t", "latest", "b.txt"))
	if _, err := os.Stat(filepath.Join(work, "new:v1")); err == nil {
		t.Errorf("pack -o new:v1 made a directory new:v1")
	}
	lay := filepath.Join(work, "new")
	if got := xtTags(trIndex(t, lay)); len(got) != 3 || got["v1"] != d1.String() || got["v2"] != d2.String() || got["latest"] != d2.String() {
		t.Errorf("tags of new = %v, want v1 → %s, v2 and latest → %s", got, d1, d2)
	}
	r := runCmd(t, work, nil, oras, "manifest", "fetch", "--oci-layout", "new:v1")
	if r.code != 0 || digest.FromString(r.stdout) != d1 {
		t.Errorf("oras manifest fetch --oci-layout new:v1: exit %d, digest %s, want %s\n%s", r.code, digest.FromString(r.stdout), d1, r.stderr)
	}

	// An existing directory that is not a layout: the path as written.
	writeFile(t, filepath.Join(work, "plain", "mine.txt"), []byte("mine\n"), 0o644)
	d3 := digestOut(t, mustRun(t, work, nil, "pack", "-o", "plain:v1", "a.txt"))
	if idx := trIndex(t, filepath.Join(work, "plain:v1")); len(idx.Manifests) != 1 || idx.Manifests[0].Digest != d3 || len(xtTags(idx)) != 0 {
		t.Errorf("pack -o plain:v1 next to a plain directory: index.json of plain:v1 = %+v, want one untagged entry %s", idx.Manifests, d3)
	}
	if _, err := os.Stat(filepath.Join(work, "plain", "oci-layout")); err == nil {
		t.Errorf("pack -o plain:v1 turned the plain directory into a layout")
	}
}
