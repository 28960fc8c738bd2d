package verify

// Code names the rule a finding breaks. Codes are stable: scripts match them.
type Code string

// Structure of the layout.
const (
	LayoutMissing     Code = "LAYOUT_MISSING"      // no oci-layout file
	BadLayoutVersion  Code = "BAD_LAYOUT_VERSION"  // oci-layout is not {"imageLayoutVersion":"1.0.0"}
	IndexMissing      Code = "INDEX_MISSING"       // no index.json
	BlobsNotDirectory Code = "BLOBS_NOT_DIRECTORY" // blobs/ is missing, a symlink or not a directory
	NotRegularFile    Code = "NOT_REGULAR_FILE"    // a file that must be regular is a symlink, FIFO, directory, link, device or sparse archive member
	TooLarge          Code = "TOO_LARGE"           // a JSON document is over 4 MiB
	BadJSON           Code = "BAD_JSON"            // not UTF-8 JSON, trailing data, or not the expected JSON type
	DuplicateKey      Code = "DUPLICATE_KEY"       // an object has a duplicate or case-variant key
)

// Documents: manifests and indexes.
const (
	BadSchemaVersion    Code = "BAD_SCHEMA_VERSION"    // schemaVersion is not 2
	MediaTypeMissing    Code = "MEDIATYPE_MISSING"     // a document has no mediaType (allowed, discouraged)
	BadMediaType        Code = "BAD_MEDIATYPE"         // a mediaType is not RFC 6838 or not the document's type
	MediaTypeMismatch   Code = "MEDIATYPE_MISMATCH"    // a document's mediaType differs from its descriptor's
	AmbiguousDocument   Code = "AMBIGUOUS_DOCUMENT"    // manifests next to layers or config (CVE-2021-41190)
	ManifestsMissing    Code = "MANIFESTS_MISSING"     // an index has no manifests array, or null
	ConfigMissing       Code = "CONFIG_MISSING"        // a manifest has no config
	ArtifactTypeMissing Code = "ARTIFACT_TYPE_MISSING" // an empty config without artifactType
	BadArtifactType     Code = "BAD_ARTIFACT_TYPE"     // artifactType is not a media type
	LayersMissing       Code = "LAYERS_MISSING"        // a manifest has no layers array
	LayersEmpty         Code = "LAYERS_EMPTY"          // a manifest has no layers
	BadConfig           Code = "BAD_CONFIG"            // an image config is not valid (rootfs, diff_ids)
	DepthExceeded       Code = "DEPTH_EXCEEDED"        // indexes nested deeper than MaxDepth
	UnknownManifestType Code = "UNKNOWN_MANIFEST_TYPE" // an index entry is neither a manifest nor an index
)

// Descriptors.
const (
	BadDigest        Code = "BAD_DIGEST"        // not the digest grammar, or wrong length or case of the hex
	UnknownAlgorithm Code = "UNKNOWN_ALGORITHM" // a grammatical digest whose algorithm cannot be checked (an error in a descriptor, a warning for a file in blobs/)
	BadSize          Code = "BAD_SIZE"          // size missing, not an integer, negative or above 2^53
	BadData          Code = "BAD_DATA"          // data is not padded base64 or is not the blob
	BadURL           Code = "BAD_URL"           // urls is not a list of absolute URIs
	BadAnnotations   Code = "BAD_ANNOTATIONS"   // annotations is null or not a map of strings
	BadPlatform      Code = "BAD_PLATFORM"      // platform lacks architecture or os
	BadField         Code = "BAD_FIELD"         // a field has the wrong JSON type
)

// Annotations.
const (
	UnknownAnnotation   Code = "UNKNOWN_ANNOTATION"     // an org.opencontainers.image.* key the spec does not define
	BadRefName          Code = "BAD_REF_NAME"           // ref.name does not match the spec's grammar
	RefNameOutsideIndex Code = "REF_NAME_OUTSIDE_INDEX" // ref.name anywhere but on index.json's manifests
	DuplicateTag        Code = "DUPLICATE_TAG"          // one tag on index.json entries with different digests (a warning: docker save 25+ writes it)
	BadAnnotation       Code = "BAD_ANNOTATION"         // an ocibundle annotation value that cannot be read
	TagNotFound         Code = "TAG_NOT_FOUND"          // the target's tag is not in index.json
	DigestNotFound      Code = "DIGEST_NOT_FOUND"       // the target's digest is neither in index.json nor in blobs/
)

// Blobs.
const (
	BadBlobName      Code = "BAD_BLOB_NAME"     // a name under blobs/ is not blobs/<alg>/<encoded digest> (a warning for a stray file in blobs/<alg>/)
	BlobMissing      Code = "BLOB_MISSING"      // a referenced blob is not there
	SizeMismatch     Code = "SIZE_MISMATCH"     // a blob's size differs from its descriptor's
	DigestMismatch   Code = "DIGEST_MISMATCH"   // a blob's content does not hash to its name
	UnreferencedBlob Code = "UNREFERENCED_BLOB" // a blob nothing references (gc removes it)
	IngestLeftover   Code = "INGEST_LEFTOVER"   // a temporary file under ingest/ (gc removes it)
	SubjectMissing   Code = "SUBJECT_MISSING"   // a referrer's subject is not in the layout
	BaseBlob         Code = "BASE_BLOB"         // a blob a delta archive leaves out: expected from its base (info)
)

// Archives.
const (
	ArchiveCorrupt  Code = "ARCHIVE_CORRUPT"  // the archive is not a complete tar: not a tar, cut short (even at a member boundary), corrupt, or data after its end
	UnsafeMember    Code = "UNSAFE_MEMBER"    // a member the archive rules refuse: an unsafe or non-canonical name, a name set by PAX or GNU records, a link, device or FIFO outside the layout's names
	DuplicateMember Code = "DUPLICATE_MEMBER" // a second oci-layout or index.json with other bytes, or a name that is a directory and a file
	StrayMember     Code = "STRAY_MEMBER"     // an archive member that is not part of a layout
)

// Deep checks of layers.
const (
	UnknownLayerType      Code = "UNKNOWN_LAYER_TYPE"      // a layer media type with no known codec
	LayerNotChecked       Code = "LAYER_NOT_CHECKED"       // an artifact file with a tar media type and no unpack annotations
	LayerCorrupt          Code = "LAYER_CORRUPT"           // the layer does not decompress cleanly or is not the codec its type says
	ContentDigestMismatch Code = "CONTENT_DIGEST_MISMATCH" // the uncompressed digest differs from an annotation
	ContentSizeMismatch   Code = "CONTENT_SIZE_MISMATCH"   // the uncompressed size differs from io.ocibundle.content.size
	LayerTooLarge         Code = "LAYER_TOO_LARGE"         // a layer without io.ocibundle.content.size decompresses past --max-layer-size: not read further
	DiffIDMismatch        Code = "DIFF_ID_MISMATCH"        // the uncompressed digest differs from the config's diff_id
	TarCorrupt            Code = "TAR_CORRUPT"             // the inner tar does not read to its end, or has data after it
	TarDuplicate          Code = "TAR_DUPLICATE"           // two tar entries have the same path, or one is below a file
	TarUnsafePath         Code = "TAR_UNSAFE_PATH"         // a tar entry name is not local and canonical, is outside the artifact layer's title, a root entry that is not a directory, a whiteout outside an image; an artifact layer title that is not a canonical name
	TarLinkEscapes        Code = "TAR_LINK_ESCAPES"        // a symlink leaves the layer (absolute, in an artifact), an entry is reached through a symlink, a hard link names no earlier file
	TarDevice             Code = "TAR_DEVICE"              // a character or block device
	TarSpecialFile        Code = "TAR_SPECIAL_FILE"        // a FIFO, a sparse file or an unknown entry type
	DeepLimit             Code = "DEEP_LIMIT"              // too many entries to track for duplicates and links
	// Portability warnings: extract on Windows or macOS refuses these names.
	TarNameUnportable Code = "TAR_NAME_UNPORTABLE" // a name Windows or macOS cannot hold: a device name (CON, nul.txt, COM1…), a character Windows forbids (<>:"|?* or a control character), a trailing dot or space, not UTF-8
	TarNameCollision  Code = "TAR_NAME_COLLISION"  // two names that are one file on Windows or macOS: they differ only in case or in Unicode normalization (in a layer, across an image's layers, or between an artifact's titles)
)

// Signatures (package signature judges them; verify reports them). The
// errors are errors only when trust was given (--cert, --trust-policy,
// --key, --trusted-root…); without trust a signature is listed, never judged.
const (
	SignatureValid     Code = "SIGNATURE_VALID"     // info: a signature the given trust accepts, naming signer and envelope
	SignatureSeen      Code = "SIGNATURE_SEEN"      // info: a signature of a bundle, listed without trust for its format
	SignatureInvalid   Code = "SIGNATURE_INVALID"   // a signature that does not match its bundle, or broken, or unreadable
	SignatureUntrusted Code = "SIGNATURE_UNTRUSTED" // a valid signature no given root, key or policy accepts
	SignatureExpired   Code = "SIGNATURE_EXPIRED"   // a signature whose certificate or validity has expired
	SignatureIdentity  Code = "SIGNATURE_IDENTITY"  // keyless: a certificate of another identity or OIDC issuer
	SignatureMissing   Code = "SIGNATURE_MISSING"   // trust was given and no signature of the bundle satisfies it
)

// Pins.
const (
	DigestPinMismatch  Code = "DIGEST_PIN_MISMATCH"  // the target bundle's digest is not --digest
	DigestPinAmbiguous Code = "DIGEST_PIN_AMBIGUOUS" // --digest with a target that holds several bundles
)

// rank puts, within one location, the findings about a blob's identity
// first: they explain the others (a flipped byte also breaks the JSON).
func (c Code) rank() int {
	switch c {
	case BlobMissing, NotRegularFile, SizeMismatch, DigestMismatch:
		return 0
	}
	return 1
}
