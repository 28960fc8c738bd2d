package layout

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/profile"
)

const emptyConfig = `"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}`

func TestParseDocument(t *testing.T) {
	const (
		index    = ocispec.MediaTypeImageIndex
		manifest = ocispec.MediaTypeImageManifest
	)
	tests := []struct {
		name, doc, mediaType string
		want                 error
	}{
		{"manifest", `{"schemaVersion":2,"mediaType":"` + manifest + `",` + emptyConfig + `,"layers":[]}`, manifest, nil},
		{"manifest without mediaType", `{"schemaVersion":2,` + emptyConfig + `}`, manifest, nil},
		{"docker manifest", `{"schemaVersion":2,"mediaType":"` + profile.MediaTypeDockerManifest + `",` + emptyConfig + `,"layers":[]}`, profile.MediaTypeDockerManifest, nil},
		{"index", `{"schemaVersion":2,"mediaType":"` + index + `","manifests":[]}`, index, nil},
		{"docker manifest list", `{"schemaVersion":2,"mediaType":"` + profile.MediaTypeDockerManifestList + `","manifests":[]}`, profile.MediaTypeDockerManifestList, nil},
		{"artifact manifest", `{"mediaType":"` + profile.MediaTypeArtifactManifest + `","blobs":[]}`, profile.MediaTypeArtifactManifest, nil},
		{"not a document type", `{"schemaVersion":2,"manifests":[]}`, ocispec.MediaTypeImageConfig, ErrBadDocument},
		{"no descriptor type", `{"schemaVersion":2,"manifests":[]}`, "", ErrBadDocument},
		{"schemaVersion 1", `{"schemaVersion":1,` + emptyConfig + `}`, manifest, ErrBadDocument},
		{"no schemaVersion", `{"manifests":[]}`, index, ErrBadDocument},
		{"mediaType differs", `{"schemaVersion":2,"mediaType":"` + index + `",` + emptyConfig + `}`, manifest, ErrBadDocument},
		{"docker type for an OCI manifest", `{"schemaVersion":2,"mediaType":"` + profile.MediaTypeDockerManifest + `",` + emptyConfig + `}`, manifest, ErrBadDocument},
		{"manifest without config", `{"schemaVersion":2,"layers":[]}`, manifest, ErrBadDocument},
		{"manifest with empty config", `{"schemaVersion":2,"config":{}}`, manifest, ErrBadDocument},
		{"index without manifests", `{"schemaVersion":2}`, index, ErrBadDocument},
		{"index with null manifests", `{"schemaVersion":2,"manifests":null}`, index, ErrBadDocument},
		{"manifest with manifests", `{"schemaVersion":2,` + emptyConfig + `,"layers":[],"manifests":[]}`, manifest, ErrBadDocument},
		{"index with layers", `{"schemaVersion":2,"manifests":[],"layers":[]}`, index, ErrBadDocument},
		{"index with config", `{"schemaVersion":2,"manifests":[],` + emptyConfig + `}`, index, ErrBadDocument},
		{"duplicate key", `{"schemaVersion":2,"manifests":[],"manifests":[]}`, index, ErrBadJSON},
		{"case variant", `{"schemaVersion":2,` + emptyConfig + `,"Config":{}}`, manifest, ErrBadJSON},
		{"wrong field type", `{"schemaVersion":2,"manifests":[],"blobs":{}}`, index, ErrBadJSON},
		{"trailing data", `{"schemaVersion":2,"manifests":[]} {}`, index, ErrBadJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDocument([]byte(tt.doc), tt.mediaType)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ParseDocument() = %v, want %v", err, tt.want)
			}
		})
	}
}

// putDocument stores v as JSON with media type mt.
func putDocument(t *testing.T, s *Store, mt string, v any) ocispec.Descriptor {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := s.PutBytes(ctx, mt, data)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// ociManifest is an image manifest document naming config and layers.
func ociManifest(config ocispec.Descriptor, subject *ocispec.Descriptor, layers ...ocispec.Descriptor) map[string]any {
	m := map[string]any{"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageManifest, "config": config, "layers": layers}
	if subject != nil {
		m["subject"] = subject
	}
	return m
}

func TestStoreReadDocument(t *testing.T) {
	f := newWalkFixture(t)
	s, cfg, md := f.s, f.cfg, f.m1
	t.Chdir(t.TempDir()) // the store's root is absolute; reads do not depend on the working directory
	asIndex := md
	asIndex.MediaType = ocispec.MediaTypeImageIndex
	asConfig := md
	asConfig.MediaType = ocispec.MediaTypeImageConfig
	tests := []struct {
		name string
		desc ocispec.Descriptor
		want error
	}{
		{"manifest", md, nil},
		{"descriptor says index", asIndex, ErrBadDocument},
		{"descriptor says config", asConfig, ErrBadDocument},
		{"missing", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("absent"), Size: 6}, ErrBlobNotFound},
		{"wrong size", ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: md.Digest, Size: md.Size + 1}, ErrSizeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := s.ReadDocument(ctx, tt.desc)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("ReadDocument() = %v, want %v", err, tt.want)
			}
			if err == nil && (doc.Config == nil || doc.Config.Digest != cfg.Digest || doc.MediaType != ocispec.MediaTypeImageManifest) {
				t.Errorf("ReadDocument() = %+v, want the manifest with config %s", doc, cfg.Digest)
			}
		})
	}
}

func TestReadManifestAndIndexBlob(t *testing.T) {
	f := newWalkFixture(t)
	s, cfg, md, id := f.s, f.cfg, f.m1, f.index
	untyped := md
	untyped.MediaType = ""
	if m, err := s.ReadManifest(ctx, untyped); err != nil || m.Config.Digest != cfg.Digest {
		t.Errorf("ReadManifest(no media type) = %+v, %v; want config %s", m, err, cfg.Digest)
	}
	if _, err := s.ReadManifest(ctx, id); !errors.Is(err, ErrBadDocument) {
		t.Errorf("ReadManifest(index) = %v, want ErrBadDocument", err)
	}
	if ix, err := s.ReadIndexBlob(ctx, id); err != nil || len(ix.Manifests) != 2 || ix.Manifests[0].Digest != md.Digest {
		t.Errorf("ReadIndexBlob() = %+v, %v; want two manifests, the first %s", ix, err, md.Digest)
	}
	if _, err := s.ReadIndexBlob(ctx, md); !errors.Is(err, ErrBadDocument) {
		t.Errorf("ReadIndexBlob(manifest) = %v, want ErrBadDocument", err)
	}
}

// walkFixture is a store with an index of two manifests that share a config
// and a layer; the second is a referrer of the first.
type walkFixture struct {
	s                          *Store
	cfg, l1, l2, m1, m2, index ocispec.Descriptor
}

func newWalkFixture(t *testing.T) walkFixture {
	t.Helper()
	f := walkFixture{s: newStore(t)}
	put := func(text string) ocispec.Descriptor {
		d, err := f.s.PutBytes(ctx, "application/octet-stream", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	f.cfg, f.l1, f.l2 = put("{}"), put("one"), put("two")
	f.m1 = putDocument(t, f.s, ocispec.MediaTypeImageManifest, ociManifest(f.cfg, nil, f.l1, f.l2))
	f.m2 = putDocument(t, f.s, ocispec.MediaTypeImageManifest, ociManifest(f.cfg, &f.m1, f.l2))
	f.index = putDocument(t, f.s, ocispec.MediaTypeImageIndex, map[string]any{"schemaVersion": 2, "manifests": []ocispec.Descriptor{f.m1, f.m2}})
	return f
}

// walk runs one Walker over roots and returns the digests visited, in
// order, with a "+" after each that came with a document.
func walk(w *Walker, roots ...ocispec.Descriptor) ([]string, error) {
	var got []string
	for _, r := range roots {
		err := w.Walk(ctx, r, func(d ocispec.Descriptor, doc *Document) error {
			name := d.Digest.Encoded()[:8]
			if doc != nil {
				name += "+"
			}
			got = append(got, name)
			return nil
		})
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

func short(descs ...ocispec.Descriptor) []string {
	var out []string
	for _, d := range descs {
		out = append(out, d.Digest.Encoded()[:8])
	}
	return out
}

func TestWalk(t *testing.T) {
	f := newWalkFixture(t)
	want := short(f.index, f.m1, f.cfg, f.l1, f.l2, f.m2)
	for _, i := range []int{0, 1, 5} {
		want[i] += "+"
	}
	w := f.s.NewWalker(WalkOptions{Exists: true})
	got, err := walk(w, f.index, f.m1) // the second root is already visited
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Walk() = %v, %v; want %v (pre-order, each blob once)", got, err, want)
	}
	for _, d := range []ocispec.Descriptor{f.index, f.m1, f.m2, f.cfg, f.l1, f.l2} {
		if !w.Visited(d.Digest) {
			t.Errorf("Visited(%s) = false after the walk", d.Digest)
		}
	}
	if w.Visited(digest.FromString("other")) {
		t.Errorf("Visited(a digest outside the graph) = true")
	}
	stop := errors.New("stop")
	if err := f.s.NewWalker(WalkOptions{}).Walk(ctx, f.index, func(ocispec.Descriptor, *Document) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Walk(visit fails) = %v, want its error", err)
	}
}

func TestWalkOptions(t *testing.T) {
	leaf := func(f walkFixture, text string) ocispec.Descriptor {
		d, err := f.s.PutBytes(ctx, "application/octet-stream", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ghost := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("ghost"), Size: 5}
	tests := []struct {
		name  string
		opts  WalkOptions
		build func(t *testing.T, f walkFixture) (root ocispec.Descriptor, want []ocispec.Descriptor)
		err   error
	}{
		{"missing layer, unchecked", WalkOptions{}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			gone := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromString("gone"), Size: 4}
			return putDocument(t, f.s, ocispec.MediaTypeImageManifest, ociManifest(f.cfg, nil, gone)), []ocispec.Descriptor{f.cfg, {Digest: digest.FromString("gone")}}
		}, nil},
		{"missing layer, Exists", WalkOptions{Exists: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			gone := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromString("gone"), Size: 4}
			return putDocument(t, f.s, ocispec.MediaTypeImageManifest, ociManifest(f.cfg, nil, gone)), nil
		}, ErrBlobNotFound},
		{"wrong layer size, Exists", WalkOptions{Exists: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			l := f.l1
			l.Size++
			return putDocument(t, f.s, ocispec.MediaTypeImageManifest, ociManifest(f.cfg, nil, l)), nil
		}, ErrSizeMismatch},
		{"negative size, Exists", WalkOptions{Exists: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			l := f.l1
			l.Size = -1
			return putDocument(t, f.s, ocispec.MediaTypeImageManifest, ociManifest(f.cfg, nil, l)), nil
		}, ErrBadDocument},
		{"invalid layer digest", WalkOptions{}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			bad := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: "sha256:nothex", Size: 1}
			return putDocument(t, f.s, ocispec.MediaTypeImageManifest, ociManifest(f.cfg, nil, bad)), nil
		}, ErrBadDigest},
		{"missing manifest", WalkOptions{}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			return ghost, nil
		}, ErrBlobNotFound},
		{"subject not followed", WalkOptions{}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			return f.m2, []ocispec.Descriptor{f.cfg, f.l2}
		}, nil},
		{"subject followed", WalkOptions{Subjects: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			return f.m2, []ocispec.Descriptor{f.cfg, f.l2, f.m1, f.l1}
		}, nil},
		{"missing subject skipped", WalkOptions{Subjects: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			return putDocument(t, f.s, ocispec.MediaTypeImageManifest, ociManifest(f.cfg, &ghost)), []ocispec.Descriptor{f.cfg}
		}, nil},
		{"artifact manifest blobs", WalkOptions{Exists: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			b := leaf(f, "blob")
			return putDocument(t, f.s, profile.MediaTypeArtifactManifest, map[string]any{"mediaType": profile.MediaTypeArtifactManifest, "blobs": []ocispec.Descriptor{b}}), []ocispec.Descriptor{b}
		}, nil},
		{"schemaVersion 1, strict", WalkOptions{}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			m := ociManifest(f.cfg, nil, f.l1)
			m["schemaVersion"] = 1
			return putDocument(t, f.s, ocispec.MediaTypeImageManifest, m), nil
		}, ErrBadDocument},
		{"schemaVersion 1, Lenient", WalkOptions{Lenient: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			m := ociManifest(f.cfg, nil, f.l1)
			m["schemaVersion"] = 1
			return putDocument(t, f.s, ocispec.MediaTypeImageManifest, m), []ocispec.Descriptor{f.cfg, f.l1}
		}, nil},
		{"not strict JSON, Lenient", WalkOptions{Lenient: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			d, err := f.s.PutBytes(ctx, ocispec.MediaTypeImageManifest, []byte(`{"layers":[],"layers":[]}`))
			if err != nil {
				t.Fatal(err)
			}
			return d, nil
		}, ErrBadJSON},
		{"unknown type, strict: a leaf", WalkOptions{}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			m := f.m1
			m.MediaType = "application/x-unknown"
			return m, nil
		}, nil},
		{"unknown type that decodes, Lenient: a document", WalkOptions{Lenient: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			m := f.m1
			m.MediaType = "application/x-unknown"
			return m, []ocispec.Descriptor{f.cfg, f.l1, f.l2}
		}, nil},
		{"unknown type that does not decode, Lenient: a leaf", WalkOptions{Lenient: true}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			l := f.l1
			l.MediaType = "application/x-unknown"
			return l, nil
		}, nil},
		{"too deep", WalkOptions{}, func(t *testing.T, f walkFixture) (ocispec.Descriptor, []ocispec.Descriptor) {
			cur := f.m1
			for range maxGraphDepth + 1 {
				cur = putDocument(t, f.s, ocispec.MediaTypeImageIndex, map[string]any{"schemaVersion": 2, "manifests": []ocispec.Descriptor{cur}})
			}
			return cur, nil
		}, ErrBadDocument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newWalkFixture(t)
			root, below := tt.build(t, f)
			got, err := walk(f.s.NewWalker(tt.opts), root)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("Walk() = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			var digests []string
			for _, g := range got {
				digests = append(digests, g[:8])
			}
			if want := short(append([]ocispec.Descriptor{root}, below...)...); !reflect.DeepEqual(digests, want) {
				t.Errorf("Walk() visited %v, want %v", digests, want)
			}
		})
	}
}

// A document's file replaced by a symlink is refused, even when walking.
func TestWalkRefusesSymlink(t *testing.T) {
	f := newWalkFixture(t)
	p := filepath.Join(f.s.Root(), "blobs", "sha256", f.m1.Digest.Encoded())
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(f.s.Root(), "blobs", "sha256", f.m2.Digest.Encoded()), p); err != nil {
		t.Fatal(err)
	}
	if _, err := walk(f.s.NewWalker(WalkOptions{}), f.index); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Walk(symlinked manifest) = %v, want ErrNotRegular", err)
	}
}

func TestDocumentIndex(t *testing.T) {
	data := `{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageIndex + `","artifactType":"x/y","manifests":[{"mediaType":"` + ocispec.MediaTypeImageManifest + `","digest":"` + digest.FromString("m").String() + `","size":1}],"annotations":{"a":"b"}}`
	doc, err := ParseDocument([]byte(data), ocispec.MediaTypeImageIndex)
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Index()
	if got.SchemaVersion != 2 || got.MediaType != ocispec.MediaTypeImageIndex || got.ArtifactType != "x/y" || len(got.Manifests) != 1 || got.Annotations["a"] != "b" {
		t.Errorf("Index() = %+v, want the index's fields", got)
	}
}
