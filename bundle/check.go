package bundle

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/verify"
)

// verifyGraph is the one check of a graph that crosses the layout's edge:
// import and pull run it on what they received before index.json names
// it, push and export on what they are about to send. It runs verify's
// checks (verify.VerifyGraph, the rules of `verify LAYOUT:TAG`) on the
// graph index, an index.json document, names in the layout: structure,
// descriptors (data included), graph, every blob present with its size,
// and every blob's digest. Blobs in hashed are the caller's to hash: they
// were hashed as they were ingested (import, pull), or will be as they are
// copied out, failing the copy on a mismatch (export); every other blob
// of the graph is hashed here. Warnings are returned as strings; any error
// finding fails with verify.ErrFailed, naming the first and counting the
// others. It only reads.
func verifyGraph(ctx context.Context, store *layout.Store, index []byte, hashed map[digest.Digest]bool) ([]string, error) {
	rep, err := verify.VerifyGraph(ctx, store.Root(), index, "graph", verify.Options{Hashed: hashed})
	if err != nil {
		return nil, err
	}
	return judgeGraph(rep)
}

// judgeGraph is verifyGraph's verdict on a report of verify.VerifyGraph.
func judgeGraph(rep *verify.Report) ([]string, error) {
	var warnings, errs []string
	for _, f := range rep.Findings {
		msg := fmt.Sprintf("%s: %s (%s)", findingWhere(f), f.Message, f.Code)
		switch f.Severity {
		case verify.Error:
			errs = append(errs, msg)
		case verify.Warning:
			warnings = append(warnings, "verify: "+msg)
		}
	}
	if len(errs) > 0 {
		more := ""
		if len(errs) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(errs)-1)
		}
		return warnings, fmt.Errorf("%w: %s%s", verify.ErrFailed, errs[0], more)
	}
	return warnings, nil
}

func findingWhere(f verify.Finding) string {
	if f.Pointer != "" {
		return f.Location + "#" + f.Pointer
	}
	return f.Location
}

// graphIndex is the index.json document of entries, as verifyGraph takes
// it: the roots of what a command moves.
func graphIndex(entries []ocispec.Descriptor) ([]byte, error) {
	return json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: entries})
}
