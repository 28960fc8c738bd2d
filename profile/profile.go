package profile

import ocispec "github.com/opencontainers/image-spec/specs-go/v1"

// Annotation keys of the bundle profile. Pack writes the io.ocibundle keys
// on every tar layer; extract and verify --deep compare the uncompressed
// tar with them.
const (
	// AnnotationContentDigest is the digest of a layer's uncompressed tar.
	AnnotationContentDigest = "io.ocibundle.content.digest"
	// AnnotationContentSize is the size in bytes of a layer's uncompressed
	// tar, a decimal integer.
	AnnotationContentSize = "io.ocibundle.content.size"
	// AnnotationContentFiles is the number of regular files in a layer.
	AnnotationContentFiles = "io.ocibundle.content.files"
	// AnnotationDeltaBase, on an archive's index.json, says that the
	// archive is a delta (export --since): it leaves out the blobs of the
	// base whose inventory has this digest (sha256 of the inventory file's
	// bytes), which the importing layout must already hold. Import removes
	// it before the merge.
	AnnotationDeltaBase = "io.ocibundle.delta.base"
	// AnnotationORASDigest and AnnotationORASUnpack are ORAS's keys for a
	// directory layer: with them `oras pull` unpacks a gzip tar layer into a
	// directory named by the title.
	AnnotationORASDigest = "io.deis.oras.content.digest"
	AnnotationORASUnpack = "io.deis.oras.content.unpack"
	// The image-spec keys the profile uses (annotations.md).
	AnnotationTitle   = ocispec.AnnotationTitle
	AnnotationCreated = ocispec.AnnotationCreated
	AnnotationRefName = ocispec.AnnotationRefName
)

// DefaultArtifactType is the manifest artifactType pack writes by default.
const DefaultArtifactType = "application/vnd.ocibundle.bundle.v1"

// MediaTypeFile is the media type of a layer pack stores as a file's own
// bytes (pack --raw), as `oras push FILE` stores a file: a blob that is
// the file named by its title, not a tar. (oras gives such a blob
// application/vnd.oci.image.layer.v1.tar, which says tar; `oras pull`
// writes either as the file TITLE, byte for byte.) Extract and verify
// take any titled artifact layer that does not say it is a tar (SaysTar)
// for such a file, whatever its media type.
const MediaTypeFile = "application/octet-stream"

// Media types found in layouts and registries besides image-spec's
// constants: Docker's schema 2 types, the withdrawn OCI artifact manifest,
// and the deprecated non-distributable layer types (spelled out because
// their constants are deprecated).
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar"
	MediaTypeDockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	// MediaTypeDockerForeignLayer is a Docker layer "that should never be
	// pushed" (Windows base layers), fetched from its descriptor's urls.
	MediaTypeDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	MediaTypeArtifactManifest   = "application/vnd.oci.artifact.manifest.v1+json"

	mediaTypeNondistributableLayer     = "application/vnd.oci.image.layer.nondistributable.v1.tar"
	mediaTypeNondistributableLayerGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
	mediaTypeNondistributableLayerZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
)

// IsIndex reports whether mediaType is that of an index: an OCI image index
// or a Docker manifest list.
func IsIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == MediaTypeDockerManifestList
}

// IsManifest reports whether mediaType is that of an image manifest: OCI or
// Docker.
func IsManifest(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageManifest || mediaType == MediaTypeDockerManifest
}

// IsDocument reports whether mediaType is that of a document whose fields
// name other blobs: an index, an image manifest or an artifact manifest.
func IsDocument(mediaType string) bool {
	return IsIndex(mediaType) || IsManifest(mediaType) || mediaType == MediaTypeArtifactManifest
}

// IsImageConfig reports whether mediaType is that of a container image
// config: OCI or Docker.
func IsImageConfig(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageConfig || mediaType == MediaTypeDockerConfig
}

// IsImage reports whether a manifest with this config media type and
// artifactType is a container image, whose layers form one root filesystem
// (whiteouts included), rather than an artifact of titled files: an image
// config and no artifactType.
func IsImage(configMediaType, artifactType string) bool {
	return IsImageConfig(configMediaType) && artifactType == ""
}

// ArtifactType is the artifact type of a manifest with this artifactType
// and config media type: artifactType when set, else the config's media
// type (image-spec v1.1.1 manifest.md; distribution-spec v1.1 "Listing
// Referrers" reports it so).
func ArtifactType(artifactType, configMediaType string) string {
	if artifactType != "" {
		return artifactType
	}
	return configMediaType
}

// Compressions of a tar layer, as TarLayerCompression names them.
const (
	CompressionNone = "none"
	CompressionGzip = "gzip"
	CompressionZstd = "zstd"
)

// tarLayerTypes maps every tar layer media type to its compression.
var tarLayerTypes = map[string]string{
	ocispec.MediaTypeImageLayer:        CompressionNone,
	ocispec.MediaTypeImageLayerGzip:    CompressionGzip,
	ocispec.MediaTypeImageLayerZstd:    CompressionZstd,
	mediaTypeNondistributableLayer:     CompressionNone,
	mediaTypeNondistributableLayerGzip: CompressionGzip,
	mediaTypeNondistributableLayerZstd: CompressionZstd,
	MediaTypeDockerLayer:               CompressionNone,
	MediaTypeDockerLayerGzip:           CompressionGzip,
	MediaTypeDockerForeignLayer:        CompressionGzip,
}

// TarLayerCompression returns the compression of a tar layer media type
// (CompressionNone, CompressionGzip or CompressionZstd), and false for a
// media type that is not a tar layer.
func TarLayerCompression(mediaType string) (string, bool) {
	c, ok := tarLayerTypes[mediaType]
	return c, ok
}

// IsNondistributable reports whether mediaType is that of a layer that
// registries are not sent and that may live elsewhere, at its descriptor's
// urls: OCI's deprecated non-distributable layers (image-spec v1.1.1
// layer.md) and Docker's foreign layers. In a layout such a layer's blob may
// be absent (image-layout.md: missing blobs may come from elsewhere); when
// present it is a tar layer like any other.
func IsNondistributable(mediaType string) bool {
	switch mediaType {
	case mediaTypeNondistributableLayer, mediaTypeNondistributableLayerGzip, mediaTypeNondistributableLayerZstd, MediaTypeDockerForeignLayer:
		return true
	}
	return false
}

// SaysTar reports whether a layer's annotations say it is a tar to unpack:
// ocibundle's content digest, or ORAS's directory keys. An artifact's other
// layers are files, even with a tar media type (as `oras push` gives a
// .tar file); every layer of an image is a tar (IsImage).
func SaysTar(annotations map[string]string) bool {
	_, ours := annotations[AnnotationContentDigest]
	_, oras := annotations[AnnotationORASDigest]
	return ours || oras || annotations[AnnotationORASUnpack] == "true"
}
