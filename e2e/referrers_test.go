//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestReferrersListedByWholeExport: export of a bare LAYOUT carries a
// signature as export of LAYOUT:TAG does, and must say so alike: listed
// under referrers and marked referrer among bundles. The whole-layout export
// listed "referrers": [] (the signature, already an index.json entry, was
// walked as a bundle and never found as a referrer).
func TestReferrersListedByWholeExport(t *testing.T) {
	env := noDockerConfig(t)
	work := t.TempDir()
	lay, _, sig := refIndexOfTwo(t, work, env)
	type exported struct {
		Bundles []struct {
			Digest   string `json:"digest"`
			Referrer bool   `json:"referrer"`
		} `json:"bundles"`
		Referrers []map[string]any `json:"referrers"`
	}
	for _, ref := range []string{lay + ":multi", lay} {
		var got exported
		out := mustRun(t, work, env, "export", "--json", "-o", filepath.Join(work, "x.tar"), ref)
		regJSON(t, out, &got)
		if len(got.Referrers) != 1 || got.Referrers[0]["digest"] != sig.String() {
			t.Errorf("export %s --json: referrers %v, want the signature %s", ref, got.Referrers, sig)
		}
		for _, b := range got.Bundles {
			if b.Digest == sig.String() && !b.Referrer {
				t.Errorf("export %s --json: bundle %s is not marked referrer", ref, sig)
			}
		}
	}
}

// TestReferrersInspectAgreesWithExport: inspect of an index lists the
// referrers that export of it carries (a signature on a child manifest):
// "referrers" means the same in both (docs/json.md). inspect listed only
// the index's own referrers, [] here, while export listed the signature.
func TestReferrersInspectAgreesWithExport(t *testing.T) {
	env := noDockerConfig(t)
	work := t.TempDir()
	lay, _, sig := refIndexOfTwo(t, work, env)
	exp := refsJSON(t, mustRun(t, work, env, "export", "--json", "-o", filepath.Join(work, "x.tar"), lay+":multi"))
	ins := refsJSON(t, mustRun(t, work, env, "inspect", "--json", lay+":multi"))
	if len(exp) != 1 || exp[0]["digest"] != sig.String() {
		t.Fatalf("export L:multi --json: referrers %v, want the signature %s", exp, sig)
	}
	if fmt.Sprint(ins) != fmt.Sprint(exp) {
		t.Errorf("inspect L:multi --json: referrers %v, want what export carries: %v", ins, exp)
	}
	if out := mustRun(t, work, env, "inspect", lay+":multi"); !strings.Contains(out, sig.String()) {
		t.Errorf("inspect L:multi does not list the signature %s:\n%s", sig, out)
	}
}

// TestRegistryReferrerAloneCountsItsGraph: push and pull of a signature by
// its digest copy the graph they checked and count (the signature, its
// config and layer), not its subject's too: oras-go's default successors
// add a manifest's subject, so push said "blobs": 3, "sent": 5,
// "skipped": -2 and pull "blobs": 3, "written": 5, sending and fetching a
// graph that was never checked before the first byte.
func TestRegistryReferrerAloneCountsItsGraph(t *testing.T) {
	oras := requireTool(t, "oras")
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	lay := cliBundle(t, work)
	writeFile(t, filepath.Join(work, "sig.json"), []byte(`{"signature":"of v1"}`), 0o644)
	if r := runCmd(t, work, env, oras, "attach", "--oci-layout", lay+":v1", "--artifact-type", "application/vnd.example.signature", "sig.json"); r.code != 0 {
		t.Fatalf("oras attach: exit %d\n%s", r.code, r.stderr)
	}
	var sig digest.Digest
	for _, e := range refEntries(t, lay) {
		if e.Annotations[ocispec.AnnotationRefName] == "" {
			sig = e.Digest
		}
	}
	repo := reg.addr + "/site/sig"
	var push regPushJSON
	regJSON(t, mustRun(t, work, env, "push", "--plain-http", "--json", lay+"@"+sig.String(), repo), &push)
	if push.Blobs != 3 || push.Sent != 3 || push.Skipped != 0 {
		t.Errorf("push of the signature alone: blobs %d, sent %d, skipped %d; want 3, 3, 0", push.Blobs, push.Sent, push.Skipped)
	}
	var pull regPullJSON
	pulled := filepath.Join(work, "pulled")
	regJSON(t, mustRun(t, work, env, "pull", "--plain-http", "--json", "-o", pulled, repo+"@"+sig.String()), &pull)
	if pull.Blobs != 3 || pull.Written != 3 {
		t.Errorf("pull of the signature alone: blobs %d, written %d; want 3, 3", pull.Blobs, pull.Written)
	}
	if blobs, err := os.ReadDir(filepath.Join(pulled, "blobs", "sha256")); err != nil || len(blobs) != 3 {
		t.Errorf("pull of the signature alone left %d blobs in the layout (%v), want 3", len(blobs), err)
	}
}

// TestReferrersFailureNamesTheWayOut: when another index.json entry cannot
// be read, looking for referrers fails; export names --no-referrers, which
// it has (and which then exports the bundle), and inspect, which has no
// such flag, does not.
func TestReferrersFailureNamesTheWayOut(t *testing.T) {
	work := t.TempDir()
	lay := filepath.Join(work, "layout")
	for _, tag := range []string{"v1", "v2"} {
		src := filepath.Join(work, tag)
		writeFile(t, filepath.Join(src, "file.txt"), []byte(tag+"\n"), 0o644)
		d := digestOut(t, mustRun(t, work, nil, "pack", "-o", lay, "-t", tag, src))
		if tag == "v2" { // v2's manifest damaged: its size no longer matches
			blob := filepath.Join(lay, "blobs", "sha256", d.Encoded())
			if err := os.Chmod(blob, 0o644); err != nil {
				t.Fatal(err)
			}
			writeFile(t, blob, []byte("damaged\n"), 0o644)
		}
	}
	const hint = "--no-referrers skips it"
	r := run(t, work, nil, "export", "-o", filepath.Join(work, "v1.tar"), lay+":v1")
	if r.code != 1 || !strings.Contains(r.stderr, "looking for referrers") || !strings.Contains(r.stderr, hint) {
		t.Errorf("export L:v1: exit %d, stderr %q; want 1 naming the referrers and %q", r.code, r.stderr, hint)
	}
	mustRun(t, work, nil, "export", "--no-referrers", "-o", filepath.Join(work, "v1.tar"), lay+":v1")
	r = run(t, work, nil, "inspect", lay+":v1")
	if r.code != 1 || !strings.Contains(r.stderr, "looking for referrers") || strings.Contains(r.stderr, "--no-referrers") {
		t.Errorf("inspect L:v1: exit %d, stderr %q; want 1 naming the referrers and no flag inspect lacks", r.code, r.stderr)
	}
}
