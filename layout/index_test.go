package layout

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestMerge: the one merge of index.json and its tag rule.
func TestMerge(t *testing.T) {
	m1 := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("1"), Size: 1}
	m2 := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("2"), Size: 2}
	note := map[string]string{"com.example.note": "kept"}
	base := func() ocispec.Index {
		idx := emptyIndex()
		idx.Annotations = map[string]string{"site": "north"}
		idx.Manifests = []ocispec.Descriptor{Entry(m1, "v1", note), Entry(m2, "", nil)}
		return idx
	}
	in := func(entries ...ocispec.Descriptor) ocispec.Index {
		return ocispec.Index{Manifests: entries}
	}
	tests := []struct {
		name     string
		in       ocispec.Index
		move     bool
		want     []ocispec.Descriptor
		statuses []string
		err      error
	}{
		{"same tag, same digest: the entry stays, annotations included", in(Entry(m1, "v1", nil)), false,
			[]ocispec.Descriptor{Entry(m1, "v1", note), Entry(m2, "", nil)}, []string{EntryUnchanged}, nil},
		{"untagged, known digest: unchanged", in(Entry(m1, "", nil)), false,
			[]ocispec.Descriptor{Entry(m1, "v1", note), Entry(m2, "", nil)}, []string{EntryUnchanged}, nil},
		{"new tag takes the place of an untagged entry", in(Entry(m2, "v2", note)), false,
			[]ocispec.Descriptor{Entry(m1, "v1", note), Entry(m2, "v2", note)}, []string{EntryAdded}, nil},
		{"receiving: a move is refused", in(Entry(m2, "v1", nil)), false, nil, nil, ErrTagConflict},
		{"authoring: the tag moves in place, with the incoming annotations; the untagged entry goes", in(Entry(m2, "v1", nil)), true,
			[]ocispec.Descriptor{Entry(m2, "v1", nil)}, []string{EntryMoved}, nil},
		{"one tag, two incoming digests", in(Entry(m1, "v9", nil), Entry(m2, "v9", nil)), true, nil, nil, ErrTagConflict},
		{"a bad tag", in(Entry(m1, "-bad", nil)), true, nil, nil, ErrBadTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx := base()
			got, err := Merge(&idx, tt.in, tt.move)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Merge() error = %v, want %v", err, tt.err)
			}
			if err != nil {
				if !reflect.DeepEqual(idx, base()) {
					t.Errorf("Merge() failed but changed idx: %+v", idx)
				}
				if errors.Is(err, ErrTagConflict) && (!strings.Contains(err.Error(), m1.Digest.String()) || !strings.Contains(err.Error(), m2.Digest.String())) {
					t.Errorf("Merge() error %q does not name both digests", err)
				}
				return
			}
			if !reflect.DeepEqual(idx.Manifests, tt.want) {
				t.Errorf("Merge() manifests = %+v, want %+v", idx.Manifests, tt.want)
			}
			var statuses []string
			for _, e := range got {
				statuses = append(statuses, e.Status)
			}
			if !reflect.DeepEqual(statuses, tt.statuses) {
				t.Errorf("Merge() statuses = %v, want %v", statuses, tt.statuses)
			}
			if idx.Annotations["site"] != "north" {
				t.Errorf("Merge() index annotations = %v, want site=north kept", idx.Annotations)
			}
		})
	}
	// index.json's own annotations: the incoming value wins; moves are
	// reported.
	idx := base()
	got, err := Merge(&idx, ocispec.Index{Annotations: map[string]string{"site": "south", "k": "v"}, Manifests: []ocispec.Descriptor{Entry(m2, "v1", nil)}}, true)
	if err != nil || idx.Annotations["site"] != "south" || idx.Annotations["k"] != "v" {
		t.Errorf("Merge(annotations) = %v, %v, want site=south k=v", idx.Annotations, err)
	}
	if moves := Moves(got); len(moves) != 1 || moves[0] != (TagMove{Tag: "v1", From: m1.Digest, To: m2.Digest}) {
		t.Errorf("Moves() = %+v, want v1 from m1 to m2", moves)
	}
}
