package bundle

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/display"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/units"
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

// reachableBlobs returns the digests of every blob reachable from
// index.json, read as layout.WalkOptions Lenient and Subjects describe: a
// descriptor in a document position is read as a document when its media
// type is a document type, or when it has no known type but decodes as one;
// configs, layers and blobs are leaves.
func reachableBlobs(ctx context.Context, store *layout.Store) (map[digest.Digest]bool, error) {
	idx, err := store.ReadIndex(ctx)
	if err != nil {
		return nil, err
	}
	reachable := map[digest.Digest]bool{}
	w := store.NewWalker(layout.WalkOptions{Lenient: true, Subjects: true})
	for _, m := range idx.Manifests {
		err := w.Walk(ctx, m, func(d ocispec.Descriptor, _ *layout.Document) error {
			reachable[d.Digest] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot tell what %s references: %w", m.Digest, err)
		}
	}
	return reachable, nil
}

// WriteGCText writes res for people: one line per removed file, then a
// summary.
func WriteGCText(w io.Writer, res GCResult) error {
	verb, freed := "removed", "freed"
	if res.DryRun {
		verb, freed = "would remove", "would be freed"
	}
	for _, f := range res.Removed {
		if _, err := fmt.Fprintf(w, "%s %s (%s)\n", verb, display.String(f.Path), units.FormatBytes(f.Size)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%s %d %s and %d %s; %s (%d bytes) %s; %d %s kept\n",
		verb, res.Blobs, plural(res.Blobs, "blob", "blobs"), res.Ingest, plural(res.Ingest, "ingest file", "ingest files"),
		units.FormatBytes(res.Bytes), res.Bytes, freed, res.Kept, plural(res.Kept, "blob", "blobs"))
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
