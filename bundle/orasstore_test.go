package bundle

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/progress"
)

// countProgress adds up what it is told.
type countProgress struct{ n atomic.Int64 }

func (p *countProgress) Start(string, int64) {}
func (p *countProgress) Add(n int64)         { p.n.Add(n) }
func (p *countProgress) Finish()             {}

// TestOrasStoreRoundTrip copies a bundle and its referrer out of a layout
// with oras.Copy and CopyGraph into oras-go's memory store, and back into a new
// layout with CopyGraph: what arrives is whole and verified.
func TestOrasStoreRoundTrip(t *testing.T) {
	dir, res := packedLayout(t, "v1")
	store, err := layout.Open(dir)
	must(t, err)
	root, err := store.Resolve(ctx, layout.Reference{Path: dir, Tag: "v1"})
	must(t, err)
	sig := referrer(t, store, root, "sig")
	layer := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: res.Layers[0].Digest, Size: res.Layers[0].Size}

	var read countProgress
	src := &orasStore{store: store, progress: &read}
	mem := memory.New()
	got, err := oras.Copy(ctx, src, "v1", mem, "v1", oras.CopyOptions{})
	if err != nil || got.Digest != res.Digest {
		t.Fatalf("Copy(layout → memory) = %s, %v, want %s", got.Digest, err, res.Digest)
	}
	if err := oras.CopyGraph(ctx, src, mem, sig, oras.CopyGraphOptions{}); err != nil {
		t.Fatalf("CopyGraph(referrer, layout → memory) = %v", err)
	}
	if ok, _ := mem.Exists(ctx, sig); !ok {
		t.Errorf("the referrer %s was not copied", sig.Digest)
	}
	if read.n.Load() == 0 {
		t.Error("progress saw no bytes read")
	}

	var written countProgress
	out, err := layout.Create(context.Background(), filepath.Join(t.TempDir(), "copy"))
	must(t, err)
	dst := &orasStore{store: out, progress: &written, recheckManifests: true}
	for _, d := range []ocispec.Descriptor{root, sig} {
		if err := oras.CopyGraph(ctx, mem, dst, d, oras.CopyGraphOptions{}); err != nil {
			t.Fatalf("CopyGraph(%s, memory → layout) = %v", d.Digest, err)
		}
	}
	g := newGraphWalk(out)
	for _, d := range []ocispec.Descriptor{root, sig} {
		if err := g.walk(ctx, d); err != nil {
			t.Errorf("copied graph of %s: %v", d.Digest, err)
		}
	}
	var total int64
	for _, d := range g.order {
		total += d.Size
	}
	if written.n.Load() != total {
		t.Errorf("progress saw %d bytes written, want %d", written.n.Load(), total)
	}
	// Manifests are always walked again (recheckManifests), blobs are not.
	if ok, _ := dst.Exists(ctx, root); ok {
		t.Error("Exists(manifest) with recheckManifests = true, want false")
	}
	if ok, _ := dst.Exists(ctx, layer); !ok {
		t.Error("Exists(layer) = false after the copy")
	}
	// Tag is refused: index.json is the workflows' to update.
	if _, err := oras.Copy(ctx, mem, "v1", dst, "v1", oras.CopyOptions{}); !errors.Is(err, errdef.ErrUnsupported) {
		t.Errorf("Copy with a tag into the layout = %v, want errdef.ErrUnsupported", err)
	}
	if idx, _ := out.ReadIndex(ctx); len(idx.Manifests) != 0 {
		t.Errorf("index.json has %d entries after copies, want 0", len(idx.Manifests))
	}
}

// TestOrasStoreErrors: the adapter's errors speak both oras-go's and the
// layout's sentinels, and bad bytes are never committed.
func TestOrasStoreErrors(t *testing.T) {
	dir, res := packedLayout(t, "v1")
	store, err := layout.Open(dir)
	must(t, err)
	s := &orasStore{store: store, progress: progress.Nop{}}
	missing := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromString("missing"), Size: 7}
	if _, err := s.Fetch(ctx, missing); !errors.Is(err, errdef.ErrNotFound) || !errors.Is(err, layout.ErrBlobNotFound) {
		t.Errorf("Fetch(missing) = %v, want errdef.ErrNotFound and layout.ErrBlobNotFound", err)
	}
	if _, err := s.Resolve(ctx, "nope"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("Resolve(unknown tag) = %v, want errdef.ErrNotFound", err)
	}
	if d, err := s.Resolve(ctx, res.Digest.String()); err != nil || d.Digest != res.Digest {
		t.Errorf("Resolve(digest) = %v, %v, want %s", d.Digest, err, res.Digest)
	}
	if err := s.Push(ctx, missing, strings.NewReader("MISSING")); !errors.Is(err, layout.ErrDigestMismatch) {
		t.Errorf("Push(wrong bytes) = %v, want layout.ErrDigestMismatch", err)
	}
	if ok, _ := s.Exists(ctx, missing); ok {
		t.Error("a blob with wrong bytes was committed")
	}
	// A damaged blob in the layout stops a copy out of it.
	corruptBlob(t, dir, res.Layers[0].Digest)
	if _, err := oras.Copy(ctx, s, "v1", memory.New(), "v1", oras.CopyOptions{}); !errors.Is(err, layout.ErrDigestMismatch) {
		t.Errorf("Copy of a damaged layout = %v, want layout.ErrDigestMismatch", err)
	}
}

func TestRegistryError(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:5000/v2/r/blobs/uploads/x?_state=SECRET&digest=sha256%3Aabc")
	resp := func(code int) error {
		return &errcode.ErrorResponse{Method: "GET", URL: u, StatusCode: code, Errors: errcode.Errors{{Code: "X", Message: "msg"}}}
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"401", resp(401), ErrUnauthorized},
		{"403", resp(403), ErrUnauthorized},
		{"no credentials", fmt.Errorf("head: %w", auth.ErrBasicCredentialNotFound), ErrUnauthorized},
		{"404", resp(404), ErrNotInRegistry},
		{"not found", fmt.Errorf("x: %w", errdef.ErrNotFound), ErrNotInRegistry},
		{"mismatch", fmt.Errorf("x: %w", content.ErrMismatchedDigest), layout.ErrDigestMismatch},
		{"local blob missing", fmt.Errorf("%w (%w)", layout.ErrBlobNotFound, errdef.ErrNotFound), layout.ErrBlobNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := registryError("r", tc.err)
			if !errors.Is(err, tc.want) {
				t.Errorf("registryError(%v) = %v, want %v", tc.err, err, tc.want)
			}
			if tc.want != ErrNotInRegistry && errors.Is(err, ErrNotInRegistry) {
				t.Errorf("registryError(%v) = %v, also ErrNotInRegistry", tc.err, err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("registryError(%v) = %v, shows the URL's query", tc.err, err)
			}
		})
	}
	err := registryError("r", &url.Error{Op: "Put", URL: u.String(), Err: errors.New("EOF")})
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "/v2/r/blobs/uploads/x") {
		t.Errorf("registryError(url.Error) = %v, want the URL without its query", err)
	}
}

func TestRedact(t *testing.T) {
	base := fmt.Errorf("login as bob:hunter2: %w", ErrUnauthorized)
	err := redact(base, "hunter2")
	if strings.Contains(err.Error(), "hunter2") || !errors.Is(err, ErrUnauthorized) {
		t.Errorf("redact = %v, want no password and ErrUnauthorized kept", err)
	}
	if redact(base, "") != base || redact(nil, "x") != nil {
		t.Error("redact changed an error without the password, or nil")
	}
}

// TestPushPullRefuseBadReferences: references are checked before any
// network use.
func TestPushPullRefuseBadReferences(t *testing.T) {
	dir, _ := packedLayout(t, "v1")
	for _, dst := range []string{"no-registry", "127.0.0.1:1/r@" + digest.FromString("x").String(), "127.0.0.1:1/R:UPPER"} {
		if _, err := Push(ctx, dir+":v1", dst, RegistryOptions{}); !errors.Is(err, layout.ErrBadReference) {
			t.Errorf("Push(%q) = %v, want layout.ErrBadReference", dst, err)
		}
	}
	// A layout tag that is not a registry tag, with no tag in dst.
	pathTag, _ := packedLayout(t, "release/1.0")
	if _, err := Push(ctx, pathTag+":release/1.0", "127.0.0.1:1/r", RegistryOptions{}); !errors.Is(err, layout.ErrBadReference) || !strings.Contains(err.Error(), "REGISTRY/REPO:TAG") {
		t.Errorf("Push(layout tag release/1.0, no tag) = %v, want layout.ErrBadReference naming REGISTRY/REPO:TAG", err)
	}
	out := filepath.Join(t.TempDir(), "l")
	for _, src := range []string{"no-registry", "127.0.0.1:1/r"} {
		if _, err := Pull(ctx, src, out, nil, RegistryOptions{}); !errors.Is(err, layout.ErrBadReference) {
			t.Errorf("Pull(%q) = %v, want layout.ErrBadReference", src, err)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("Pull of a bad reference created the layout")
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	must(t, os.WriteFile(bad, []byte("not a certificate"), 0o644))
	if _, err := Pull(ctx, "127.0.0.1:1/r:1", out, nil, RegistryOptions{CAFile: bad}); !errors.Is(err, ErrBadInput) {
		t.Errorf("Pull with a CA file without certificates = %v, want ErrBadInput", err)
	}
}
