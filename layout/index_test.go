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
		{"one tag, two incoming digests, forced: the last takes it", in(Entry(m1, "v9", nil), Entry(m2, "v9", nil)), true,
			[]ocispec.Descriptor{Entry(m1, "v1", note), Entry(m2, "v9", nil)}, []string{EntryUnchanged, EntryAdded}, nil},
		{"one tag, two incoming digests, not forced", in(Entry(m1, "v9", nil), Entry(m2, "v9", nil)), false, nil, nil, ErrDuplicateTag},
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

// TestMergeDuplicateTag: incoming entries that give one tag two digests, as
// a docker save archive of two images names both "latest". Not forced, both
// manifests merge untagged (reachable by digest), the tag stays as it was,
// and the error names the tag and both digests; forced, the last takes the
// tag and names the other, which merges untagged.
func TestMergeDuplicateTag(t *testing.T) {
	a := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("a"), Size: 1}
	b := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("b"), Size: 1}
	old := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("old"), Size: 1}
	name := map[string]string{"io.containerd.image.name": "docker.io/library/x:latest"}
	in := ocispec.Index{Manifests: []ocispec.Descriptor{Entry(a, "latest", name), Entry(b, "latest", name), Entry(old, "other", nil)}}

	idx := emptyIndex()
	got, err := Merge(&idx, in, false)
	if !errors.Is(err, ErrDuplicateTag) || !strings.Contains(err.Error(), `"latest"`) ||
		!strings.Contains(err.Error(), a.Digest.String()) || !strings.Contains(err.Error(), b.Digest.String()) {
		t.Fatalf("Merge() error = %v, want ErrDuplicateTag naming latest, %s and %s", err, a.Digest, b.Digest)
	}
	want := []ocispec.Descriptor{Entry(a, "", name), Entry(b, "", name), Entry(old, "other", nil)}
	if !reflect.DeepEqual(idx.Manifests, want) {
		t.Errorf("Merge() manifests = %+v, want both untagged and the other tag set: %+v", idx.Manifests, want)
	}
	if len(got) != 3 || len(got[0].Tags) != 0 || len(got[1].Tags) != 0 || got[0].Status != EntryAdded {
		t.Errorf("Merge() entries = %+v", got)
	}

	idx = emptyIndex()
	idx.Manifests = []ocispec.Descriptor{Entry(old, "latest", nil)}
	got, err = Merge(&idx, in, true)
	if err != nil {
		t.Fatalf("Merge(forced) = %v", err)
	}
	want = []ocispec.Descriptor{Entry(b, "latest", name), Entry(a, "", name), Entry(old, "other", nil)}
	if !reflect.DeepEqual(idx.Manifests, want) {
		t.Errorf("Merge(forced) manifests = %+v, want %+v", idx.Manifests, want)
	}
	if got[1].Status != EntryMoved || got[1].Previous != old.Digest || !reflect.DeepEqual(got[1].Others, []digest.Digest{a.Digest}) || len(got[0].Tags) != 0 {
		t.Errorf("Merge(forced) entries = %+v, want b moved from old, naming a as the other", got)
	}
}
