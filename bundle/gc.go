package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// GCOptions are the knobs of GC.
type GCOptions struct {
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
}

// GCResult lists what GC removed (or, with DryRun, would remove).
type GCResult struct {
	DryRun bool `json:"dryRun"`
	// Removed holds blobs first, then ingest entries, each sorted by path.
	Removed []layout.File `json:"removed"`
	Blobs   int           `json:"blobs"`
	Ingest  int           `json:"ingest"`
	// Bytes is the sum of the sizes of Removed.
	Bytes int64 `json:"bytes"`
	// Kept is the number of blobs reachable from index.json.
	Kept int `json:"kept"`
}

// GC removes from the layout at dir every blob that is not reachable from
// index.json, and every entry of ingest/.
//
// Reachable means: named by an index.json entry (referrers listed there
// included), or by the config, layers, manifests, blobs or subject of a
// reachable manifest or index, recursively. GC runs under layout.Collect:
// it waits for packs and imports in flight to name their blobs in
// index.json, and they wait for it, so it never deletes a blob a writer is
// about to reference, and every ingest/ file it sees is left over from a
// writer that died (see layout.Store.HoldBlobs for why a grace period on
// blob age would not be enough: a writer may reuse an old unreferenced blob).
//
// GC deletes only what it can prove unreachable: if a manifest or index
// reachable from index.json is missing (ErrBlobNotFound) or cannot be read
// and parsed (ErrDigestMismatch, ErrBadJSON, ErrBadDocument, …), it removes
// nothing and returns the error, since the blobs below it are unknown. A
// missing subject is not an error (referrers may precede their subject).
// Files in blobs/ that are not named by a valid digest are left alone.
// Each removal is atomic; an interrupted GC leaves a valid layout.
func GC(ctx context.Context, dir string, opts GCOptions) (GCResult, error) {
	store, err := layout.Open(dir)
	if err != nil {
		return GCResult{}, err
	}
	res := GCResult{DryRun: opts.DryRun, Removed: []layout.File{}}
	err = store.Collect(ctx, func(c *layout.Collector) error {
		reachable, err := reachableBlobs(ctx, store)
		if err != nil {
			return err
		}
		blobs, err := c.Blobs(ctx)
		if err != nil {
			return err
		}
		for _, b := range blobs {
			if reachable[b.Digest] {
				res.Kept++
				continue
			}
			res.Removed = append(res.Removed, b)
			res.Blobs++
		}
		ingest, err := c.Ingest(ctx)
		if err != nil {
			return err
		}
		res.Removed = append(res.Removed, ingest...)
		res.Ingest = len(ingest)
		for _, f := range res.Removed {
			res.Bytes += f.Size
		}
		if opts.DryRun {
			return nil
		}
		for _, f := range res.Removed {
			if err := context.Cause(ctx); err != nil {
				return err
			}
			if err := c.Remove(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return GCResult{}, fmt.Errorf("%s: %w", dir, err)
	}
	return res, nil
}

// Document media types whose children GC follows. The Docker types and the
// withdrawn OCI artifact manifest are found in layouts written by peers.
var documentTypes = map[string]bool{
	ocispec.MediaTypeImageIndex:                                 true,
	ocispec.MediaTypeImageManifest:                              true,
	"application/vnd.docker.distribution.manifest.list.v2+json": true,
	"application/vnd.docker.distribution.manifest.v2+json":      true,
	"application/vnd.oci.artifact.manifest.v1+json":             true,
}

// gcDocument holds the descriptor fields of every manifest and index kind.
type gcDocument struct {
	Config    *ocispec.Descriptor  `json:"config"`
	Layers    []ocispec.Descriptor `json:"layers"`
	Manifests []ocispec.Descriptor `json:"manifests"`
	Blobs     []ocispec.Descriptor `json:"blobs"`
	Subject   *ocispec.Descriptor  `json:"subject"`
}

// reachableBlobs returns the digests of every blob reachable from
// index.json. A descriptor in a manifest position (an index.json entry, an
// index's manifests, a subject) is read as a document when its media type is
// a document type, or when it has no known type but parses as one; configs
// and layers are leaves.
func reachableBlobs(ctx context.Context, store *layout.Store) (map[digest.Digest]bool, error) {
	idx, err := store.ReadIndex(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[digest.Digest]bool{}
	var visit func(d ocispec.Descriptor, subject bool, depth int) error
	visit = func(d ocispec.Descriptor, subject bool, depth int) error {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if err := layout.ValidateDigest(d.Digest); err != nil {
			return err
		}
		if seen[d.Digest] {
			return nil
		}
		if depth > maxDepth {
			return fmt.Errorf("%s: %w: documents nested deeper than %d", d.Digest, layout.ErrBadDocument, maxDepth)
		}
		known := documentTypes[d.MediaType]
		if !known && d.Size > layout.MaxDocumentSize {
			seen[d.Digest] = true // too large to be a manifest: a leaf
			return nil
		}
		data, err := store.FetchAll(ctx, d, layout.MaxDocumentSize)
		if errors.Is(err, layout.ErrBlobNotFound) && subject {
			return nil // a referrer may arrive before its subject
		}
		seen[d.Digest] = true
		if err != nil {
			return fmt.Errorf("cannot tell what %s references: %w", d.Digest, err)
		}
		var doc gcDocument
		if err := layout.DecodeStrict(data, &doc); err != nil {
			if !known {
				return nil // not a document: a leaf
			}
			return fmt.Errorf("cannot tell what %s references: %w", d.Digest, err)
		}
		if doc.Config != nil {
			if err := leaf(*doc.Config, seen); err != nil {
				return err
			}
		}
		for _, l := range append(doc.Layers, doc.Blobs...) {
			if err := leaf(l, seen); err != nil {
				return err
			}
		}
		for _, m := range doc.Manifests {
			if err := visit(m, false, depth+1); err != nil {
				return err
			}
		}
		if doc.Subject != nil {
			return visit(*doc.Subject, true, depth+1)
		}
		return nil
	}
	for _, m := range idx.Manifests {
		if err := visit(m, false, 0); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

func leaf(d ocispec.Descriptor, seen map[digest.Digest]bool) error {
	if err := layout.ValidateDigest(d.Digest); err != nil {
		return err
	}
	seen[d.Digest] = true
	return nil
}

// WriteGCText writes res for people: one line per removed file, then a
// summary.
func WriteGCText(w io.Writer, res GCResult) error {
	verb, freed := "removed", "freed"
	if res.DryRun {
		verb, freed = "would remove", "would be freed"
	}
	for _, f := range res.Removed {
		if _, err := fmt.Fprintf(w, "%s %s (%s)\n", verb, f.Path, HumanBytes(f.Size)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%s %d %s and %d %s; %s (%d bytes) %s; %d %s kept\n",
		verb, res.Blobs, plural(res.Blobs, "blob", "blobs"), res.Ingest, plural(res.Ingest, "ingest file", "ingest files"),
		HumanBytes(res.Bytes), res.Bytes, freed, res.Kept, plural(res.Kept, "blob", "blobs"))
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
