package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// refIndexOfTwo packs two bundles into a new layout, writes an image index
// of both, tags it "multi", and attaches (with oras) a signature to the
// FIRST CHILD manifest, not to the index. It returns the layout, the child's
// digest and the signature's digest.
func refIndexOfTwo(t *testing.T, work string, env []string) (lay string, child, sig digest.Digest) {
	t.Helper()
	oras := requireTool(t, "oras")
	lay = filepath.Join(work, "layout")
	var children []ocispec.Descriptor
	for _, name := range []string{"amd", "arm"} {
		src := filepath.Join(work, name)
		writeFile(t, filepath.Join(src, "app.txt"), []byte("app for "+name+"\n"), 0o644)
		d := digestOut(t, mustRun(t, work, env, "pack", "-o", lay, "-t", name, src))
		children = append(children, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d})
	}
	store, err := layout.Open(lay)
	if err != nil {
		t.Fatal(err)
	}
	for i := range children {
		fi, err := os.Stat(filepath.Join(lay, "blobs", "sha256", children[i].Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		children[i].Size = fi.Size()
	}
	ix := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: children}
	ix.SchemaVersion = 2
	data, err := json.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := store.PutBytes(context.Background(), ocispec.MediaTypeImageIndex, data)
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, work, env, "tag", lay+"@"+desc.Digest.String(), "multi")
	child = children[0].Digest
	writeFile(t, filepath.Join(work, "sig.json"), []byte(`{"signature":"of the amd child"}`), 0o644)
	if r := runCmd(t, work, env, oras, "attach", "--oci-layout", lay+"@"+child.String(), "--artifact-type", "application/vnd.example.signature", "sig.json"); r.code != 0 {
		t.Fatalf("oras attach: exit %d\n%s", r.code, r.stderr)
	}
	known := map[digest.Digest]bool{children[0].Digest: true, children[1].Digest: true, desc.Digest: true}
	for _, m := range refEntries(t, lay) {
		if !known[m.Digest] {
			sig = m.Digest
		}
	}
	if sig == "" {
		t.Fatal("oras attach added no index.json entry")
	}
	return lay, child, sig
}

// refEntries reads the entries of the layout's index.json.
func refEntries(t *testing.T, lay string) []ocispec.Descriptor {
	t.Helper()
	return trIndex(t, lay).Manifests
}

// hasEntry reports whether the layout's index.json names d.
func hasEntry(t *testing.T, lay string, d digest.Digest) bool {
	t.Helper()
	for _, m := range refEntries(t, lay) {
		if m.Digest == d {
			return true
		}
	}
	return false
}

// TestReferrersOfChildrenTravelAlike: a signature attached to a child
// manifest of an index travels with export, push and pull alike (the old
// push and pull asked only the index for referrers).
func TestReferrersOfChildrenTravelAlike(t *testing.T) {
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	lay, child, sig := refIndexOfTwo(t, work, env)

	archive := filepath.Join(work, "multi.tar")
	mustRun(t, work, env, "export", "-o", archive, lay+":multi")
	imported := filepath.Join(work, "imported")
	mustRun(t, work, env, "import", "-o", imported, archive)
	if !hasEntry(t, imported, sig) {
		t.Errorf("export of the index left out the signature %s of its child %s", sig, child)
	}

	repo := reg.addr + "/site/multi"
	mustRun(t, work, env, "push", "--plain-http", "--include-referrers", lay+":multi", repo)
	oras := requireTool(t, "oras")
	r := runCmd(t, work, env, oras, "discover", "--plain-http", "--format", "json", repo+"@"+child.String())
	if r.code != 0 || !strings.Contains(r.stdout, sig.String()) {
		t.Errorf("after push --include-referrers, oras discover of the child does not list the signature %s: exit %d\n%s%s", sig, r.code, r.stdout, r.stderr)
	}

	pulled := filepath.Join(work, "pulled")
	mustRun(t, work, env, "pull", "--plain-http", "--include-referrers", "-o", pulled, repo+":multi")
	if !hasEntry(t, pulled, sig) {
		t.Errorf("pull --include-referrers of the index left out the signature %s of its child %s", sig, child)
	}
	arcVerify(t, pulled)
}
