package layout

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func emptyIndex() ocispec.Index {
	return ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{},
	}
}

// ReadIndex reads and strictly decodes index.json. It refuses a symlink or
// non-regular file (ErrNotRegular), more than MaxDocumentSize bytes
// (ErrTooLarge), non-strict JSON (ErrBadJSON), and a document that is not an
// image index with schemaVersion 2 and a manifests array (ErrBadDocument).
// A missing mediaType is accepted (verify warns about it).
func (s *Store) ReadIndex(ctx context.Context) (ocispec.Index, error) {
	data, err := s.indexBytes()
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("%s: %w", IndexFile, err)
	}
	idx, err := ParseIndex(data)
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("%s: %w", IndexFile, err)
	}
	return idx, nil
}

// indexBytes reads index.json (capped), or returns an archive's.
func (s *Store) indexBytes() ([]byte, error) {
	if s.arc != nil {
		return s.arc.index, nil
	}
	f, _, err := openRegular(filepath.Join(s.root, IndexFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadCapped(f, MaxDocumentSize)
}

// ParseIndex strictly decodes an image index document and checks the fields
// every reader relies on: schemaVersion 2, mediaType (when present) the index
// type, and manifests present and not null. It is ParseDocument without the
// CVE-2021-41190 check, which index.json is not held to here (verify reports
// it).
func ParseIndex(data []byte) (ocispec.Index, error) {
	doc, err := decodeDocument(data, ocispec.MediaTypeImageIndex)
	return doc.Index(), err
}

// UpdateIndex runs fn on index.json under the layout's exclusive lock and
// writes the result back atomically (temp file, sync, rename, sync dir). If
// fn returns an error, index.json is left untouched. manifests is never
// written as null. Concurrent updates from any number of processes are
// serialised; none is lost.
func (s *Store) UpdateIndex(ctx context.Context, fn func(*ocispec.Index) error) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.ReadIndex(ctx)
	if err != nil {
		return err
	}
	if err := fn(&idx); err != nil {
		return err
	}
	if err := checkContext(ctx); err != nil {
		return err
	}
	return s.writeIndex(idx)
}

func (s *Store) writeIndex(idx ocispec.Index) error {
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	idx.SchemaVersion = 2
	if idx.MediaType == "" {
		idx.MediaType = ocispec.MediaTypeImageIndex
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return s.writeFile(IndexFile, data)
}

// The tag rule (README, "Tags"): commands that author a manifest (pack,
// tag) move a tag that names another manifest and report the move;
// commands that receive manifests (import, pull) refuse to move one unless
// forced. Merge is the one merge of index.json that applies it.

// Entry statuses of a merge.
const (
	EntryAdded     = "added"
	EntryUnchanged = "unchanged"
	EntryMoved     = "moved" // a tag moved from Previous to this digest
)

// MergedEntry is what Merge did with one incoming entry.
type MergedEntry struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	// Tags holds the entry's tag, if it has one (a list, as everywhere in
	// ocibundle's JSON: docs/json.md).
	Tags   []string `json:"tags"`
	Status string   `json:"status"`
	// Previous is the digest a moved tag named before.
	Previous digest.Digest `json:"previous,omitempty"`
	// Others are the other digests the incoming entries gave this entry's
	// tag, which a forced merge left untagged (Merge).
	Others []digest.Digest `json:"others,omitempty"`
}

// TagMove is a tag that a merge moved from one manifest to another.
type TagMove struct {
	Tag  string        `json:"tag"`
	From digest.Digest `json:"from"`
	To   digest.Digest `json:"to"`
}

// Moves lists the tags that entries moved.
func Moves(entries []MergedEntry) []TagMove {
	out := []TagMove{}
	for _, e := range entries {
		if e.Status == EntryMoved {
			out = append(out, TagMove{Tag: e.Tags[0], From: e.Previous, To: e.Digest})
		}
	}
	return out
}

// Merge merges in, an index of incoming entries, into idx: the one merge
// of index.json, for pack, tag, import and pull (call it inside
// UpdateIndex). Per incoming entry, in order:
//   - untagged: added unless idx has an entry for its digest, which stays
//     as it is;
//   - its tag already names its digest: the entry stays as it is, its
//     annotations included (unchanged);
//   - its tag names another digest: with moveTags the tag moves, the entry
//     taking the old one's place with the incoming annotations (moved,
//     Previous the old digest); without it Merge fails with ErrTagConflict
//     naming the tag and both digests;
//   - a new tag: appended with the incoming annotations, or put in place of
//     an untagged entry for the same digest.
//
// Incoming entries that give one tag different digests (docker save 25+
// names every image "latest"): with moveTags the last of them takes the
// tag (its MergedEntry lists the others in Others) and the others merge
// untagged; without it every one of them merges untagged, the tag is left
// as it was, and Merge returns ErrDuplicateTag naming the tag and the
// digests together with the entries: then, and only then, idx has changed
// although the error is not nil (a receiver keeps the manifests, reachable
// by digest, and refuses to choose the tag).
//
// in's index annotations are set on idx, a key in both taking in's value.
// Every entry is checked (ValidateDigest, ValidateTag, ErrTagConflict)
// before idx changes; on any other error idx is left as it was.
func Merge(idx *ocispec.Index, in ocispec.Index, moveTags bool) ([]MergedEntry, error) {
	tagged := map[string]digest.Digest{}
	for _, m := range idx.Manifests {
		if tag, ok := m.Annotations[ocispec.AnnotationRefName]; ok {
			tagged[tag] = m.Digest
		}
	}
	dups, err := checkIncoming(in.Manifests)
	if err != nil {
		return nil, err
	}
	// untagged: an entry whose duplicated tag it does not get.
	untagged := func(tag string, d digest.Digest) bool {
		ds := dups[tag]
		return ds != nil && (!moveTags || d != ds[len(ds)-1])
	}
	for _, e := range in.Manifests {
		tag, ok := e.Annotations[ocispec.AnnotationRefName]
		if !ok || untagged(tag, e.Digest) {
			continue
		}
		if prev, ok := tagged[tag]; ok && prev != e.Digest && !moveTags {
			return nil, fmt.Errorf("tag %q: %w: the layout has %s, the incoming %s (--force moves it)", tag, ErrTagConflict, prev, e.Digest)
		}
	}
	out := []MergedEntry{}
	for _, e := range in.Manifests {
		me := MergedEntry{Tags: []string{}, Digest: e.Digest, MediaType: e.MediaType, Status: EntryAdded}
		tag, ok := e.Annotations[ocispec.AnnotationRefName]
		if ok && untagged(tag, e.Digest) {
			e, ok = Entry(e, "", e.Annotations), false
		}
		switch {
		case ok:
			me.Tags = append(me.Tags, tag)
			me.Status, me.Previous = setTag(idx, e, tag)
			if dups[tag] != nil {
				me.Others = dups[tag][:len(dups[tag])-1]
			}
		case hasDigest(idx.Manifests, e.Digest):
			me.Status = EntryUnchanged
		default:
			idx.Manifests = append(idx.Manifests, e)
		}
		out = append(out, me)
	}
	for k, v := range in.Annotations {
		if idx.Annotations == nil {
			idx.Annotations = map[string]string{}
		}
		idx.Annotations[k] = v
	}
	if len(dups) > 0 && !moveTags {
		return out, duplicateTagError(dups)
	}
	return out, nil
}

// checkIncoming validates every incoming entry's digest and tag, and
// returns the tags that name more than one digest, each with its digests in
// entry order (the last is the one a forced merge tags).
func checkIncoming(entries []ocispec.Descriptor) (map[string][]digest.Digest, error) {
	digests := map[string][]digest.Digest{}
	for _, e := range entries {
		if err := ValidateDigest(e.Digest); err != nil {
			return nil, err
		}
		tag, ok := e.Annotations[ocispec.AnnotationRefName]
		if !ok {
			continue
		}
		if err := ValidateTag(tag); err != nil {
			return nil, err
		}
		ds := slices.DeleteFunc(digests[tag], func(d digest.Digest) bool { return d == e.Digest })
		digests[tag] = append(ds, e.Digest)
	}
	for tag, ds := range digests {
		if len(ds) < 2 {
			delete(digests, tag)
		}
	}
	return digests, nil
}

// duplicateTagError names the first duplicated tag (in sorted order) and
// its digests, and how many more tags are duplicated.
func duplicateTagError(dups map[string][]digest.Digest) error {
	tags := slices.Sorted(maps.Keys(dups))
	ds := dups[tags[0]]
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.String()
	}
	more := ""
	if len(tags) > 1 {
		more = fmt.Sprintf(" (and %d more tags)", len(tags)-1)
	}
	return fmt.Errorf("tag %q: %w: the incoming entries give it to %s%s",
		tags[0], ErrDuplicateTag, strings.Join(names, " and "), more)
}

// setTag makes tag name entry in idx: it keeps an entry that already does;
// otherwise entry takes the place of the entry the tag named, or of an
// untagged entry for the same digest (whichever comes first; the other is
// dropped), or is appended.
func setTag(idx *ocispec.Index, entry ocispec.Descriptor, tag string) (status string, previous digest.Digest) {
	for _, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] == tag && m.Digest == entry.Digest {
			return EntryUnchanged, ""
		}
	}
	status = EntryAdded
	out := make([]ocispec.Descriptor, 0, len(idx.Manifests)+1)
	placed := false
	for _, m := range idx.Manifests {
		name, tagged := m.Annotations[ocispec.AnnotationRefName]
		switch {
		case tagged && name == tag:
			status, previous = EntryMoved, m.Digest
		case !tagged && m.Digest == entry.Digest:
		default:
			out = append(out, m)
			continue
		}
		if !placed {
			out = append(out, entry)
			placed = true
		}
	}
	if !placed {
		out = append(out, entry)
	}
	idx.Manifests = out
	return status, previous
}

func hasDigest(entries []ocispec.Descriptor, d digest.Digest) bool {
	for _, m := range entries {
		if m.Digest == d {
			return true
		}
	}
	return false
}

// Entry is the index.json entry naming desc with tag ("" for none) and the
// annotations ann besides: desc's media type, digest, size, artifactType and
// platform.
func Entry(desc ocispec.Descriptor, tag string, ann map[string]string) ocispec.Descriptor {
	e := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, ArtifactType: desc.ArtifactType, Platform: desc.Platform}
	for k, v := range ann {
		if k == ocispec.AnnotationRefName {
			continue
		}
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		e.Annotations[k] = v
	}
	if tag != "" {
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		e.Annotations[ocispec.AnnotationRefName] = tag
	}
	return e
}

// Entries are the index.json entries naming desc with each of tags (see
// Entry), or one untagged entry when tags is empty: what Merge takes from
// a command that names one manifest.
func Entries(desc ocispec.Descriptor, tags []string) []ocispec.Descriptor {
	if len(tags) == 0 {
		return []ocispec.Descriptor{Entry(desc, "", nil)}
	}
	out := make([]ocispec.Descriptor, 0, len(tags))
	for _, t := range tags {
		out = append(out, Entry(desc, t, nil))
	}
	return out
}

// SetTag is Merge of the one entry Entry(desc, tag, nil), moving the tag:
// the layout's tag names desc, whatever it named before.
func SetTag(idx *ocispec.Index, desc ocispec.Descriptor, tag string) error {
	if err := ValidateTag(tag); err != nil {
		return err
	}
	_, err := Merge(idx, ocispec.Index{Manifests: []ocispec.Descriptor{Entry(desc, tag, nil)}}, true)
	return err
}

// AddUntagged is Merge of the one untagged entry Entry(desc, "", nil): it
// records desc unless an entry for the same digest is already there. desc's
// digest must be valid: otherwise it returns Merge's error (ErrBadDigest)
// and idx is unchanged.
func AddUntagged(idx *ocispec.Index, desc ocispec.Descriptor) error {
	_, err := Merge(idx, ocispec.Index{Manifests: []ocispec.Descriptor{Entry(desc, "", nil)}}, true)
	return err
}

// RemoveTag removes tag from idx, with ErrTagNotFound if no entry carries it.
// The manifest stays in blobs/ until gc.
func RemoveTag(idx *ocispec.Index, tag string) error {
	out := idx.Manifests[:0:0]
	found := false
	for _, m := range idx.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] == tag {
			found = true
			continue
		}
		out = append(out, m)
	}
	if !found {
		return fmt.Errorf("%q: %w", tag, ErrTagNotFound)
	}
	idx.Manifests = out
	return nil
}
