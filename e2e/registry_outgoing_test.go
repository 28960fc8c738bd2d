//go:build linux

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// regCatalog is the registry's list of repositories (/v2/_catalog).
func regCatalog(t *testing.T, addr string) []string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/v2/_catalog")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Repositories []string `json:"repositories"`
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(data, &v) != nil {
		t.Fatalf("GET /v2/_catalog: %d %v\n%s", resp.StatusCode, err, data)
	}
	return v.Repositories
}

// oneError fails unless stderr holds exactly one "ocibundle: …" line
// besides verify's warnings (an attached referrer's subject carries
// oras's ref.name annotation, which verify warns about).
func oneError(t *testing.T, what string, r result) {
	t.Helper()
	var errs []string
	for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
		if !strings.Contains(l, ": warning: ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "ocibundle: ") {
		t.Errorf("%s: stderr is not one error line:\n%s", what, r.stderr)
	}
}

// rewriteManifest replaces the manifest old of the layout lay by the one
// change makes of it: the new manifest is stored as a blob and every
// index.json entry naming old names it instead. It returns the new digest.
func rewriteManifest(t *testing.T, lay string, old digest.Digest, change func(*ocispec.Manifest)) digest.Digest {
	t.Helper()
	var m ocispec.Manifest
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(lay, "blobs", "sha256", old.Encoded()))), &m); err != nil {
		t.Fatal(err)
	}
	change(&m)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(data)
	writeFile(t, filepath.Join(lay, "blobs", "sha256", d.Encoded()), data, 0o444)
	idx := trIndex(t, lay)
	for i, e := range idx.Manifests {
		if e.Digest == old {
			idx.Manifests[i].Digest, idx.Manifests[i].Size = d, int64(len(data))
		}
	}
	out, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(lay, "index.json"), out, 0o644)
	return d
}

// TestOutgoingVerifiedFirst: push and export check what goes out as import
// and pull check what comes in, with verify's rules, before the first
// byte leaves: a descriptor whose data is not its blob (of the bundle, or
// of a referrer that would go along) and a damaged layer are exit 1, one
// line naming the blob, and the registry holds nothing afterwards (no
// repository, no blob), nor is an archive left. (Before, push sent the
// bundle with the bad data field, and with the damaged layer it sent the
// config and the other layer before failing; export wrote the bad data
// into the archive.)
func TestOutgoingVerifiedFirst(t *testing.T) {
	oras := requireTool(t, "oras")
	env := noDockerConfig(t)
	// Not {}: the empty config's bytes, two long, with another digest.
	badData := []byte("[]")
	for _, tc := range []struct {
		name, want string
		spoil      func(t *testing.T, lay string, d digest.Digest)
	}{
		{"config data is not the blob", "data is not the blob", func(t *testing.T, lay string, d digest.Digest) {
			rewriteManifest(t, lay, d, func(m *ocispec.Manifest) { m.Config.Data = badData })
		}},
		{"referrer's data is not the blob", "data is not the blob", func(t *testing.T, lay string, d digest.Digest) {
			writeFile(t, filepath.Join(filepath.Dir(lay), "sbom.json"), []byte(`{"sbom":true}`), 0o644)
			if r := runCmd(t, filepath.Dir(lay), env, oras, "attach", "--oci-layout", lay+":1.0", "--artifact-type", "application/vnd.example.sbom", "sbom.json"); r.code != 0 {
				t.Fatalf("oras attach: exit %d\n%s", r.code, r.stderr)
			}
			for _, e := range trIndex(t, lay).Manifests {
				if e.Digest != d {
					rewriteManifest(t, lay, e.Digest, func(m *ocispec.Manifest) { m.Config.Data = badData })
				}
			}
		}},
		{"a layer is damaged", "digest mismatch", func(t *testing.T, lay string, d digest.Digest) {
			var m ocispec.Manifest
			if err := json.Unmarshal([]byte(readFile(t, filepath.Join(lay, "blobs", "sha256", d.Encoded()))), &m); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(lay, "blobs", "sha256", m.Layers[1].Digest.Encoded())
			b := []byte(readFile(t, p))
			b[len(b)/2] ^= 0xff
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, b, 0o444)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := startDistribution(t, "")
			work := t.TempDir()
			for _, f := range []string{"a.txt", "b.txt"} {
				writeFile(t, filepath.Join(work, f), []byte("content of "+f+"\n"), 0o644)
			}
			lay := filepath.Join(work, "layout")
			d := digestOut(t, mustRun(t, work, nil, "pack", "-o", lay, "-t", "1.0", "a.txt", "b.txt"))
			tc.spoil(t, lay, d)
			if r := run(t, work, nil, "verify", lay+":1.0"); r.code != 1 || !strings.Contains(r.stdout, tc.want) {
				t.Fatalf("verify of the spoilt layout: exit %d, want 1 with %q\n%s", r.code, tc.want, r.stdout)
			}

			r := run(t, work, env, "push", "--plain-http", lay+":1.0", reg.addr+"/site/spoilt")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "blobs/sha256/") {
				t.Errorf("push: exit %d, want 1 naming the blob and %q\n%s", r.code, tc.want, r.stderr)
			}
			oneError(t, "push", r)
			if repos := regCatalog(t, reg.addr); len(repos) != 0 {
				t.Errorf("after the refused push the registry has repositories %v, want none", repos)
			}
			if blobs := reg.blobData(); len(blobs) != 0 {
				t.Errorf("after the refused push the registry holds %d blobs, want none", len(blobs))
			}

			archive := filepath.Join(work, "out.tar")
			r = run(t, work, nil, "export", "-o", archive, lay+":1.0")
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("export: exit %d, want 1 with %q\n%s", r.code, tc.want, r.stderr)
			}
			oneError(t, "export", r)
			if _, err := os.Stat(archive); err == nil {
				t.Errorf("the refused export left %s", archive)
			}
		})
	}
}
