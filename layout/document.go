package layout

import (
	"context"
	"fmt"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/profile"
)

// Document is every kind of manifest and index read as one: the union of
// the fields that name other blobs (config, layers, manifests, blobs,
// subject) and of those that describe the document. A null field reads as
// an absent one.
type Document struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType,omitempty"`
	ArtifactType  string               `json:"artifactType,omitempty"`
	Config        *ocispec.Descriptor  `json:"config,omitempty"`
	Layers        []ocispec.Descriptor `json:"layers,omitempty"`
	Manifests     []ocispec.Descriptor `json:"manifests,omitempty"`
	Blobs         []ocispec.Descriptor `json:"blobs,omitempty"`
	Subject       *ocispec.Descriptor  `json:"subject,omitempty"`
	Annotations   map[string]string    `json:"annotations,omitempty"`
}

// Leaves returns the blobs a document names that are not documents in
// their own right: its config, layers and blobs, in that order. With
// Manifests they are the document's children, the graph below it; the
// subject is not a child (it is what a referrer points at).
func (d Document) Leaves() []ocispec.Descriptor {
	var leaves []ocispec.Descriptor
	if d.Config != nil {
		leaves = append(leaves, *d.Config)
	}
	return append(append(leaves, d.Layers...), d.Blobs...)
}

// ParseDocument strictly decodes the document of type mediaType (that of
// the descriptor naming it) and checks its shape: mediaType must be a
// document type (IsDocument); the document's own mediaType, when present,
// must be mediaType; an index or image manifest must have schemaVersion 2;
// an index must have manifests and no layers or config, an image manifest
// a config and no manifests (the ambiguity of CVE-2021-41190). Errors wrap
// ErrBadJSON or ErrBadDocument.
func ParseDocument(data []byte, mediaType string) (Document, error) {
	doc, err := decodeDocument(data, mediaType)
	if err != nil {
		return doc, err
	}
	if profile.IsIndex(mediaType) && (doc.Layers != nil || doc.Config != nil) || profile.IsManifest(mediaType) && doc.Manifests != nil {
		return doc, fmt.Errorf("%w: ambiguous document: both manifests and layers/config", ErrBadDocument)
	}
	return doc, nil
}

// decodeDocument is ParseDocument without the ambiguity check, which
// index.json is not held to (see ParseIndex).
func decodeDocument(data []byte, mediaType string) (Document, error) {
	var doc Document
	if !profile.IsDocument(mediaType) {
		return doc, fmt.Errorf("%w: mediaType %q is not that of a manifest or index", ErrBadDocument, mediaType)
	}
	if err := DecodeStrict(data, &doc); err != nil {
		return doc, err
	}
	versioned := profile.IsIndex(mediaType) || profile.IsManifest(mediaType)
	switch {
	case versioned && doc.SchemaVersion != 2:
		return doc, fmt.Errorf("%w: schemaVersion is %d, not 2", ErrBadDocument, doc.SchemaVersion)
	case doc.MediaType != "" && doc.MediaType != mediaType:
		return doc, fmt.Errorf("%w: mediaType is %q, not %q", ErrBadDocument, doc.MediaType, mediaType)
	case profile.IsIndex(mediaType) && doc.Manifests == nil:
		return doc, fmt.Errorf("%w: manifests is missing or null", ErrBadDocument)
	case profile.IsManifest(mediaType) && (doc.Config == nil || doc.Config.Digest == ""):
		return doc, fmt.Errorf("%w: no config", ErrBadDocument)
	}
	return doc, nil
}

// ReadDocument fetches (verified, at most MaxDocumentSize) and parses with
// ParseDocument the document desc names, as a document of desc's media
// type. A missing blob wraps ErrBlobNotFound.
func (s *Store) ReadDocument(ctx context.Context, desc ocispec.Descriptor) (Document, error) {
	doc, err := s.readDocument(ctx, desc, desc.MediaType)
	if err != nil {
		return doc, fmt.Errorf("%s: %w", desc.Digest, err)
	}
	return doc, nil
}

// readDocument reads desc as a document of type mediaType, which a
// descriptor's own media type must not contradict.
func (s *Store) readDocument(ctx context.Context, desc ocispec.Descriptor, mediaType string) (Document, error) {
	data, err := s.FetchAll(ctx, desc, MaxDocumentSize)
	if err != nil {
		return Document{}, err
	}
	doc, err := ParseDocument(data, mediaType)
	if err == nil && doc.MediaType != "" && desc.MediaType != "" && doc.MediaType != desc.MediaType {
		err = fmt.Errorf("%w: mediaType %q, but the descriptor says %q", ErrBadDocument, doc.MediaType, desc.MediaType)
	}
	return doc, err
}

// ParseManifest is ParseDocument for an OCI image manifest.
func ParseManifest(data []byte) (ocispec.Manifest, error) {
	doc, err := ParseDocument(data, ocispec.MediaTypeImageManifest)
	return doc.manifest(), err
}

// ReadManifest is ReadDocument for an image manifest, OCI or Docker schema 2
// (profile.IsManifest) as desc's media type says; an empty or other media
// type reads as OCI's. A document whose mediaType differs from desc's is
// refused with ErrBadDocument.
func (s *Store) ReadManifest(ctx context.Context, desc ocispec.Descriptor) (ocispec.Manifest, error) {
	mediaType := ocispec.MediaTypeImageManifest
	if profile.IsManifest(desc.MediaType) {
		mediaType = desc.MediaType
	}
	doc, err := s.readDocument(ctx, desc, mediaType)
	if err != nil {
		return doc.manifest(), fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return doc.manifest(), nil
}

// ReadIndexBlob is ReadDocument for an index, an OCI image index or a Docker
// manifest list (profile.IsIndex), with the same rules as ReadManifest.
func (s *Store) ReadIndexBlob(ctx context.Context, desc ocispec.Descriptor) (ocispec.Index, error) {
	mediaType := ocispec.MediaTypeImageIndex
	if profile.IsIndex(desc.MediaType) {
		mediaType = desc.MediaType
	}
	doc, err := s.readDocument(ctx, desc, mediaType)
	if err != nil {
		return doc.Index(), fmt.Errorf("index %s: %w", desc.Digest, err)
	}
	return doc.Index(), nil
}

func (d Document) manifest() ocispec.Manifest {
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: d.SchemaVersion}, MediaType: d.MediaType, ArtifactType: d.ArtifactType,
		Layers: d.Layers, Subject: d.Subject, Annotations: d.Annotations,
	}
	if d.Config != nil {
		m.Config = *d.Config
	}
	return m
}

// Index returns d as an image index (its manifest fields dropped).
func (d Document) Index() ocispec.Index {
	return ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: d.SchemaVersion}, MediaType: d.MediaType, ArtifactType: d.ArtifactType,
		Manifests: d.Manifests, Subject: d.Subject, Annotations: d.Annotations,
	}
}
