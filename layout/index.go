package layout

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

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
	f, _, err := openRegular(filepath.Join(s.root, IndexFile))
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("%s: %w", IndexFile, err)
	}
	defer f.Close()
	data, err := ReadCapped(f, MaxDocumentSize)
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("%s: %w", IndexFile, err)
	}
	idx, err := ParseIndex(data)
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("%s: %w", IndexFile, err)
	}
	return idx, nil
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

// SetTag makes tag name desc in idx: every other entry carrying the tag loses
// it (an entry left with no tag, for a manifest that other entries still
// name, is dropped), an entry for desc with the tag is kept in place, and
// otherwise a new entry is appended. An untagged entry for desc is replaced
// by the tagged one. The manifests it stops naming stay in blobs/ until gc.
func SetTag(idx *ocispec.Index, desc ocispec.Descriptor, tag string) error {
	if err := ValidateTag(tag); err != nil {
		return err
	}
	entry := desc
	entry.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	out := idx.Manifests[:0:0]
	placed := false
	for _, m := range idx.Manifests {
		name, tagged := m.Annotations[ocispec.AnnotationRefName]
		switch {
		case tagged && name == tag:
			if !placed {
				out = append(out, entry) // the tag moves, its position stays
				placed = true
			}
		case !tagged && m.Digest == desc.Digest:
			if !placed {
				out = append(out, entry)
				placed = true
			}
		default:
			out = append(out, m)
		}
	}
	if !placed {
		out = append(out, entry)
	}
	idx.Manifests = out
	return nil
}

// AddUntagged records desc in idx without a tag, unless an entry for the same
// digest is already there.
func AddUntagged(idx *ocispec.Index, desc ocispec.Descriptor) {
	for _, m := range idx.Manifests {
		if m.Digest == desc.Digest {
			return
		}
	}
	entry := desc
	entry.Annotations = nil
	idx.Manifests = append(idx.Manifests, entry)
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
