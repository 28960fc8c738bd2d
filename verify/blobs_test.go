package verify

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/profile"
)

// TestStrayBlobFileVerifies: a file in blobs/sha256/ whose name is not a
// digest (a crashed writer's .tmp-123) is a warning, and the layout, or an
// archive of it, verifies (image-layout.md: readers do not fail on unknown
// files); --strict makes it an error.
func TestStrayBlobFileVerifies(t *testing.T) {
	f := newFx(t)
	f.std(nil)
	f.file("blobs/sha256/.tmp-123", []byte("partial"))
	for _, target := range []string{f.dir, archiveOf(t, f.dir)} {
		rep := run(t, target, Options{})
		if err := rep.Err(); err != nil || rep.Summary.Warnings != 1 || len(find(rep, BadBlobName)) != 1 {
			t.Errorf("Verify(%s) = %v, %d warnings, want nil and one BAD_BLOB_NAME warning:\n%s", target, err, rep.Summary.Warnings, dump(rep))
		}
		if rep := run(t, target, Options{Strict: true}); rep.Err() == nil {
			t.Errorf("Verify(%s, strict) = nil, want an error:\n%s", target, dump(rep))
		}
	}
}

// TestUncheckableDigestFails: a referenced blob whose digest algorithm
// cannot be checked (md5) makes the bundle unverifiable: an error without
// --strict.
func TestUncheckableDigestFails(t *testing.T) {
	f := newFx(t)
	f.std(layerPatch(0, "digest", "md5:"+strings.Repeat("0", 32)))
	rep := run(t, f.dir, Options{})
	got := find(rep, UnknownAlgorithm)
	if rep.Err() == nil || len(got) != 1 || got[0].Severity != Error {
		t.Errorf("Verify() = %v, %+v, want ErrFailed and one UNKNOWN_ALGORITHM error:\n%s", rep.Err(), got, dump(rep))
	}
}

// TestNondistributableLayerMissing: a Docker foreign layer (or an OCI
// non-distributable one) that names urls may be absent from the layout: a
// warning; any other missing layer, or one without urls, is an error.
func TestNondistributableLayerMissing(t *testing.T) {
	absent := digest.FromString("windows base layer")
	for _, tc := range []struct {
		name      string
		patch     []any
		wantError bool
	}{
		{"docker foreign with urls", []any{"mediaType", profile.MediaTypeDockerForeignLayer, "urls", []string{"https://example.com/layer"}}, false},
		{"oci nondistributable with urls", []any{"mediaType", "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "urls", []string{"https://example.com/layer"}}, false},
		{"docker foreign without urls", []any{"mediaType", profile.MediaTypeDockerForeignLayer}, true},
		{"docker layer with urls", []any{"mediaType", profile.MediaTypeDockerLayerGzip, "urls", []string{"https://example.com/layer"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			f.std(layerPatch(0, append([]any{"digest", absent.String(), "size", 18, "annotations", nil}, tc.patch...)...))
			rep := run(t, f.dir, Options{})
			got := find(rep, BlobMissing)
			if len(got) != 1 || (got[0].Severity == Error) != tc.wantError || (rep.Err() != nil) != tc.wantError {
				t.Errorf("Verify() = %v, BLOB_MISSING %+v, want an error: %v:\n%s", rep.Err(), got, tc.wantError, dump(rep))
			}
		})
	}
}
