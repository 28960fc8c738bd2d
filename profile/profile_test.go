package profile

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestMediaTypePredicates(t *testing.T) {
	tests := []struct {
		mediaType                                string
		index, manifest, isDocument, imageConfig bool
	}{
		{ocispec.MediaTypeImageIndex, true, false, true, false},
		{MediaTypeDockerManifestList, true, false, true, false},
		{ocispec.MediaTypeImageManifest, false, true, true, false},
		{MediaTypeDockerManifest, false, true, true, false},
		{MediaTypeArtifactManifest, false, false, true, false},
		{ocispec.MediaTypeImageConfig, false, false, false, true},
		{MediaTypeDockerConfig, false, false, false, true},
		{ocispec.MediaTypeEmptyJSON, false, false, false, false},
		{"", false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.mediaType, func(t *testing.T) {
			if got := IsIndex(tt.mediaType); got != tt.index {
				t.Errorf("IsIndex() = %v, want %v", got, tt.index)
			}
			if got := IsManifest(tt.mediaType); got != tt.manifest {
				t.Errorf("IsManifest() = %v, want %v", got, tt.manifest)
			}
			if got := IsDocument(tt.mediaType); got != tt.isDocument {
				t.Errorf("IsDocument() = %v, want %v", got, tt.isDocument)
			}
			if got := IsImageConfig(tt.mediaType); got != tt.imageConfig {
				t.Errorf("IsImageConfig() = %v, want %v", got, tt.imageConfig)
			}
		})
	}
}

func TestIsImage(t *testing.T) {
	tests := []struct {
		config, artifactType string
		want                 bool
	}{
		{ocispec.MediaTypeImageConfig, "", true},
		{MediaTypeDockerConfig, "", true},
		{ocispec.MediaTypeImageConfig, DefaultArtifactType, false},
		{ocispec.MediaTypeEmptyJSON, DefaultArtifactType, false},
		{ocispec.MediaTypeEmptyJSON, "", false},
	}
	for _, tt := range tests {
		if got := IsImage(tt.config, tt.artifactType); got != tt.want {
			t.Errorf("IsImage(%q, %q) = %v, want %v", tt.config, tt.artifactType, got, tt.want)
		}
	}
}

func TestTarLayerCompression(t *testing.T) {
	tests := []struct {
		mediaType, want string
		ok              bool
	}{
		{ocispec.MediaTypeImageLayer, CompressionNone, true},
		{ocispec.MediaTypeImageLayerGzip, CompressionGzip, true},
		{ocispec.MediaTypeImageLayerZstd, CompressionZstd, true},
		{"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", CompressionZstd, true},
		{MediaTypeDockerLayerGzip, CompressionGzip, true},
		{MediaTypeDockerLayer, CompressionNone, true},
		{MediaTypeDockerForeignLayer, CompressionGzip, true},
		{"application/octet-stream", "", false},
		{"application/vnd.oci.image.layer.v1.tar+lz4", "", false},
	}
	for _, tt := range tests {
		if got, ok := TarLayerCompression(tt.mediaType); got != tt.want || ok != tt.ok {
			t.Errorf("TarLayerCompression(%q) = %q, %v, want %q, %v", tt.mediaType, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsNondistributable(t *testing.T) {
	tests := []struct {
		mediaType string
		want      bool
	}{
		{MediaTypeDockerForeignLayer, true},
		{"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", true},
		{"application/vnd.oci.image.layer.nondistributable.v1.tar", true},
		{MediaTypeDockerLayerGzip, false},
		{ocispec.MediaTypeImageLayerGzip, false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsNondistributable(tt.mediaType); got != tt.want {
			t.Errorf("IsNondistributable(%q) = %v, want %v", tt.mediaType, got, tt.want)
		}
	}
}

func TestSaysTar(t *testing.T) {
	tests := []struct {
		ann  map[string]string
		want bool
	}{
		{map[string]string{AnnotationContentDigest: "sha256:00"}, true},
		{map[string]string{AnnotationORASDigest: "sha256:00"}, true},
		{map[string]string{AnnotationORASUnpack: "true"}, true},
		{map[string]string{AnnotationORASUnpack: "false"}, false},
		{map[string]string{AnnotationTitle: "a.tar"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := SaysTar(tt.ann); got != tt.want {
			t.Errorf("SaysTar(%v) = %v, want %v", tt.ann, got, tt.want)
		}
	}
}

func TestArtifactType(t *testing.T) {
	if got := ArtifactType(DefaultArtifactType, ocispec.MediaTypeEmptyJSON); got != DefaultArtifactType {
		t.Errorf("ArtifactType(set) = %q, want %q", got, DefaultArtifactType)
	}
	if got := ArtifactType("", ocispec.MediaTypeImageConfig); got != ocispec.MediaTypeImageConfig {
		t.Errorf("ArtifactType(unset) = %q, want the config's %q", got, ocispec.MediaTypeImageConfig)
	}
}
