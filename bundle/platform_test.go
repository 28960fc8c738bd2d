package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
)

// TestExtractPlatform: extract of an index takes the image for --platform
// (default: this machine's), through indexes nested three deep (an OCI
// index of an OCI index of a Docker manifest list, each a level); an index
// without that platform is ErrNoPlatform listing the platforms it offers,
// even when it holds a single image; a malformed platform is ErrBadPlatform.
func TestExtractPlatform(t *testing.T) {
	dir, s := newLayout(t)
	images := map[string]ocispec.Descriptor{}
	for _, p := range []ocispec.Platform{
		hostPlatform(),
		{OS: "linux", Architecture: "riscv64"},
		{OS: "linux", Architecture: "arm64"}, // no variant: linux/arm64/v8 matches it
		{OS: "linux", Architecture: "arm", Variant: "v7"},
		{OS: "unknown", Architecture: "unknown"}, // as buildx marks its attestation manifests
	} {
		name := p.OS + "/" + p.Architecture + "/" + p.Variant
		if _, ok := images[name]; ok {
			continue // this machine is one of the others
		}
		images[name] = putDockerImage(t, s, p, "which", name)
	}
	var entries []ocispec.Descriptor
	for _, d := range images {
		entries = append(entries, d)
	}
	list := putIndex(t, s, profile.MediaTypeDockerManifestList, entries...)
	inner := putIndex(t, s, ocispec.MediaTypeImageIndex, list, list) // twice: one image all the same
	tagEntry(t, s, putIndex(t, s, ocispec.MediaTypeImageIndex, inner), "nested")
	riscv := images["linux/riscv64/"]
	riscv.Platform = &ocispec.Platform{OS: "linux", Architecture: "riscv64"}
	tagEntry(t, s, putIndex(t, s, ocispec.MediaTypeImageIndex, riscv), "riscv-only")

	host := hostPlatform()
	tests := []struct {
		ref, platform, want string
		err                 error
		msg                 []string
	}{
		{"nested", "", host.OS + "/" + host.Architecture + "/", nil, nil},
		{"nested", "linux/riscv64", "linux/riscv64/", nil, nil},
		{"nested", "linux/arm64/v8", "linux/arm64/", nil, nil},
		{"nested", "linux/aarch64", "linux/arm64/", nil, nil},
		{"nested", "linux/arm/v7", "linux/arm/v7", nil, nil},
		{"nested", "linux/s390x", "", ErrNoPlatform, []string{"linux/s390x", "linux/arm/v7", "linux/arm64", "linux/riscv64"}},
		{"riscv-only", "linux/s390x", "", ErrNoPlatform, []string{"offers linux/riscv64"}},
		{"riscv-only", "linux/riscv64", "linux/riscv64/", nil, nil},
		{"nested", "linux/", "", ErrBadPlatform, []string{`"linux/"`}},
	}
	if runtime.GOARCH != "riscv64" {
		// An index of one image for another machine is refused, not taken.
		tests = append(tests, struct {
			ref, platform, want string
			err                 error
			msg                 []string
		}{"riscv-only", "", "", ErrNoPlatform, []string{"offers linux/riscv64"}})
	}
	for _, tt := range tests {
		t.Run(tt.ref+" "+tt.platform, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			res, err := Extract(ctx, dir+":"+tt.ref, out, ExtractOptions{Platform: tt.platform})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Extract(%s, --platform %q) = %v, want %v", tt.ref, tt.platform, err, tt.err)
				}
				for _, m := range tt.msg {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("Extract() error %q does not say %q", err, m)
					}
				}
				if _, serr := os.Stat(out); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("Extract() failed but created %s", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract(%s, --platform %q) = %v", tt.ref, tt.platform, err)
			}
			data, err := os.ReadFile(filepath.Join(out, "which"))
			if err != nil || string(data) != tt.want || res.Digest != images[tt.want].Digest {
				t.Errorf("Extract(%s, --platform %q) = %s, which = %q, %v; want the %s image %s", tt.ref, tt.platform, res.Digest, data, err, tt.want, images[tt.want].Digest)
			}
		})
	}
}

// TestExtractIndexTooDeep: indexes nested deeper than verify's cap are a bad
// document, not a stack to exhaust.
func TestExtractIndexTooDeep(t *testing.T) {
	dir, s := newLayout(t)
	d := putDockerImage(t, s, hostPlatform(), "which", "deep")
	for range 40 {
		d = putIndex(t, s, ocispec.MediaTypeImageIndex, d)
	}
	tagEntry(t, s, d, "deep")
	_, err := Extract(ctx, dir+":deep", filepath.Join(t.TempDir(), "out"), ExtractOptions{})
	if !errors.Is(err, layout.ErrBadDocument) || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("Extract(40 nested indexes) = %v, want ErrBadDocument", err)
	}
}
