package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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
	plan, err := planExport(ctx, []string{ref}, false)
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

// hugeSize is 8 GiB + 1 byte: one more than USTAR's 11 octal digits hold.
const hugeSize = 8<<30 + 1

// hugeDigest is the sha256 of hugeSize zero bytes (`truncate -s 8589934593
// f && sha256sum f`); export hashes the blob as it copies it, so a wrong
// value fails the test with ErrDigestMismatch.
const hugeDigest = "sha256:b47800cd5a0c0bd2a7d6c2ac9402cc117bbe89363299bdc51f8a72aef8543693"

// TestExportHugeBlob exports a sparse blob of 8 GiB + 1 (no disk used: the
// layout is on tmpfs when /dev/shm is there, where reading the holes costs
// nothing, and the archive is streamed, never written) with a PAX size
// record, and verify and GNU tar read the stream back. Before, export
// failed: "USTAR cannot encode Size". It hashes 8 GiB three times (the
// export's blob check, the archive digest, verify): about 30 s here.
func TestExportHugeBlob(t *testing.T) {
	parent := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "ocibundle-huge-"); err == nil {
			parent = dir
			defer os.RemoveAll(dir)
		}
	}
	ref := layoutWith(t, parent, func(s *layout.Store) ocispec.Descriptor {
		d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: hugeDigest, Size: hugeSize}
		p := filepath.Join(parent, "L", "blobs", "sha256", d.Digest.Encoded())
		f, err := os.Create(p)
		must(t, err)
		must(t, f.Truncate(hugeSize)) // sparse: all holes
		must(t, f.Close())
		return d
	})
	planned := plannedSize(t, ref)

	// One stream to verify, to tar -tv, and the head of it kept.
	vr, vw := io.Pipe()
	tr, tw := io.Pipe()
	tarOut := &bytes.Buffer{}
	tarCmd := exec.Command("tar", "-tvf", "-")
	tarCmd.Stdin, tarCmd.Stdout, tarCmd.Stderr = tr, tarOut, tarOut
	must(t, tarCmd.Start())
	type verified struct {
		rep *verify.Report
		err error
	}
	done := make(chan verified, 1)
	go func() {
		rep, err := verify.VerifyArchive(context.Background(), vr, "huge.tar", verify.Options{})
		vr.CloseWithError(err)
		done <- verified{rep, err}
	}()
	head := &headWriter{max: 64 << 10}
	res, err := Export(ctx, io.MultiWriter(vw, tw, head), []string{ref}, ExportOptions{})
	vw.CloseWithError(err)
	tw.CloseWithError(err)
	if err != nil {
		t.Fatalf("Export() = %v", err)
	}
	if res.Archive.Size != planned {
		t.Errorf("Export() wrote %d bytes, planned %d", res.Archive.Size, planned)
	}
	if !bytes.Contains(head.buf.Bytes(), []byte(" size="+strconv.Itoa(hugeSize)+"\n")) {
		t.Error("no PAX size record in the archive")
	}
	v := <-done
	if v.err != nil || v.rep.Summary.Errors+v.rep.Summary.Warnings != 0 {
		t.Errorf("VerifyArchive() = %v, %+v", v.err, v.rep)
	}
	if err := tarCmd.Wait(); err != nil || !strings.Contains(tarOut.String(), strconv.Itoa(hugeSize)+" ") || !strings.Contains(tarOut.String(), hugeDigest[len("sha256:"):]) {
		t.Errorf("tar -tvf: %v\n%s", err, tarOut)
	}
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	buf bytes.Buffer
	max int
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
