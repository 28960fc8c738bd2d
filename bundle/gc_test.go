package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/units"
)

// blobSet lists the digests in blobs/sha256 of the layout at dir.
func blobSet(t *testing.T, dir string) []digest.Digest {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	must(t, err)
	var out []digest.Digest
	for _, e := range entries {
		out = append(out, digest.NewDigestFromEncoded(digest.SHA256, e.Name()))
	}
	return out
}

// graphBlobs returns every digest of the bundle res describes: manifest,
// config and layers.
func graphBlobs(res PackResult) []digest.Digest {
	out := []digest.Digest{res.Digest, ocispec.DescriptorEmptyJSON.Digest}
	for _, l := range res.Layers {
		out = append(out, l.Digest)
	}
	return out
}

func union(sets ...[]digest.Digest) []digest.Digest {
	m := map[digest.Digest]bool{}
	for _, s := range sets {
		for _, d := range s {
			m[d] = true
		}
	}
	out := make([]digest.Digest, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func TestTagUntag(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	r1, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}})
	must(t, err)
	t.Chdir(filepath.Dir(dir)) // references relative to another working directory

	res, err := Tag(ctx, "L:v1", []string{"stable", "latest"})
	must(t, err)
	if res.Digest != r1.Digest || !reflect.DeepEqual(res.Tags, []string{"stable", "latest"}) {
		t.Errorf("Tag(L:v1) = %+v", res)
	}
	for _, tag := range []string{"v1", "stable", "latest"} {
		in, err := Inspect(ctx, "L:"+tag)
		if err != nil || in.Digest != r1.Digest {
			t.Errorf("Inspect(L:%s) = %s, %v; want %s", tag, in.Digest, err, r1.Digest)
		}
	}
	before, err := os.ReadFile(filepath.Join(dir, "index.json"))
	must(t, err)
	if _, err := Tag(ctx, "L@"+r1.Digest.String(), []string{"latest"}); err != nil {
		t.Errorf("Tag(again) = %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if !bytes.Equal(before, after) {
		t.Errorf("tagging again changed index.json:\n%s\n%s", before, after)
	}

	// A bad tag among good ones: nothing is added.
	if _, err := Tag(ctx, "L:v1", []string{"ok", "bad tag"}); !errors.Is(err, layout.ErrBadTag) {
		t.Errorf("Tag(bad tag) = %v, want ErrBadTag", err)
	}
	if _, err := Tag(ctx, "L:v1", nil); !errors.Is(err, ErrBadInput) {
		t.Errorf("Tag(no tags) = %v, want ErrBadInput", err)
	}
	if _, err := Tag(ctx, "L:nope", []string{"x"}); !errors.Is(err, layout.ErrTagNotFound) {
		t.Errorf("Tag(L:nope) = %v, want ErrTagNotFound", err)
	}
	after, _ = os.ReadFile(filepath.Join(dir, "index.json"))
	if !bytes.Equal(before, after) {
		t.Errorf("failed tags changed index.json")
	}

	// A tag moves from one manifest to another.
	r2, err := Pack(ctx, dir, paths[1:], PackOptions{Tags: []string{"v2"}})
	must(t, err)
	if _, err := Tag(ctx, "L:v2", []string{"latest"}); err != nil {
		t.Fatal(err)
	}
	if in, _ := Inspect(ctx, "L:latest"); in.Digest != r2.Digest {
		t.Errorf("after moving latest: L:latest = %s, want %s", in.Digest, r2.Digest)
	}

	res, err = Untag(ctx, "L:stable")
	if err != nil || res.Digest != r1.Digest {
		t.Errorf("Untag(L:stable) = %+v, %v", res, err)
	}
	if _, err := Inspect(ctx, "L:stable"); !errors.Is(err, layout.ErrTagNotFound) {
		t.Errorf("Inspect(L:stable) after untag = %v, want ErrTagNotFound", err)
	}
	if in, err := Inspect(ctx, "L:v1"); err != nil || in.Digest != r1.Digest {
		t.Errorf("Inspect(L:v1) after untagging stable = %v", err)
	}
	if _, err := Untag(ctx, "L:stable"); !errors.Is(err, layout.ErrTagNotFound) {
		t.Errorf("Untag(L:stable) again = %v, want ErrTagNotFound", err)
	}
	if _, err := Untag(ctx, "L"); !errors.Is(err, layout.ErrBadReference) {
		t.Errorf("Untag(L) = %v, want ErrBadReference", err)
	}
	if _, err := Untag(ctx, "L@"+r1.Digest.String()); !errors.Is(err, layout.ErrBadReference) {
		t.Errorf("Untag(L@digest) = %v, want ErrBadReference", err)
	}
}

func TestGC(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	old, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}})
	must(t, err)
	// Re-packing the tag with other content leaves old's manifest and its
	// first layer unreferenced; the second layer (notes.md) is shared.
	must(t, os.WriteFile(filepath.Join(src, "app", "new.txt"), []byte("new"), 0o644))
	cur, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}})
	must(t, err)
	other, err := Pack(ctx, dir, paths[1:], PackOptions{Tags: []string{"other"}, Compression: compress.Gzip})
	must(t, err)
	_, err = Untag(ctx, dir+":other")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "ingest", "blob-42"), []byte("partial"), 0o600))

	want := union(graphBlobs(cur))
	garbage := []digest.Digest{old.Digest, old.Layers[0].Digest, other.Digest, other.Layers[0].Digest}
	all := blobSet(t, dir)
	if !reflect.DeepEqual(union(all), union(want, garbage)) {
		t.Fatalf("blobs before gc = %v, want %v", all, union(want, garbage))
	}

	dry, err := GC(ctx, dir, GCOptions{DryRun: true})
	must(t, err)
	if !reflect.DeepEqual(blobSet(t, dir), all) {
		t.Error("GC(dry run) removed blobs")
	}
	if _, err := os.Stat(filepath.Join(dir, "ingest", "blob-42")); err != nil {
		t.Errorf("GC(dry run) removed an ingest file: %v", err)
	}
	res, err := GC(ctx, dir, GCOptions{})
	must(t, err)
	for _, r := range []GCResult{dry, res} {
		var removed []digest.Digest
		var bytes int64
		for _, f := range r.Removed {
			bytes += f.Size
			if f.Digest != "" {
				removed = append(removed, f.Digest)
			}
		}
		if !reflect.DeepEqual(union(removed), union(garbage)) || r.Blobs != 4 || r.Ingest != 1 || r.Kept != len(want) || r.Bytes != bytes {
			t.Errorf("GC(dryRun=%v) = %+v, want %v removed", r.DryRun, r, garbage)
		}
		if last := r.Removed[len(r.Removed)-1]; last.Path != "ingest/blob-42" || last.Size != 7 {
			t.Errorf("GC(dryRun=%v) last removed = %+v, want ingest/blob-42", r.DryRun, last)
		}
	}
	if got := union(blobSet(t, dir)); !reflect.DeepEqual(got, want) {
		t.Errorf("blobs after gc = %v, want %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "ingest", "blob-42")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ingest file after gc: %v, want it removed", err)
	}
	if _, err := List(ctx, dir); err != nil {
		t.Errorf("List() after gc = %v", err)
	}
	var text bytes.Buffer
	must(t, WriteGCText(&text, res))
	if !strings.Contains(text.String(), "removed blobs/sha256/"+old.Digest.Encoded()) ||
		!strings.HasSuffix(text.String(), "removed 4 blobs and 1 ingest file; "+units.FormatBytes(res.Bytes)+" ("+strconv.FormatInt(res.Bytes, 10)+" bytes) freed; 4 blobs kept\n") {
		t.Errorf("WriteGCText() = %q", text.String())
	}
	again, err := GC(ctx, dir, GCOptions{})
	if err != nil || len(again.Removed) != 0 {
		t.Errorf("GC() again = %+v, %v; want nothing removed", again, err)
	}
}

// putJSON stores v as a blob of the given media type.
func putJSON(t *testing.T, s *layout.Store, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	data, err := json.Marshal(v)
	must(t, err)
	d, err := s.PutBytes(ctx, mediaType, data)
	must(t, err)
	return d
}

func TestGCReachability(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	base, err := Pack(ctx, dir, paths[1:], PackOptions{})
	must(t, err)
	s, err := layout.Open(dir)
	must(t, err)
	layer := func(text string) ocispec.Descriptor {
		d, err := s.PutBytes(ctx, "application/octet-stream", []byte(text))
		must(t, err)
		return d
	}
	manifest := func(subject *ocispec.Descriptor, layers ...ocispec.Descriptor) ocispec.Descriptor {
		return putJSON(t, s, ocispec.MediaTypeImageManifest, ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
			Config: ocispec.DescriptorEmptyJSON, Layers: layers, Subject: subject,
		})
	}
	// A nested index: index.json → index → manifest → layer.
	nestedLayer := layer("nested")
	nested := manifest(nil, nestedLayer)
	inner := putJSON(t, s, ocispec.MediaTypeImageIndex, ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{nested},
	})
	// A referrer listed in index.json keeps its own blobs and its subject,
	// here a manifest that index.json does not list.
	subjectLayer := layer("subject")
	subject := manifest(nil, subjectLayer)
	sigLayer := layer("signature")
	referrer := manifest(&subject, sigLayer)
	// A referrer whose subject is missing is fine.
	ghost := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("ghost"), Size: 5}
	orphanRef := manifest(&ghost, layer("orphan signature"))
	// Unreachable: a referrer not listed in index.json, and a lone layer.
	unlistedLayer := layer("unlisted")
	unlistedRef := manifest(&subject, unlistedLayer)
	lone := layer("lone")
	must(t, s.UpdateIndex(ctx, func(idx *ocispec.Index) error {
		idx.Manifests = append(idx.Manifests, inner, referrer, orphanRef)
		return nil
	}))

	res, err := GC(ctx, dir, GCOptions{})
	must(t, err)
	var removed []digest.Digest
	for _, f := range res.Removed {
		removed = append(removed, f.Digest)
	}
	if want := union([]digest.Digest{unlistedRef.Digest, unlistedLayer.Digest, lone.Digest}); !reflect.DeepEqual(union(removed), want) {
		t.Errorf("GC() removed %v, want %v (unlisted referrer and its layer, lone layer)", removed, want)
	}
	for _, d := range append(graphBlobs(base), inner.Digest, nested.Digest, nestedLayer.Digest, subject.Digest, subjectLayer.Digest, referrer.Digest, sigLayer.Digest, orphanRef.Digest) {
		if ok, err := s.Exists(ctx, ocispec.Descriptor{Digest: d, Size: sizeOf(t, dir, d)}); !ok || err != nil {
			t.Errorf("reachable blob %s after gc: exists=%v, %v", d, ok, err)
		}
	}
}

func sizeOf(t *testing.T, dir string, d digest.Digest) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, "blobs", "sha256", d.Encoded()))
	if err != nil {
		return -1
	}
	return fi.Size()
}

// A manifest that index.json names but that is missing or corrupt: gc
// cannot know what lies below it, so it removes nothing.
func TestGCRefusesUnknownGraph(t *testing.T) {
	for _, damage := range []string{"missing", "corrupt"} {
		t.Run(damage, func(t *testing.T) {
			src := t.TempDir()
			paths := fixture(t, src)
			dir := filepath.Join(t.TempDir(), "L")
			r, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}})
			must(t, err)
			s, err := layout.Open(dir)
			must(t, err)
			_, err = s.PutBytes(ctx, "application/octet-stream", []byte("lone")) // garbage gc must not touch now
			must(t, err)
			p := filepath.Join(dir, "blobs", "sha256", r.Digest.Encoded())
			want := layout.ErrBlobNotFound
			if damage == "missing" {
				must(t, os.Remove(p))
			} else {
				must(t, os.Chmod(p, 0o644))
				data, _ := os.ReadFile(p)
				data[len(data)-2] ^= 1
				must(t, os.WriteFile(p, data, 0o644))
				want = layout.ErrDigestMismatch
			}
			before := blobSet(t, dir)
			if _, err := GC(ctx, dir, GCOptions{}); !errors.Is(err, want) {
				t.Errorf("GC(%s manifest) = %v, want %v", damage, err, want)
			}
			if after := blobSet(t, dir); !reflect.DeepEqual(after, before) {
				t.Errorf("GC(%s manifest) removed blobs: %v → %v", damage, before, after)
			}
		})
	}
}

// gateProgress blocks Pack in Finish, which it calls after committing its
// layers and before it writes the manifest and updates index.json: the
// window in which the new blobs are unreferenced.
type gateProgress struct {
	reached chan struct{}
	resume  chan struct{}
}

func (gateProgress) Start(string, int64) {}
func (gateProgress) Add(int64)           {}
func (g gateProgress) Finish()           { close(g.reached); <-g.resume }

// TestGCDuringPack runs gc while a pack has committed its layers but not yet
// named them in index.json, including the case where the pack reuses old
// unreferenced blobs (Commit finds them present and does not write them
// again): gc must wait, and the pack's bundle must be complete afterwards.
func TestGCDuringPack(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	first, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}})
	must(t, err)
	_, err = Untag(ctx, dir+":v1") // every blob of first is now garbage
	must(t, err)

	gate := gateProgress{reached: make(chan struct{}), resume: make(chan struct{})}
	packed := make(chan PackResult)
	go func() {
		r, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}, Progress: gate})
		if err != nil {
			t.Error(err)
		}
		packed <- r
	}()
	<-gate.reached
	// The pack holds the blob lock shared: gc's exclusive lock is refused
	// (a deterministic probe, not a wait), and a gc waits for the pack.
	if err := probeBlobLock(t, dir); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("probe of the blob lock during the pack = %v, want EWOULDBLOCK", err)
	}
	gcDone := make(chan GCResult)
	go func() {
		r, err := GC(ctx, dir, GCOptions{})
		if err != nil {
			t.Error(err)
		}
		gcDone <- r
	}()
	close(gate.resume)
	second := <-packed
	res := <-gcDone
	if second.Digest != first.Digest {
		t.Fatalf("re-pack gave %s, want %s (the test relies on reused blobs)", second.Digest, first.Digest)
	}
	if len(res.Removed) != 0 {
		t.Errorf("GC() after the pack removed %+v, want nothing", res.Removed)
	}
	if got, want := union(blobSet(t, dir)), union(graphBlobs(second)); !reflect.DeepEqual(got, want) {
		t.Errorf("blobs = %v, want %v", got, want)
	}
	if _, err := Inspect(ctx, dir+":v1"); err != nil {
		t.Errorf("Inspect(v1) = %v", err)
	}
}

// Tag of a digest that gc removed in the meantime fails under the index
// lock instead of naming a missing manifest.
func TestTagAfterGC(t *testing.T) {
	src := t.TempDir()
	paths := fixture(t, src)
	dir := filepath.Join(t.TempDir(), "L")
	r, err := Pack(ctx, dir, paths, PackOptions{Tags: []string{"v1"}})
	must(t, err)
	_, err = Untag(ctx, dir+":v1")
	must(t, err)
	_, err = GC(ctx, dir, GCOptions{})
	must(t, err)
	if _, err := Tag(ctx, dir+"@"+r.Digest.String(), []string{"v1"}); !errors.Is(err, layout.ErrBlobNotFound) {
		t.Errorf("Tag(collected digest) = %v, want ErrBlobNotFound", err)
	}
	idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
	must(t, err)
	if strings.Contains(string(idx), r.Digest.String()) {
		t.Errorf("index.json names the collected manifest: %s", idx)
	}
}
