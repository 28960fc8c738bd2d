package bundle

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/verify"
)

// putDockerImage stores in s a Docker schema 2 image, as `crane pull
// --format oci` and `regctl image copy … ocidir://` leave one: a
// vnd.docker manifest, a vnd.docker config with diff_ids and the platform,
// and one gzip layer (vnd.docker…tar.gzip) holding the file name with body.
// It returns the manifest's descriptor, with the platform set as an index
// entry carries it.
func putDockerImage(t *testing.T, s *layout.Store, p ocispec.Platform, name, body string) ocispec.Descriptor {
	t.Helper()
	content := tarOf(t, []tarEntry{{name: name, body: body}})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(content)
	must(t, zw.Close())
	l, err := s.PutBytes(ctx, profile.MediaTypeDockerLayerGzip, gz.Bytes())
	must(t, err)
	cfg, _ := json.Marshal(map[string]any{
		"architecture": p.Architecture, "os": p.OS, "variant": p.Variant,
		"rootfs": map[string]any{"type": "layers", "diff_ids": []digest.Digest{digest.FromBytes(content)}},
	})
	c, err := s.PutBytes(ctx, profile.MediaTypeDockerConfig, cfg)
	must(t, err)
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": profile.MediaTypeDockerManifest,
		"config": c, "layers": []ocispec.Descriptor{l},
	})
	d, err := s.PutBytes(ctx, profile.MediaTypeDockerManifest, m)
	must(t, err)
	d.Platform = &p
	return d
}

// putIndex stores an index of mediaType (an OCI index or a Docker manifest
// list) naming entries, and returns its descriptor.
func putIndex(t *testing.T, s *layout.Store, mediaType string, entries ...ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	data, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaType, "manifests": entries})
	d, err := s.PutBytes(ctx, mediaType, data)
	must(t, err)
	return d
}

// newLayout creates an empty layout and returns its directory and store.
func newLayout(t *testing.T) (string, *layout.Store) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "L")
	s, err := layout.Create(ctx, dir)
	must(t, err)
	return dir, s
}

// tagEntry tags desc in s's index.json.
func tagEntry(t *testing.T, s *layout.Store, desc ocispec.Descriptor, tag string) {
	t.Helper()
	must(t, s.UpdateIndex(ctx, func(idx *ocispec.Index) error { return layout.SetTag(idx, desc, tag) }))
}

// hostPlatform is this machine's platform as an index entry names it.
func hostPlatform() ocispec.Platform {
	return ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
}

// TestDockerSchema2: a Docker schema 2 image and a Docker manifest list
// verify --deep clean,
// extract like their OCI equivalents, are described by Inspect, and go
// through export and import unchanged.
func TestDockerSchema2(t *testing.T) {
	dir, s := newLayout(t)
	img := putDockerImage(t, s, hostPlatform(), "etc/hello", "from docker")
	tagEntry(t, s, img, "image")
	list := putIndex(t, s, profile.MediaTypeDockerManifestList, img)
	tagEntry(t, s, list, "list")

	rep, err := verify.Verify(ctx, dir, verify.Options{Deep: true})
	must(t, err)
	if rep.Err() != nil || rep.Summary.Warnings != 0 {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("verify --deep = %v:\n%s", rep.Err(), b.String())
	}
	for _, tag := range []string{"image", "list"} {
		out := filepath.Join(t.TempDir(), "out")
		res, err := Extract(ctx, dir+":"+tag, out, ExtractOptions{})
		if err != nil {
			t.Fatalf("Extract(%s) = %v", tag, err)
		}
		if data, err := os.ReadFile(filepath.Join(out, "etc/hello")); err != nil || string(data) != "from docker" || res.Digest != img.Digest {
			t.Errorf("Extract(%s) = %s, etc/hello %q, %v; want %s and \"from docker\"", tag, res.Digest, data, err, img.Digest)
		}
	}
	in, err := Inspect(ctx, dir+"@"+list.Digest.String())
	must(t, err)
	if host := hostPlatform(); len(in.Manifests) != 1 || in.Manifests[0].Digest != img.Digest || in.Manifests[0].Platform != host.OS+"/"+host.Architecture {
		t.Errorf("Inspect(manifest list).Manifests = %+v, want the image for %s/%s", in.Manifests, host.OS, host.Architecture)
	}
	in, err = Inspect(ctx, dir+":image")
	must(t, err)
	if len(in.Layers) != 1 || in.Layers[0].MediaType != profile.MediaTypeDockerLayerGzip || in.Config == nil || in.Config.MediaType != profile.MediaTypeDockerConfig {
		t.Errorf("Inspect(docker image) = layers %+v, config %+v", in.Layers, in.Config)
	}

	arc := filepath.Join(t.TempDir(), "docker.tar")
	_, err = ExportFile(ctx, arc, []string{dir + ":list"}, ExportOptions{})
	must(t, err)
	out := filepath.Join(t.TempDir(), "from-archive")
	if _, err := Extract(ctx, arc, out, ExtractOptions{}); err != nil {
		t.Fatalf("Extract(archive of the list) = %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(out, "etc/hello")); err != nil || string(data) != "from docker" {
		t.Errorf("Extract(archive) wrote etc/hello %q, %v", data, err)
	}
}

// TestDockerForeignLayer: a Docker foreign layer is a gzip tar like any
// other when its blob is in the layout; when it is not (it lives at its
// urls), verify warns and extract fails naming the layer.
func TestDockerForeignLayer(t *testing.T) {
	for _, present := range []bool{true, false} {
		dir, s := newLayout(t)
		img := putDockerImage(t, s, hostPlatform(), "etc/hello", "foreign")
		m, err := s.ReadManifest(ctx, img)
		must(t, err)
		l := m.Layers[0]
		l.MediaType, l.URLs = profile.MediaTypeDockerForeignLayer, []string{"https://example.com/base-layer"}
		if !present {
			must(t, os.Remove(filepath.Join(dir, "blobs", "sha256", l.Digest.Encoded())))
		}
		data, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": profile.MediaTypeDockerManifest, "config": m.Config, "layers": []ocispec.Descriptor{l}})
		d, err := s.PutBytes(ctx, profile.MediaTypeDockerManifest, data)
		must(t, err)
		tagEntry(t, s, d, "foreign")
		rep, err := verify.Verify(ctx, dir+":foreign", verify.Options{Deep: true})
		must(t, err)
		_, xerr := Extract(ctx, dir+":foreign", filepath.Join(t.TempDir(), "out"), ExtractOptions{})
		if present {
			if rep.Err() != nil || rep.Summary.Warnings != 0 || xerr != nil {
				t.Errorf("foreign layer present: verify --deep = %v (%d warnings), Extract() = %v; want both clean", rep.Err(), rep.Summary.Warnings, xerr)
			}
			continue
		}
		if rep.Err() != nil || rep.Summary.Warnings != 1 {
			t.Errorf("foreign layer absent: verify = %v, %d warnings; want one warning", rep.Err(), rep.Summary.Warnings)
		}
		if !errors.Is(xerr, layout.ErrBlobNotFound) || !strings.Contains(xerr.Error(), l.Digest.String()) {
			t.Errorf("foreign layer absent: Extract() = %v, want ErrBlobNotFound naming %s", xerr, l.Digest)
		}
	}
}
