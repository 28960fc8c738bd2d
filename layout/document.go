package layout

import (
	"context"
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParseManifest strictly decodes an image manifest and refuses a document
// that could be read as something else: schemaVersion other than 2, a
// mediaType other than the manifest type, or a "manifests" field next to
// "layers"/"config" (the ambiguity of CVE-2021-41190). Errors wrap ErrBadJSON
// or ErrBadDocument.
func ParseManifest(data []byte) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := DecodeStrict(data, &m); err != nil {
		return m, err
	}
	var probe struct {
		Manifests json.RawMessage `json:"manifests"`
	}
	_ = json.Unmarshal(data, &probe)
	switch {
	case m.SchemaVersion != 2:
		return m, fmt.Errorf("%w: schemaVersion is %d, not 2", ErrBadDocument, m.SchemaVersion)
	case m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest:
		return m, fmt.Errorf("%w: mediaType is %q, not an image manifest", ErrBadDocument, m.MediaType)
	case probe.Manifests != nil:
		return m, fmt.Errorf("%w: ambiguous document: both manifests and layers/config", ErrBadDocument)
	case m.Config.Digest == "":
		return m, fmt.Errorf("%w: no config", ErrBadDocument)
	}
	return m, nil
}

// ReadManifest fetches (verified, at most MaxDocumentSize) and parses the
// image manifest desc names; a document whose mediaType differs from desc's
// is refused with ErrBadDocument.
func (s *Store) ReadManifest(ctx context.Context, desc ocispec.Descriptor) (ocispec.Manifest, error) {
	data, err := s.FetchAll(ctx, desc, MaxDocumentSize)
	if err != nil {
		return ocispec.Manifest{}, err
	}
	m, err := ParseManifest(data)
	if err == nil && m.MediaType != "" && desc.MediaType != "" && m.MediaType != desc.MediaType {
		err = fmt.Errorf("%w: mediaType %q, but the descriptor says %q", ErrBadDocument, m.MediaType, desc.MediaType)
	}
	if err != nil {
		return m, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return m, nil
}

// ReadIndexBlob fetches and parses the image index desc names, with the same
// rules as ReadManifest (and ParseIndex).
func (s *Store) ReadIndexBlob(ctx context.Context, desc ocispec.Descriptor) (ocispec.Index, error) {
	data, err := s.FetchAll(ctx, desc, MaxDocumentSize)
	if err != nil {
		return ocispec.Index{}, err
	}
	idx, err := ParseIndex(data)
	if err == nil {
		var probe struct {
			Layers json.RawMessage `json:"layers"`
			Config json.RawMessage `json:"config"`
		}
		_ = json.Unmarshal(data, &probe)
		if probe.Layers != nil || probe.Config != nil {
			err = fmt.Errorf("%w: ambiguous document: both manifests and layers/config", ErrBadDocument)
		}
	}
	if err != nil {
		return idx, fmt.Errorf("index %s: %w", desc.Digest, err)
	}
	return idx, nil
}
