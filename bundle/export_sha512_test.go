package bundle

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/verify"
)

// layoutWith writes, in a new layout under parent, an artifact manifest
// tagged t of one layer, blob (already in the store: put does that), and
// returns the reference.
func layoutWith(t *testing.T, parent string, put func(s *layout.Store) ocispec.Descriptor) string {
	t.Helper()
	dir := filepath.Join(parent, "L")
	s, err := layout.Create(ctx, dir)
	must(t, err)
	l := put(s)
	l.Annotations = map[string]string{ocispec.AnnotationTitle: "big.bin"}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: profile.DefaultArtifactType, Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{l}}
	must(t, s.Put(ctx, m.Config, bytes.NewReader(m.Config.Data)))
	data, _ := json.Marshal(m)
	desc, err := s.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	must(t, err)
	must(t, s.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.SetTag(idx, desc, "t") }))
	return dir + ":t"
}

// plannedSize is the size export announces (its progress total).
func plannedSize(t *testing.T, ref string) int64 {
	plan, err := planExport(ctx, []string{ref}, false, nil)
	must(t, err)
	plan.release()
	return plan.total
}

// TestExportSHA512: a sha512 blob, whose name USTAR cannot hold, is
// exported with a PAX path record (and a blobs/sha512/ directory), and
// import, verify and GNU tar read it back. Before, export refused it.
func TestExportSHA512(t *testing.T) {
	content := []byte("a blob named by its sha512\n")
	ref := layoutWith(t, t.TempDir(), func(s *layout.Store) ocispec.Descriptor {
		d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.SHA512.FromBytes(content), Size: int64(len(content))}
		must(t, s.Put(ctx, d, bytes.NewReader(content)))
		return d
	})
	name := "blobs/sha512/" + digest.SHA512.FromBytes(content).Encoded()
	data, res := exportBytes(t, []string{ref}, ExportOptions{})
	if want := plannedSize(t, ref); res.Archive.Size != want {
		t.Errorf("Export() wrote %d bytes, planned %d", res.Archive.Size, want)
	}
	var names []string
	for _, h := range archiveHeaders(t, data) {
		names = append(names, h.Name)
		if h.Name == name && h.PAXRecords["path"] != name {
			t.Errorf("%s: PAX records %v, want its path", name, h.PAXRecords)
		}
		if h.Name != name && len(h.PAXRecords) > 0 {
			t.Errorf("%s: PAX records %v, want plain USTAR", h.Name, h.PAXRecords)
		}
	}
	if !slices.Contains(names, "blobs/sha512/") || !slices.Contains(names, name) {
		t.Errorf("members %v, want blobs/sha512/ and %s", names, name)
	}
	rep, err := verify.VerifyArchive(ctx, bytes.NewReader(data), "a.tar", verify.Options{Deep: true})
	if err != nil || rep.Summary.Errors+rep.Summary.Warnings != 0 {
		t.Errorf("VerifyArchive() = %v, %+v", err, rep)
	}
	dst := filepath.Join(t.TempDir(), "imported")
	_, err = Import(ctx, dst, bytes.NewReader(data), ImportOptions{})
	must(t, err)
	got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(name)))
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("imported %s = %q, %v", name, got, err)
	}
	// Peers: GNU tar lists and unpacks it, oras pulls the sha512 file from
	// what tar unpacked, skopeo reads the archive.
	work := t.TempDir()
	archive := filepath.Join(work, "a.tar")
	must(t, os.WriteFile(archive, data, 0o644))
	peer := func(tool string, args ...string) string {
		if _, err := exec.LookPath(tool); err != nil {
			t.Logf("%s not installed: not tried", tool)
			return ""
		}
		out, err := exec.Command(tool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := peer("tar", "-tf", archive); out != "" && !strings.Contains(out, name+"\n") {
		t.Errorf("tar -tf lists:\n%s", out)
	}
	unpacked := filepath.Join(work, "unpacked")
	must(t, os.Mkdir(unpacked, 0o755))
	peer("tar", "-xf", archive, "-C", unpacked)
	if out := peer("oras", "pull", "--oci-layout", unpacked+":t", "-o", filepath.Join(work, "pulled")); out != "" {
		if got, err := os.ReadFile(filepath.Join(work, "pulled", "big.bin")); err != nil || !bytes.Equal(got, content) {
			t.Errorf("oras pull gave %q, %v", got, err)
		}
	}
	if out := peer("skopeo", "inspect", "--raw", "oci-archive:"+archive+":t"); out != "" && !strings.Contains(out, digest.SHA512.FromBytes(content).String()) {
		t.Errorf("skopeo inspect --raw:\n%s", out)
	}
}
