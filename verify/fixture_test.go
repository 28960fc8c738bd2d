package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/profile"
)

// fx builds a layout directory in a temp dir, blob by blob, with documents
// as maps so that a test can make any field wrong.
type fx struct {
	t   testing.TB
	dir string
}

func newFx(t testing.TB) *fx {
	t.Helper()
	f := &fx{t: t, dir: filepath.Join(t.TempDir(), "layout")}
	if err := os.MkdirAll(filepath.Join(f.dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	return f
}

// file writes name (slash path below the layout) with data.
func (f *fx) file(name string, data []byte) {
	f.t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) path(name string) string { return filepath.Join(f.dir, filepath.FromSlash(name)) }

// put stores data as a blob and returns its descriptor as a map.
func (f *fx) put(data []byte, mediaType string) map[string]any {
	f.t.Helper()
	d := digest.FromBytes(data)
	f.file("blobs/sha256/"+d.Encoded(), data)
	return map[string]any{"mediaType": mediaType, "digest": d.String(), "size": len(data)}
}

// putJSON marshals v and stores it as a blob.
func (f *fx) putJSON(v any, mediaType string) map[string]any {
	f.t.Helper()
	return f.put(mustJSON(f.t, v), mediaType)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// index writes index.json with these manifests entries.
func (f *fx) index(entries ...map[string]any) {
	f.t.Helper()
	if entries == nil {
		entries = []map[string]any{}
	}
	f.file("index.json", mustJSON(f.t, map[string]any{
		"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageIndex, "manifests": entries,
	}))
}

// blobPath is the layout path of the blob a descriptor map names.
func blobPath(desc map[string]any) string {
	return "blobs/sha256/" + strings.TrimPrefix(desc["digest"].(string), "sha256:")
}

// with returns a copy of desc with k set to v (or deleted when v is nil).
func with(desc map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(desc))
	for k, v := range desc {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// entry is one tar entry of a test layer.
type entry struct {
	name, link string
	typ        byte
	body       string
}

// tarOf builds an uncompressed tar.
func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: typ, Mode: 0o644, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// compressed compresses data with codec (the way pack does).
func compressed(t testing.TB, data []byte, c compress.Codec) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := compress.NewWriter(&buf, c, compress.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// layer stores blob as a layer whose uncompressed content is content, with
// ocibundle's annotations, and returns its descriptor.
func (f *fx) layer(content, blob []byte, mediaType string) map[string]any {
	f.t.Helper()
	d := f.put(blob, mediaType)
	d["annotations"] = map[string]any{
		ocispec.AnnotationTitle:         "files",
		profile.AnnotationContentDigest: digest.FromBytes(content).String(),
		profile.AnnotationContentSize:   strconv.Itoa(len(content)),
		"io.ocibundle.content.files":    "1",
	}
	return d
}

// emptyConfig stores the empty config and returns its descriptor with data.
func (f *fx) emptyConfig() map[string]any {
	d := f.put([]byte("{}"), ocispec.MediaTypeEmptyJSON)
	d["data"] = base64.StdEncoding.EncodeToString([]byte("{}"))
	return d
}

// manifest is a bundle manifest over config and layers.
func manifest(config map[string]any, layers ...map[string]any) map[string]any {
	if layers == nil {
		layers = []map[string]any{}
	}
	return map[string]any{
		"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageManifest,
		"artifactType": "application/vnd.ocibundle.bundle.v1",
		"config":       config, "layers": layers,
	}
}

// tagged returns a manifest descriptor tagged tag.
func tagged(desc map[string]any, tag string) map[string]any {
	return with(desc, "annotations", map[string]any{ocispec.AnnotationRefName: tag})
}

// std builds the standard clean bundle: one zstd tar layer, the empty
// config, a manifest tagged v1. edit may change the manifest before it is
// stored; it returns the manifest's descriptor.
func (f *fx) std(edit func(m map[string]any)) map[string]any {
	f.t.Helper()
	content := tarOf(f.t, entry{name: "files/", typ: tar.TypeDir}, entry{name: "files/a.txt", body: "hello\n"})
	l := f.layer(content, compressed(f.t, content, compress.Zstd), ocispec.MediaTypeImageLayerZstd)
	m := manifest(f.emptyConfig(), l)
	if edit != nil {
		edit(m)
	}
	md := f.putJSON(m, ocispec.MediaTypeImageManifest)
	f.index(tagged(md, "v1"))
	return md
}

// imageStd builds a clean image: an OCI image config with diff_ids and one
// gzip layer. edit may change the config before it is stored.
func (f *fx) imageStd(edit func(cfg map[string]any)) map[string]any {
	f.t.Helper()
	content := tarOf(f.t, entry{name: "etc/", typ: tar.TypeDir}, entry{name: "etc/hosts", body: "127.0.0.1 localhost\n"})
	l := f.put(compressed(f.t, content, compress.Gzip), ocispec.MediaTypeImageLayerGzip)
	cfg := map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest.FromBytes(content).String()}},
	}
	if edit != nil {
		edit(cfg)
	}
	c := f.putJSON(cfg, ocispec.MediaTypeImageConfig)
	m := map[string]any{"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageManifest, "config": c, "layers": []any{l}}
	md := f.putJSON(m, ocispec.MediaTypeImageManifest)
	f.index(tagged(md, "img"))
	return md
}

// archive writes the layout at dir as a tar file, members in the order the
// sorted walk gives unless first names members to put at the front, and
// returns its path.
func archiveOf(t testing.TB, dir string, last ...string) string {
	t.Helper()
	var names []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel != "." {
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(names, func(i, j int) bool {
		return !contains(last, names[i]) && contains(last, names[j])
	})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		fi, err := os.Lstat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			t.Fatal(err)
		}
		hdr.Name = n
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			tw.Write(data)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "layout.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// run verifies target and fails the test on an operational error.
func run(t testing.TB, target string, opts Options) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), target, opts)
	if err != nil {
		t.Fatalf("Verify(%s) error = %v, want a report", target, err)
	}
	return rep
}

// find returns the findings with code.
func find(rep *Report, code Code) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

// dump formats the findings for a failure message.
func dump(rep *Report) string {
	var b strings.Builder
	rep.WriteText(&b)
	return b.String()
}
