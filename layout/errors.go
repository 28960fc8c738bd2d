package layout

import "errors"

// Sentinel errors. They are wrapped with the identifying detail (a path, a
// digest, a tag); callers branch with errors.Is.
var (
	// ErrNotLayout: a directory is not an OCI image layout (and, for Create,
	// is not empty either, so it will not be turned into one).
	ErrNotLayout = errors.New("not an OCI image layout")
	// ErrBadDigest: a digest is not grammatical or its algorithm is not
	// sha256 or sha512.
	ErrBadDigest = errors.New("invalid digest")
	// ErrDigestMismatch: content does not hash to the digest expected for it.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: content is not the size expected for it.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrBlobNotFound: a blob is not in the layout.
	ErrBlobNotFound = errors.New("blob not found")
	// ErrNotRegular: a path that must be a regular file is a symlink,
	// directory, device or FIFO.
	ErrNotRegular = errors.New("not a regular file")
	// ErrBadTag: a tag does not match the ref.name grammar.
	ErrBadTag = errors.New("invalid tag")
	// ErrTagConflict: an incoming tag already names a different manifest
	// in index.json, and the command receives (import, pull) without force.
	ErrTagConflict = errors.New("tag conflict")
	// ErrDuplicateTag: entries of one index give one tag to different
	// manifests (docker save 25+ names every image "latest").
	ErrDuplicateTag = errors.New("duplicate tag")
	// ErrTagNotFound: no index.json entry carries the tag.
	ErrTagNotFound = errors.New("tag not found")
	// ErrBadReference: a reference is not LAYOUT, LAYOUT:TAG or LAYOUT@DIGEST.
	ErrBadReference = errors.New("invalid reference")
	// ErrBadJSON: a document is not strict JSON (invalid UTF-8, a duplicate
	// or case-variant key, trailing data, or not JSON at all).
	ErrBadJSON = errors.New("invalid JSON")
	// ErrDuplicateKey: a JSON object has a duplicate key, or keys that differ
	// only in case. Errors wrapping it also wrap ErrBadJSON.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrTooLarge: a document exceeds the size cap for its kind.
	ErrTooLarge = errors.New("document too large")
	// ErrBadDocument: a JSON document is well-formed but is not the OCI
	// document it must be (wrong schemaVersion, null manifests, …).
	ErrBadDocument = errors.New("invalid document")
	// ErrNotReferrer: a document listed as a referrer of a subject (by a
	// registry) is not one: it is not a manifest or index, or its subject
	// is another document or none (referrers.go).
	ErrNotReferrer = errors.New("not a referrer")
)

// Sentinel errors of archives (archive.go).
var (
	// ErrUnsafeArchive: an archive member is refused by the rules for
	// hostile archives (a link, a device, an unsafe or changed name, …).
	ErrUnsafeArchive = errors.New("unsafe archive member")
	// ErrBadArchive: a stream is not a complete tar archive of a layout
	// (empty, not a tar, truncated, corrupt, or missing oci-layout or
	// index.json).
	ErrBadArchive = errors.New("bad archive")

	// The kinds of refusal that a reader reporting findings (verify) tells
	// apart. An error wrapping one of them also wraps ErrUnsafeArchive; a
	// refusal wrapping none of them is of a name (unsafe, not canonical, or
	// set by a PAX or GNU record) or of the archive's structure.

	// ErrMemberType: a member is a link, device, FIFO, sparse file or other
	// special type, or a directory where its name needs a regular file (or
	// the reverse).
	ErrMemberType = errors.New("member of the wrong type")
	// ErrDuplicateMember: a second oci-layout or index.json with different
	// bytes, or a name that is a directory in one member and a file in
	// another.
	ErrDuplicateMember = errors.New("duplicate member")
	// ErrArchiveOrder: a blob of an archive read as a stream (standard
	// input, parts) is asked for after the stream went past it: the
	// archive holds it before the documents that name it, or out of the
	// order it is needed in. Read the archive from a file.
	ErrArchiveOrder = errors.New("archive member out of order for a stream: read the archive from a file")
	// ErrReadOnly: a write to a Store that reads an archive.
	ErrReadOnly = errors.New("an archive is read-only")

	// ErrBlobName: a name under blobs/ that is not blobs/<alg>/<encoded>
	// with a valid digest.
	ErrBlobName = errors.New("not a blob name")
)
