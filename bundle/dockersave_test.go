package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/verify"
)

// dockerSaveArchive writes an archive shaped as `docker save a b` of Docker
// 25+ writes it: oci-layout, blobs/sha256/… (OCI image manifests of one
// uncompressed layer each), an index.json whose two entries are both named
// "latest" (with containerd's image name annotation), and docker's own
// manifest.json and repositories at the top. It returns the archive's path
// and the two manifests' digests, in index.json order.
func dockerSaveArchive(t *testing.T) (string, digest.Digest, digest.Digest) {
	t.Helper()
	dir, s := newLayout(t)
	var entries []ocispec.Descriptor
	for _, name := range []string{"alpha", "beta"} {
		content := tarOf(t, []tarEntry{{name: "which", body: name}})
		l, err := s.PutBytes(ctx, ocispec.MediaTypeImageLayer, content)
		must(t, err)
		cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
			"rootfs": map[string]any{"type": "layers", "diff_ids": []digest.Digest{digest.FromBytes(content)}}})
		c, err := s.PutBytes(ctx, ocispec.MediaTypeImageConfig, cfg)
		must(t, err)
		m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageManifest, "config": c, "layers": []ocispec.Descriptor{l}})
		d, err := s.PutBytes(ctx, ocispec.MediaTypeImageManifest, m)
		must(t, err)
		d.Annotations = map[string]string{"io.containerd.image.name": "docker.io/library/" + name + ":latest", ocispec.AnnotationRefName: "latest"}
		entries = append(entries, d)
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageIndex, "manifests": entries})
	members := []arcMember{
		{name: "blobs/", typeflag: '5'}, {name: "blobs/sha256/", typeflag: '5'},
	}
	blobs, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	must(t, err)
	for _, b := range blobs {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", b.Name()))
		must(t, err)
		members = append(members, arcMember{name: "blobs/sha256/" + b.Name(), data: data})
	}
	members = append(members,
		arcMember{name: "index.json", data: index},
		arcMember{name: "manifest.json", data: []byte(`[{"Config":"blobs/sha256/x","RepoTags":["alpha:latest"],"Layers":[]}]`)},
		arcMember{name: "oci-layout", data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		arcMember{name: "repositories", data: []byte(`{"alpha":{"latest":"x"}}`)},
	)
	arc := filepath.Join(t.TempDir(), "save.tar")
	must(t, os.WriteFile(arc, buildArchive(t, members, nil, true), 0o644))
	return arc, entries[0].Digest, entries[1].Digest
}

// TestDockerSave: an archive of two images that are both "latest" (docker
// save 25+) verifies with a warning; import keeps both manifests (untagged,
// reachable by digest) and refuses to choose the tag, naming both digests,
// unless --force, which gives it to the last and says so; extract
// ARCHIVE@DIGEST takes either image, ARCHIVE:latest is refused.
func TestDockerSave(t *testing.T) {
	arc, alpha, beta := dockerSaveArchive(t)
	names := func(err error) bool {
		return err != nil && strings.Contains(err.Error(), alpha.String()) && strings.Contains(err.Error(), beta.String())
	}

	rep, err := verify.Verify(ctx, arc, verify.Options{Deep: true})
	must(t, err)
	if rep.Err() != nil || rep.Summary.Warnings != 1 || rep.Findings[0].Code != verify.DuplicateTag {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Errorf("verify(docker save archive) = %v, want one DUPLICATE_TAG warning:\n%s", rep.Err(), b.String())
	}

	dst := filepath.Join(t.TempDir(), "L")
	res, err := Import(ctx, dst, openFile(t, arc), ImportOptions{})
	if !errors.Is(err, layout.ErrDuplicateTag) || !names(err) {
		t.Fatalf("Import() = %v, want ErrDuplicateTag naming %s and %s", err, alpha, beta)
	}
	if len(res.Entries) != 2 || len(res.Entries[0].Tags)+len(res.Entries[1].Tags) != 0 {
		t.Errorf("Import() entries = %+v, want both untagged", res.Entries)
	}
	for d, want := range map[digest.Digest]string{alpha: "alpha", beta: "beta"} {
		out := filepath.Join(t.TempDir(), "out")
		if _, err := Extract(ctx, dst+"@"+d.String(), out, ExtractOptions{}); err != nil {
			t.Errorf("Extract(L@%s) = %v", d, err)
		} else if data, _ := os.ReadFile(filepath.Join(out, "which")); string(data) != want {
			t.Errorf("Extract(L@%s) wrote %q, want %q", d, data, want)
		}
		out = filepath.Join(t.TempDir(), "out")
		if _, err := Extract(ctx, arc+"@"+d.String(), out, ExtractOptions{}); err != nil {
			t.Errorf("Extract(ARCHIVE@%s) = %v", d, err)
		} else if data, _ := os.ReadFile(filepath.Join(out, "which")); string(data) != want {
			t.Errorf("Extract(ARCHIVE@%s) wrote %q, want %q", d, data, want)
		}
	}
	if rep, err := verify.Verify(ctx, dst, verify.Options{}); err != nil || rep.Err() != nil || rep.Summary.Warnings != 0 {
		t.Errorf("verify(imported layout) = %v, %v, want clean (both manifests referenced)", err, rep.Err())
	}
	if _, err := Extract(ctx, arc+":latest", filepath.Join(t.TempDir(), "out"), ExtractOptions{}); !errors.Is(err, layout.ErrDuplicateTag) || !names(err) || strings.Contains(err.Error(), ".archive-") {
		t.Errorf("Extract(ARCHIVE:latest) = %v, want ErrDuplicateTag naming both digests and the archive", err)
	}

	forced := filepath.Join(t.TempDir(), "F")
	res, err = Import(ctx, forced, openFile(t, arc), ImportOptions{Force: true})
	if err != nil {
		t.Fatalf("Import(--force) = %v", err)
	}
	said := strings.Join(res.Warnings, "\n")
	if !strings.Contains(said, "gave it to "+beta.String()) || !strings.Contains(said, alpha.String()) {
		t.Errorf("Import(--force) warnings = %q, want which digest took latest", res.Warnings)
	}
	s, err := layout.Open(forced)
	must(t, err)
	if d, err := s.Resolve(ctx, layout.Reference{Path: forced, Tag: "latest"}); err != nil || d.Digest != beta {
		t.Errorf("after Import(--force), latest = %s, %v; want %s", d.Digest, err, beta)
	}
}

// TestResolveDuplicateTag: a layout whose index.json gives one tag to two
// digests (a docker save archive unpacked with tar) resolves that tag to
// neither: ErrDuplicateTag naming both.
func TestResolveDuplicateTag(t *testing.T) {
	arc, alpha, beta := dockerSaveArchive(t)
	dir := filepath.Join(t.TempDir(), "untarred")
	must(t, os.MkdirAll(dir, 0o755))
	ar := layout.NewArchiveReader(openFile(t, arc))
	for {
		m, err := ar.Next()
		if err != nil {
			break
		}
		p := filepath.Join(dir, filepath.FromSlash(m.Path))
		if m.Dir {
			must(t, os.MkdirAll(p, 0o755))
			continue
		}
		data, err := layout.ReadCapped(ar, 1<<20)
		must(t, err)
		must(t, os.WriteFile(p, data, 0o644))
	}
	_, err := Extract(ctx, dir+":latest", filepath.Join(t.TempDir(), "out"), ExtractOptions{})
	if !errors.Is(err, layout.ErrDuplicateTag) || !strings.Contains(err.Error(), alpha.String()) || !strings.Contains(err.Error(), beta.String()) {
		t.Errorf("Extract(L:latest) = %v, want ErrDuplicateTag naming both digests", err)
	}
}

// openFile opens path for the test's duration.
func openFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}
