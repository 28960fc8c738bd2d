//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// cosignRun runs the real cosign (v2.6.5, built into .tools/bin by
// scripts/install-peers.sh) with the key's passphrase in COSIGN_PASSWORD
// and no docker credentials; a failure fails the test.
func cosignRun(t *testing.T, work string, args ...string) string {
	t.Helper()
	cosign := requireTool(t, "cosign")
	env := append(noDockerConfig(t), "COSIGN_PASSWORD=e2e-pass", "COSIGN_YES=true", "SIGSTORE_NO_CACHE=true", "HOME="+t.TempDir())
	r := runCmd(t, work, env, cosign, args...)
	if r.code != 0 {
		t.Fatalf("cosign %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout + r.stderr
}

// TestCosignInterop: a bundle pushed to a local distribution registry and
// signed there by the real cosign with a key pair, offline (no Rekor
// upload), first in cosign's tag form (sha256-<hex>.sig, with a .att
// attestation and a .sbom SBOM), then also as a Sigstore bundle referrer
// (--new-bundle-format). Each time: ocibundle pull takes the signatures
// and the .att and .sbom; verify --key passes on the layout, on its
// export archive and on the layout the archive is imported into (exit 0,
// each signature SIGNATURE_VALID); with another key it fails (exit 1,
// SIGNATURE_UNTRUSTED for each, SIGNATURE_MISSING); the imported copy
// pushed to another repository has the .sig, .att and .sbom tags and passes
// cosign verify --key there.
func TestCosignInterop(t *testing.T) {
	requireTool(t, "cosign")
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	_, lay, d := regPack(t, work)
	repo := reg.addr + "/site/release"
	mustRun(t, work, env, "push", "--plain-http", lay+":1.0", repo+":1.0")
	cosignRun(t, work, "generate-key-pair")
	cosignRun(t, work, "generate-key-pair", "--output-key-prefix", "other")
	reachable := []string{"--allow-http-registry", "--allow-insecure-registry"}
	sign := []string{"sign", "--key", "cosign.key", "--tlog-upload=false"}

	// The tag form alone, with an attestation and an SBOM in cosign's tag
	// form beside it; cosign verifies it without a trusted root.
	cosignRun(t, work, slices.Concat(sign, reachable, []string{repo + "@" + d.String()})...)
	writeFile(t, filepath.Join(work, "predicate.json"), []byte(`{"built":"here"}`), 0o644)
	cosignRun(t, work, slices.Concat([]string{"attest", "--key", "cosign.key", "--tlog-upload=false", "--predicate", "predicate.json", "--type", "custom"}, reachable, []string{repo + "@" + d.String()})...)
	writeFile(t, filepath.Join(work, "sbom.spdx.json"), []byte(`{"spdxVersion":"SPDX-2.3"}`), 0o644)
	cosignRun(t, work, slices.Concat([]string{"attach", "sbom", "--sbom", "sbom.spdx.json", "--type", "spdx"}, reachable, []string{repo + "@" + d.String()})...)
	mirror := cosignRoundTrip(t, work, env, repo, "tag", d, []string{"cosign-simplesigning"})
	cosignRun(t, work, slices.Concat([]string{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog"}, reachable, []string{mirror + "@" + d.String()})...)

	// Then a Sigstore bundle beside it. cosign verifies a bundle only with
	// a trusted root, which a key-pair signature does not use: an empty one.
	cosignRun(t, work, slices.Concat(sign, []string{"--new-bundle-format", "--use-signing-config=false"}, reachable, []string{repo + "@" + d.String()})...)
	mirror = cosignRoundTrip(t, work, env, repo, "both", d, []string{"cosign-simplesigning", "sigstore-bundle"})
	root := filepath.Join(work, "empty_trusted_root.json")
	if err := os.WriteFile(root, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cosignRun(t, work, slices.Concat([]string{"verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--new-bundle-format", "--trusted-root", root}, reachable, []string{mirror + "@" + d.String()})...)
}

// cosignRoundTrip pulls repo:1.0 into a new layout, checks verify --key
// there, on its export archive and on the layout that archive is imported
// into (envelopes: the signatures expected, each SIGNATURE_VALID), checks
// another key fails, pushes the imported copy to REGISTRY/mirror-name and
// returns that repository.
func cosignRoundTrip(t *testing.T, work string, env []string, repo, name string, d digest.Digest, envelopes []string) string {
	t.Helper()
	pulled := filepath.Join(work, name, "pulled")
	mustRun(t, work, env, "pull", "--plain-http", "-o", pulled, repo+":1.0")
	for _, kind := range []string{".sig", ".att", ".sbom"} {
		tag := "sha256-" + d.Encoded() + kind
		if idx := readFile(t, filepath.Join(pulled, "index.json")); !strings.Contains(idx, tag) {
			t.Fatalf("pull did not take cosign's %s:\n%s", tag, idx)
		}
	}
	valid := func(what string, r result) {
		t.Helper()
		ok := r.code == 0 && strings.Count(r.stdout, "SIGNATURE_VALID") == len(envelopes)
		for _, e := range envelopes {
			ok = ok && strings.Contains(r.stdout, "sigstore "+e+" signature of "+d.String()+" by cosign.pub")
		}
		if !ok {
			t.Errorf("%s: exit %d, want 0 with %v valid\n%s%s", what, r.code, envelopes, r.stdout, r.stderr)
		}
	}
	valid("verify --key on the pulled layout", run(t, work, env, "verify", "--key", "cosign.pub", pulled))
	r := run(t, work, env, "verify", "--key", "other.pub", pulled)
	if r.code != 1 || strings.Count(r.stdout, "SIGNATURE_UNTRUSTED") != len(envelopes) || !strings.Contains(r.stdout, "SIGNATURE_MISSING") {
		t.Errorf("verify --key other.pub: exit %d, want 1 with every signature untrusted\n%s%s", r.code, r.stdout, r.stderr)
	}
	oneLine(t, "verify --key other.pub", r.stderr)

	archive := filepath.Join(work, name, "release.tar")
	mustRun(t, work, env, "export", "-o", archive, pulled+":1.0")
	valid("verify --key on the archive", run(t, work, env, "verify", "--key", "cosign.pub", archive))
	site := filepath.Join(work, name, "site")
	mustRun(t, work, env, "import", "-o", site, archive)
	valid("verify --key on the imported layout", run(t, work, env, "verify", "--key", "cosign.pub", site))

	mirror := strings.Replace(repo, "/site/", "/mirror-"+name+"/", 1)
	mustRun(t, work, env, "push", "--plain-http", site+":1.0", mirror+":1.0")
	tags := runCmd(t, work, env, requireTool(t, "crane"), "ls", "--insecure", mirror)
	for _, kind := range []string{".sig", ".att", ".sbom"} {
		if !strings.Contains(tags.stdout, "sha256-"+d.Encoded()+kind) {
			t.Errorf("push did not send cosign's %s to %s: %s%s", kind, mirror, tags.stdout, tags.stderr)
		}
	}
	return mirror
}
