package verify

import (
	"bufio"
	"bytes"
	"context"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/progress"
)

// capture says whether scan keeps the bytes of a blob.
type capture int

const (
	captureNone  capture = iota
	captureAll           // a document the walk asked for (at most MaxDocumentSize)
	captureJSON          // an archive member that may be a document: kept if it starts with '{'
	captureSmall         // a small archive member kept whole for the signature checks (deep-scanned too when asked)
)

// scanResult is what one pass over a blob's bytes learned.
type scanResult struct {
	sum  digest.Digest
	n    int64
	data []byte       // the bytes, when captured
	deep *layerResult // the decompressed layer, when asked
}

// scan reads r to its end once: it hashes it with alg, keeps it as a
// document when asked (and when it is at most MaxDocumentSize bytes), and,
// when deep is set, decompresses it as a layer on the way. It returns an
// error only when reading r fails; problems of the content are in the
// result.
func scan(ctx context.Context, r io.Reader, alg digest.Algorithm, keep capture, deep deepScan, p progress.Progress) (scanResult, error) {
	var res scanResult
	h := alg.Digester()
	// src remembers the first error of r, so that a decoder failing on it
	// is not mistaken for bad content, and stops at the cancellation of ctx,
	// so that a big blob does not delay it.
	src := countio.NewReader(r, countio.WithContext(ctx), countio.WithProgress(p), countio.WithTee(h.Hash()))
	br := bufio.NewReaderSize(src, 64<<10)
	counted := countio.NewReader(br)
	head, _ := br.Peek(512)
	if (keep == captureJSON || keep == captureSmall) && looksJSON(head) {
		keep = captureAll
	}
	switch {
	case keep == captureAll:
		data, err := layout.ReadCapped(counted, layout.MaxDocumentSize)
		if err == nil {
			res.data = data
		}
	case keep == captureSmall:
		data, err := layout.ReadCapped(counted, layout.MaxDocumentSize)
		if err == nil {
			res.data = data
			if deep.on {
				res.deep = inspectLayer(ctx, bytes.NewReader(data), sniff(head), deep)
			}
		}
	case deep.on:
		res.deep = inspectLayer(ctx, counted, sniff(head), deep)
	}
	_, err := io.Copy(io.Discard, counted)
	if src.Err() != nil {
		return res, src.Err()
	}
	if err != nil {
		return res, err
	}
	if ctx.Err() != nil {
		return res, context.Cause(ctx)
	}
	res.sum, res.n = h.Digest(), counted.N()
	return res, nil
}

// deepScan says whether scan decompresses a blob as a layer, how the
// layer judge treats links that leave it, whether the blob is known to
// be an image layer (its summary is then kept for the checks of the image's
// layers together), whether it is a layer of an artifact whose titles
// nest (its headers are then kept for the checks of the artifact's layers
// together), and how many uncompressed bytes it may have (layer.ContentLimit:
// declared tells whether the limit is the layer's declared size).
type deepScan struct {
	on, allowOutside, image, headers bool
	limit                            int64
	declared                         bool
	why                              string // what sets limit, for the message
}

// deepScan returns how to scan a blob of size bytes that is (want) or is
// not a tar layer when no descriptor is known (an archive: layers may come
// first).
func (c *checker) deepScan(want bool, size int64) deepScan {
	d := deepScan{on: want, allowOutside: c.opts.AllowOutsideLinks}
	d.limit, d.why = layer.ContentLimit(-1, c.opts.MaxLayerSize, size)
	return d
}

// deepScanOf returns how to scan b, a blob of a layout directory, whose
// descriptors are known.
func (c *checker) deepScanOf(b *blob) deepScan {
	d := deepScan{on: b.wantDeep, allowOutside: c.opts.AllowOutsideLinks, image: b.imageLayer, headers: b.nestedLayer}
	declared := int64(-1)
	if b.declared {
		declared, d.declared = b.contentSize, true
	}
	d.limit, d.why = layer.ContentLimit(declared, c.opts.MaxLayerSize, b.size)
	return d
}

// looksJSON reports whether b starts, after white space, with '{'.
func looksJSON(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// sniff names the codec of a layer stream by its first bytes: the zstd and
// gzip magic numbers; anything else is read as a plain tar.
func sniff(head []byte) compress.Codec {
	switch {
	case len(head) >= 4 && head[1] == 0x2a && head[2] == 0x4d && head[3] == 0x18 && head[0]&0xf0 == 0x50:
		return compress.Zstd // a skippable frame
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return compress.Zstd
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return compress.Gzip
	}
	return compress.None
}
