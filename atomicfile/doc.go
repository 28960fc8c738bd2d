// Package atomicfile is the one way ocibundle commits a file: blobs,
// index.json and oci-layout of a layout, export archives, split parts and
// checksum lists. The content is written to a temporary file on the same
// file system as the target (under LAYOUT/ingest/ for a layout, next to
// the target otherwise), synced, closed, renamed over the target, and the
// target's directory is synced, as containerd's content store commits (and
// unlike go-containerregistry and oras-go, which write index.json in place,
// so that a crash leaves it truncated). A reader of the target sees the old
// file or the whole new one, never a part.
//
// The contract: on any failure or a cancellation of the context before the
// rename, the temporary file is removed and the target is untouched. A
// crash (SIGKILL, power loss) can leave a temporary file, never a partial
// target: ".NAME.tmp-RANDOM" in the target's directory, or in ingest/,
// which gc clears.
package atomicfile
