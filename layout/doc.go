// Package layout is the only code that knows the on-disk form of an OCI image
// layout: the oci-layout marker, index.json, and the content-addressed blobs
// under blobs/<alg>/<hex>.
//
// Every file it writes is committed the same way: a temporary file under
// LAYOUT/ingest/ (the same filesystem, never inside blobs/<alg>/), written,
// synced, closed, renamed into place, and the directory synced. A crash
// therefore leaves either the old file or the new one, plus possibly an
// orphaned temporary file under ingest/ that gc removes. Blobs are verified
// while they are written (size, then digest) and are read-only once committed.
//
// index.json is only changed through Store.UpdateIndex, which holds an
// exclusive lock on the layout directory for the whole read-modify-write, so
// concurrent processes never lose each other's entries.
//
// Paths inside the layout are built only from validated digests (sha256 or
// sha512, lowercase hex of the right length); reads refuse symlinks and
// non-regular files.
package layout
