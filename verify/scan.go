package verify

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
)

// capture says whether scan keeps the bytes of a blob.
type capture int

const (
	captureNone capture = iota
	captureAll          // a document the walk asked for (at most MaxDocumentSize)
	captureJSON         // an archive member that may be a document: kept if it starts with '{'
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
func scan(ctx context.Context, r io.Reader, alg digest.Algorithm, keep capture, deep deepScan, p Progress) (scanResult, error) {
	var res scanResult
	h := alg.Digester()
	src := &errReader{ctx: ctx, r: r, p: p}
	br := bufio.NewReaderSize(io.TeeReader(src, h.Hash()), 64<<10)
	counted := &countReader{r: br}
	head, _ := br.Peek(512)
	if keep == captureJSON && looksJSON(head) {
		keep = captureAll
	}
	switch {
	case keep == captureAll:
		data, err := layout.ReadCapped(counted, layout.MaxDocumentSize)
		if err == nil {
			res.data = data
		}
	case deep.on:
		res.deep = inspectLayer(ctx, counted, sniff(head), deep.allowOutside)
	}
	if _, err := io.Copy(io.Discard, counted); err != nil && src.err == nil {
		src.err = err
	}
	if src.err != nil {
		return res, src.err
	}
	if ctx.Err() != nil {
		return res, context.Cause(ctx)
	}
	res.sum, res.n = h.Digest(), counted.n
	return res, nil
}

// deepScan says whether scan decompresses a blob as a layer, and how the
// layer judge treats links that leave it.
type deepScan struct{ on, allowOutside bool }

// deepScan returns how to scan a blob that is (want) or is not a tar layer.
func (c *checker) deepScan(want bool) deepScan {
	return deepScan{on: want, allowOutside: c.opts.AllowOutsideLinks}
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

// errReader remembers the first error of the underlying reader other than
// io.EOF, so that a decoder failing on it is not mistaken for bad content.
// It also reports progress, and stops at the cancellation of ctx (when set),
// so that a big blob does not delay it.
type errReader struct {
	ctx context.Context
	r   io.Reader
	p   Progress
	err error
}

func (e *errReader) Read(b []byte) (int, error) {
	if e.ctx != nil && e.ctx.Err() != nil {
		if e.err == nil {
			e.err = context.Cause(e.ctx)
		}
		return 0, e.err
	}
	n, err := e.r.Read(b)
	if n > 0 {
		e.p.Add(int64(n))
	}
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
