package countio

import (
	"context"
	"errors"
	"io"

	"github.com/ocibundle/ocibundle/progress"
)

// Option configures a Reader or a Writer.
type Option func(*options)

type options struct {
	ctx      context.Context
	progress progress.Progress
	tee      io.Writer
	limit    int64 // -1: none
	over     error
}

// WithContext stops the stream at the cancellation of ctx: every Read or
// Write after it fails with context.Cause(ctx), so that a long copy ends
// within one buffer of the cancellation.
func WithContext(ctx context.Context) Option { return func(o *options) { o.ctx = ctx } }

// WithProgress reports every byte that passes to p (nil reports nothing).
func WithProgress(p progress.Progress) Option { return func(o *options) { o.progress = p } }

// WithTee writes every byte read to w (a hash, typically), like
// io.TeeReader; w must not fail (a hash.Hash never does), its errors are
// ignored. Readers only.
func WithTee(w io.Writer) Option { return func(o *options) { o.tee = w } }

// WithLimit bounds a Reader at limit bytes: it reads at most one byte past
// it, and a read that passes it fails with over (instead of the bytes), so
// that a stream larger than announced is cut off there. Readers only;
// limit < 0 means no bound.
func WithLimit(limit int64, over error) Option {
	return func(o *options) { o.limit, o.over = limit, over }
}

func apply(opts []Option) options {
	o := options{limit: -1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.progress == nil {
		o.progress = progress.Nop{}
	}
	return o
}

// Reader counts the bytes read through it and remembers the first error of
// the underlying reader other than io.EOF, so that a decoder that fails on
// that error is not mistaken for bad content. Not safe for concurrent use.
type Reader struct {
	r   io.Reader
	n   int64
	err error
	o   options
}

// NewReader returns a counting Reader of r with the given options.
func NewReader(r io.Reader, opts ...Option) *Reader {
	return &Reader{r: r, o: apply(opts)}
}

// N returns the number of bytes read so far (in bytes).
func (c *Reader) N() int64 { return c.n }

// Err returns the first error of the underlying reader other than io.EOF,
// the context's cause after a cancellation, or nil.
func (c *Reader) Err() error { return c.err }

func (c *Reader) Read(p []byte) (int, error) {
	if c.o.ctx != nil && c.o.ctx.Err() != nil {
		if c.err == nil {
			c.err = context.Cause(c.o.ctx)
		}
		return 0, c.err
	}
	if c.o.limit >= 0 && int64(len(p)) > c.o.limit-c.n+1 {
		p = p[:c.o.limit-c.n+1] // one byte past the bound notices more data
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && c.err == nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	if c.o.limit >= 0 && c.n > c.o.limit {
		return 0, c.o.over
	}
	if n > 0 {
		if c.o.tee != nil {
			c.o.tee.Write(p[:n])
		}
		c.o.progress.Add(int64(n))
	}
	return n, err
}

// Writer counts the bytes written through it to w. Of the options it
// honours WithContext and WithProgress. It has no ReadFrom, so io.Copy
// into it uses its own buffer (io.CopyBuffer the one it is given) instead
// of w's ReadFrom. Not safe for concurrent use.
type Writer struct {
	w io.Writer
	n int64
	o options
}

// NewWriter returns a counting Writer to w; w nil counts bytes and drops
// them.
func NewWriter(w io.Writer, opts ...Option) *Writer {
	if w == nil {
		w = io.Discard
	}
	return &Writer{w: w, o: apply(opts)}
}

// N returns the number of bytes written so far (in bytes).
func (c *Writer) N() int64 { return c.n }

func (c *Writer) Write(p []byte) (int, error) {
	if c.o.ctx != nil && c.o.ctx.Err() != nil {
		return 0, context.Cause(c.o.ctx)
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	if n > 0 {
		c.o.progress.Add(int64(n))
	}
	return n, err
}
