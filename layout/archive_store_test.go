package layout

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestArchiveStoreJudgesWholeArchive: an archive read in place is judged
// to its end as import judges it, a file when it is opened (the header
// pass), a stream by ReadToEnd, even when what was asked for came first.
func TestArchiveStoreJudgesWholeArchive(t *testing.T) {
	ctx := context.Background()
	blob := "blob bytes"
	members := []testMember{
		{name: LayoutFile, data: `{"imageLayoutVersion":"1.0.0"}`},
		{name: IndexFile, data: `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`},
		{name: "blobs/sha256/" + digest.FromString(blob).Encoded(), data: blob},
	}
	good := testArchive(t, members, 0)
	noMarker := good[:len(bytes.TrimRight(good, "\x00"))+(-len(bytes.TrimRight(good, "\x00"))&511)]
	symlink := testArchive(t, append(members, testMember{name: "blobs/sha256/x", typeflag: tar.TypeSymlink}), 0)
	tests := []struct {
		name string
		data []byte
		want error  // nil: accepted
		text string // in the error
	}{
		{"intact", good, nil, ""},
		{"record padding", append(bytes.Clone(good), make([]byte, 10240)...), nil, ""},
		{"junk after the tar", append(bytes.Clone(good), "garbage\n"...), ErrBadArchive, "8 bytes of data after the end of the tar"},
		{"no end-of-archive marker", noMarker, ErrBadArchive, "no end-of-archive marker"},
		{"a symlink after the blobs", symlink, ErrUnsafeArchive, "a symlink"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(how string, err error) {
				t.Helper()
				if tt.want == nil && err != nil || tt.want != nil && (!errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text)) {
					t.Errorf("%s = %v, want %v (%q)", how, err, tt.want, tt.text)
				}
			}
			name := filepath.Join(t.TempDir(), "a.tar")
			if err := os.WriteFile(name, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := OpenArchive(ctx, name)
			if err == nil {
				err = s.ReadToEnd(ctx)
				s.Close()
			}
			check("OpenArchive", err)

			s, err = OpenArchiveStream(ctx, bytes.NewReader(tt.data), "-")
			if err != nil {
				t.Fatalf("OpenArchiveStream = %v, want the index read", err)
			}
			// What was asked for is read and verified before the end.
			rc, err := s.Fetch(ctx, ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromString(blob), Size: int64(len(blob))})
			if err != nil {
				t.Fatalf("Fetch = %v", err)
			}
			rc.Close()
			err = s.ReadToEnd(ctx)
			check("ReadToEnd", err)
			if err == nil {
				check("ReadToEnd again", s.ReadToEnd(ctx))
			}
		})
	}
}
