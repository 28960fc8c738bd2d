package layout

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// putManifest stores a manifest of one payload, with subject when not nil.
func putManifest(t *testing.T, s *Store, payload string, subject *ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	cfg, err := s.PutBytes(ctx, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	layer, err := s.PutBytes(ctx, "application/octet-stream", []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer}, Subject: subject}
	m.SchemaVersion = 2
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := s.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// TestReferrers: the referrers of a manifest are the index.json entries
// whose subject it is, and CollectReferrers follows chains (a signature of
// an SBOM) up to MaxReferrerDepth, never further.
func TestReferrers(t *testing.T) {
	s := newStore(t)
	base := putManifest(t, s, "base", nil)
	sbom := putManifest(t, s, "sbom", &base)
	sig := putManifest(t, s, "sig of sbom", &sbom)
	other := putManifest(t, s, "unrelated", nil)
	entries := []ocispec.Descriptor{base, sbom, sig, other}
	set, err := s.Referrers(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := set.Referrers(ctx, base); len(got) != 1 || got[0].Digest != sbom.Digest {
		t.Errorf("Referrers(base) = %v, want [%s]", got, sbom.Digest)
	}
	if got, _ := set.Referrers(ctx, other); len(got) != 0 {
		t.Errorf("Referrers(unrelated) = %v, want none", got)
	}
	var taken []digest.Digest
	take := func(_ context.Context, d ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		taken = append(taken, d.Digest)
		return []ocispec.Descriptor{d}, nil
	}
	got, err := CollectReferrers(ctx, []ocispec.Descriptor{base}, set, take)
	if err != nil || len(got) != 2 || got[0].Digest != sbom.Digest || got[1].Digest != sig.Digest || len(taken) != 2 {
		t.Errorf("CollectReferrers(base) = %v, %v (took %v), want [sbom sig]", got, err, taken)
	}

	// A chain one longer than the bound fails, and names the referrer.
	chain := []ocispec.Descriptor{base}
	for i := 0; i <= MaxReferrerDepth; i++ {
		prev := chain[len(chain)-1]
		chain = append(chain, putManifest(t, s, "link "+string(rune('a'+i)), &prev))
	}
	set, err = s.Referrers(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	_, err = CollectReferrers(ctx, []ocispec.Descriptor{base}, set, take)
	if !errors.Is(err, ErrBadDocument) {
		t.Errorf("CollectReferrers(chain of %d) = %v, want ErrBadDocument", len(chain)-1, err)
	}
	if _, err = CollectReferrers(ctx, chain[1:2], set, take); err != nil {
		t.Errorf("CollectReferrers(chain of %d) = %v, want no error", len(chain)-2, err)
	}
}

// TestCheckedFinder: of what a finder lists for a subject, CheckedFinder
// keeps only the subject's referrers by the definition (IsReferrer) and
// hands every other candidate to Ignored with its reason: one whose
// subject is another manifest, one without a subject, a blob that is not
// a document, one too large to be one, one that is not there. An error
// of Read that is not about the candidate's bytes is returned.
func TestCheckedFinder(t *testing.T) {
	s := newStore(t)
	base := putManifest(t, s, "base", nil)
	other := putManifest(t, s, "other", nil)
	sig := putManifest(t, s, "sig of base", &base)
	foreign := putManifest(t, s, "sig of other", &other)
	blob, err := s.PutBytes(ctx, "application/octet-stream", []byte("not a document"))
	if err != nil {
		t.Fatal(err)
	}
	huge := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("huge"), Size: MaxDocumentSize + 1}
	absent := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("absent"), Size: 10}
	listed := &ReferrerSet{} // what a registry's list might say
	for _, c := range []ocispec.Descriptor{foreign, sig, other, blob, huge, absent} {
		listed.Add(base.Digest, c)
	}
	read := func(ctx context.Context, d ocispec.Descriptor) ([]byte, error) {
		return s.FetchAll(ctx, d, MaxDocumentSize)
	}
	why := map[digest.Digest]error{}
	f := CheckedFinder{Find: listed, Read: read, Ignored: func(c, subject ocispec.Descriptor, reason error) {
		if subject.Digest != base.Digest {
			t.Errorf("Ignored(%s, subject %s), want subject %s", c.Digest, subject.Digest, base.Digest)
		}
		why[c.Digest] = reason
	}}
	got, err := f.Referrers(ctx, base)
	if err != nil || len(got) != 1 || got[0].Digest != sig.Digest {
		t.Fatalf("CheckedFinder.Referrers(base) = %v, %v; want [%s]", got, err, sig.Digest)
	}
	for _, c := range []struct {
		d    digest.Digest
		want error
	}{
		{foreign.Digest, ErrNotReferrer}, {other.Digest, ErrNotReferrer}, {blob.Digest, ErrNotReferrer},
		{huge.Digest, ErrTooLarge}, {absent.Digest, ErrBlobNotFound},
	} {
		if !errors.Is(why[c.d], c.want) {
			t.Errorf("candidate %s ignored for %v, want %v", c.d, why[c.d], c.want)
		}
	}
	if len(why) != 5 {
		t.Errorf("Ignored was told of %d candidates, want 5", len(why))
	}

	// Reading that fails for another reason fails the lookup.
	broken := errors.New("connection reset")
	f.Read = func(context.Context, ocispec.Descriptor) ([]byte, error) { return nil, broken }
	if _, err := f.Referrers(ctx, base); !errors.Is(err, broken) {
		t.Errorf("CheckedFinder.Referrers with a failing Read = %v, want its error", err)
	}
}
