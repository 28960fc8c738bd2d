// Package verify audits an OCI image layout, or an archive of one, offline
// and read-only, and returns a Report of every problem it finds.
//
// Verify never stops at the first problem and never changes the target. It
// checks, in this order:
//
//   - structure: oci-layout, index.json, every descriptor's grammar, the
//     manifest and index rules of image-spec v1.1.1, the ambiguous document
//     shapes of CVE-2021-41190, annotation rules;
//   - the graph: every reference resolves, nested indexes are walked with a
//     visited set keyed by digest and a depth cap (MaxDepth);
//   - content: every blob's size, then its digest, each blob read and hashed
//     exactly once, in parallel across the cores for a layout directory and
//     as the bytes pass for an archive;
//   - hygiene (whole layouts only): names under blobs/, unreferenced blobs,
//     leftovers under ingest/;
//   - with Options.Deep, every tar layer decompressed (zstd, gzip or plain)
//     and its uncompressed digest and size compared with the annotations and
//     the image config's diff_ids, and its tar entries judged for safety;
//   - with Options.Digest, that the target bundle has that manifest digest.
//
// An archive (a tar file, or "-" for standard input) is read once as a
// stream in any member order; only JSON documents of at most
// layout.MaxDocumentSize bytes are held in memory and nothing is written to
// disk. Its members are judged by layout.ArchiveReader, the rules import
// applies to a hostile archive: each member it refuses is a finding
// (UNSAFE_MEMBER, NOT_REGULAR_FILE, BAD_BLOB_NAME, DUPLICATE_MEMBER, …) and
// reading goes on, except after a refusal the reader cannot go on from (a
// corrupt or cut stream, a name changed by a PAX or GNU record, a sparse
// file), where the rest of the archive is read but not judged.
//
// The returned error is only for operational failure (the target cannot be
// read) or a bad target or option string (ErrBadTarget, ErrBadOption);
// content problems are findings, and Report.Err wraps ErrFailed when any of
// them is an error.
package verify
