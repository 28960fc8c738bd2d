package verify

import (
	"strings"
	"testing"
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
