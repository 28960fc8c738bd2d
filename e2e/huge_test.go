//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// hugeSize is 8 GiB + 1 byte: one more than USTAR's 11 octal digits hold.
const hugeSize = 8<<30 + 1

// hugeDigest is the sha256 of hugeSize zero bytes (`truncate -s 8589934593
// f && sha256sum f`); export hashes the blob as it copies it, so a wrong
// value fails the test.
const hugeDigest = "sha256:b47800cd5a0c0bd2a7d6c2ac9402cc117bbe89363299bdc51f8a72aef8543693"

// TestExportHugeBlob: a sparse blob of 8 GiB + 1 (no disk used: the layout
// is on tmpfs when /dev/shm is there, where reading the holes costs
// nothing, and the archive is streamed, never written) is exported with a
// PAX size record: `export -o - | verify -` reads it back clean, and GNU tar
// lists its header. Before, export exited 3: "USTAR cannot encode Size".
// The binaries hash 8 GiB three times (export's blob check and archive
// digest, verify's): about 30 s here, with or without -race.
func TestExportHugeBlob(t *testing.T) {
	parent := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "ocibundle-huge-"); err == nil {
			parent = dir
			defer os.RemoveAll(dir)
		}
	}
	ctx := context.Background()
	lay := filepath.Join(parent, "L")
	s, err := layout.Create(ctx, lay)
	if err != nil {
		t.Fatal(err)
	}
	blob := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: hugeDigest, Size: hugeSize,
		Annotations: map[string]string{ocispec.AnnotationTitle: "big.bin"}}
	f, err := os.Create(filepath.Join(lay, "blobs", "sha256", blob.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(hugeSize); err != nil { // sparse: all holes
		t.Fatal(err)
	}
	f.Close()
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.ocibundle.bundle.v1", Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{blob}}
	if err := s.Put(ctx, m.Config, bytes.NewReader(m.Config.Data)); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(m)
	md, err := s.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.SetTag(idx, md, "t") }); err != nil {
		t.Fatal(err)
	}

	// export -o - | verify -, the data through a kernel pipe.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	export := exec.Command(bin, "export", "--json", "-o", "-", lay+":t")
	verify := exec.Command(bin, "verify", "--digest", md.Digest.String(), "-")
	var exportErr, verifyOut, verifyErr bytes.Buffer
	export.Stdout, export.Stderr = w, &exportErr
	verify.Stdin, verify.Stdout, verify.Stderr = r, &verifyOut, &verifyErr
	if err := verify.Start(); err != nil {
		t.Fatal(err)
	}
	if err := export.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.Close()
	if err := export.Wait(); err != nil {
		t.Errorf("export: %v\n%s", err, exportErr.String())
	}
	if err := verify.Wait(); err != nil || !strings.Contains(verifyOut.String(), "1 bundle") || !strings.Contains(verifyOut.String(), "OK") {
		t.Errorf("verify -: %v\n%s%s", err, verifyOut.String(), verifyErr.String())
	}
	var rep struct {
		Archive struct {
			Size int64 `json:"size"`
		} `json:"archive"`
	}
	if err := json.Unmarshal(exportErr.Bytes(), &rep); err != nil || rep.Archive.Size <= hugeSize {
		t.Errorf("export --json: %v, %s", err, exportErr.String())
	}

	// The archive's head: a PAX size record, and GNU tar lists the member
	// (then says the archive is cut short, where the head ends).
	head, _ := exec.Command("sh", "-c", `"$0" export -o - "$1" | head -c 65536`, bin, lay+":t").Output()
	if !bytes.Contains(head, []byte(" size="+strconv.Itoa(hugeSize)+"\n")) {
		t.Errorf("no PAX size record in the archive's head (%d bytes)", len(head))
	}
	tar := requireTool(t, "tar")
	list := exec.Command(tar, "-tvf", "-")
	list.Stdin = bytes.NewReader(head)
	out, _ := list.CombinedOutput()
	if !strings.Contains(string(out), strconv.Itoa(hugeSize)+" ") || !strings.Contains(string(out), "blobs/sha256/"+digest.Digest(hugeDigest).Encoded()) {
		t.Errorf("tar -tvf of the archive's head:\n%s", out)
	}
}
