//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// regManifest fetches the manifest or index ref names in repository name of
// the registry at addr (plain HTTP), as bytes; it fails the test unless
// the registry answers 200.
func regManifest(t *testing.T, addr, name, ref string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v2/"+name+"/manifests/"+ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", ocispec.MediaTypeImageIndex+", "+ocispec.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s manifest %s: %d %v\n%s", name, ref, resp.StatusCode, err, data)
	}
	return data
}

// regPutIndex puts idx into repository name under ref (plain HTTP), as a
// registry client would.
func regPutIndex(t *testing.T, addr, name, ref string, idx ocispec.Index) {
	t.Helper()
	data, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, "http://"+addr+"/v2/"+name+"/manifests/"+ref, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ocispec.MediaTypeImageIndex)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT %s manifest %s: %d\n%s", name, ref, resp.StatusCode, b)
	}
}

// regDelete deletes the manifest d from repository name (plain HTTP).
func regDelete(t *testing.T, addr, name string, d digest.Digest) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, "http://"+addr+"/v2/"+name+"/manifests/"+d.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE %s manifest %s: %d", name, d, resp.StatusCode)
	}
}

// fallbackTag is the referrers tag schema's tag of subject d
// (distribution-spec v1.1, "Referrers Tag Schema").
func fallbackTag(d digest.Digest) string {
	return d.Algorithm().String() + "-" + d.Encoded()
}

// TestRegistryForeignReferrerIgnored: a registry's referrers of the
// requested manifest are taken only when their subject is that manifest.
// docker-registry has no referrers API, so the sha256-<hex> tag index is
// what lists them, and anyone who can push a tag can write it: here it
// also lists the signature of another bundle (its subject is v2), that
// bundle itself (no subject at all) and a manifest deleted from the
// registry since. pull takes v1 and its own signature, warns about the
// three others, naming them, and leaves them out of the layout. (Before,
// the deleted entry made pull fail, "not found in the registry", and pull
// nothing; without it, pull took the foreign entries into the layout and
// named them in index.json as referrers.)
func TestRegistryForeignReferrerIgnored(t *testing.T) {
	oras := requireTool(t, "oras")
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	lay := filepath.Join(work, "layout")
	const name = "site/signed"
	repo := reg.addr + "/" + name
	subjects := map[string]digest.Digest{}
	sigs := map[string]digest.Digest{}
	for _, tag := range []string{"v1", "v2", "v3"} {
		src := filepath.Join(work, tag)
		writeFile(t, filepath.Join(src, "app.txt"), []byte("app "+tag+"\n"), 0o644)
		subjects[tag] = digestOut(t, mustRun(t, work, env, "pack", "-o", lay, "-t", tag, src))
		sig := filepath.Join(work, "sig-"+tag+".json")
		writeFile(t, sig, []byte(`{"signature":"of `+tag+`"}`), 0o644)
		if r := runCmd(t, work, env, oras, "attach", "--oci-layout", lay+":"+tag, "--artifact-type", "application/vnd.example.signature", filepath.Base(sig)); r.code != 0 {
			t.Fatalf("oras attach: exit %d\n%s", r.code, r.stderr)
		}
		var push regPushJSON
		regJSON(t, mustRun(t, work, env, "push", "--plain-http", "--json", lay+":"+tag, repo), &push)
		if len(push.Referrers) != 1 {
			t.Fatalf("push %s: referrers %v, want its signature", tag, push.Referrers)
		}
		sigs[tag] = push.Referrers[0].Digest
	}

	// The fallback index of v1 lists v2's signature, v2, and v3, which is
	// then deleted (distribution refuses an index naming a manifest it
	// does not have).
	var idx ocispec.Index
	if err := json.Unmarshal(regManifest(t, reg.addr, name, fallbackTag(subjects["v1"])), &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != sigs["v1"] {
		t.Fatalf("fallback index of v1 = %+v, want v1's signature %s", idx.Manifests, sigs["v1"])
	}
	v2sig := regManifest(t, reg.addr, name, sigs["v2"].String())
	v2 := regManifest(t, reg.addr, name, subjects["v2"].String())
	v3 := regManifest(t, reg.addr, name, subjects["v3"].String())
	idx.Manifests = append(idx.Manifests,
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.signature", Digest: sigs["v2"], Size: int64(len(v2sig))},
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.ocibundle.bundle.v1", Digest: subjects["v2"], Size: int64(len(v2))},
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.ocibundle.bundle.v1", Digest: subjects["v3"], Size: int64(len(v3))})
	regPutIndex(t, reg.addr, name, fallbackTag(subjects["v1"]), idx)
	regDelete(t, reg.addr, name, subjects["v3"])

	pulled := filepath.Join(work, "pulled")
	r := run(t, work, env, "pull", "--plain-http", "--json", "-o", pulled, repo+":v1")
	if r.code != 0 {
		t.Fatalf("pull with a foreign entry in the fallback index: exit %d\n%s", r.code, r.stderr)
	}
	var pull struct {
		Digest    digest.Digest `json:"digest"`
		Referrers []struct {
			Digest digest.Digest `json:"digest"`
		} `json:"referrers"`
		Warnings []string `json:"warnings"`
	}
	regJSON(t, r.stdout, &pull)
	if pull.Digest != subjects["v1"] || len(pull.Referrers) != 1 || pull.Referrers[0].Digest != sigs["v1"] {
		t.Errorf("pull = %+v, want v1 %s with its signature %s only", pull, subjects["v1"], sigs["v1"])
	}
	for _, d := range []digest.Digest{sigs["v2"], subjects["v2"], subjects["v3"]} {
		if !strings.Contains(strings.Join(pull.Warnings, "\n"), d.String()) || !strings.Contains(r.stderr, d.String()) {
			t.Errorf("pull: no warning names the foreign entry %s\nwarnings %q\nstderr %s", d, pull.Warnings, r.stderr)
		}
		if hasEntry(t, pulled, d) {
			t.Errorf("pull: index.json names the foreign entry %s", d)
		}
	}
	if got := xtTags(xtComplete(t, pulled)); got["v1"] != subjects["v1"].String() || len(got) != 1 {
		t.Errorf("pulled tags %v, want v1 only", got)
	}
	if !hasEntry(t, pulled, sigs["v1"]) {
		t.Errorf("pull: index.json lacks v1's own signature %s", sigs["v1"])
	}
	if n := xtBlobCount(t, pulled); n != 3+2 {
		// v1's manifest, empty config and layer; its signature's manifest
		// and layer (the empty config is shared). Nothing of v2's.
		t.Errorf("pulled layout holds %d blobs, want 5 (nothing of the foreign entries)", n)
	}
	arcVerify(t, pulled)
}
