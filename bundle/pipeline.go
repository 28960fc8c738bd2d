package bundle

import (
	"hash"
	"io"

	"github.com/opencontainers/go-digest"
)

// backgroundHash computes a digest of what is written to it on a goroutine
// of its own, so that the digest of a whole archive, or of a layer's
// uncompressed content, runs on another core beside the work on the same
// bytes. Write copies into 1 MiB
// chunks (four in flight at most); Digest waits for the last one. finish
// stops the goroutine; it is safe to call more than once.
type backgroundHash struct {
	alg    digest.Algorithm
	h      hash.Hash
	buf    []byte
	full   chan []byte
	free   chan []byte
	done   chan struct{}
	closed bool
}

// The goroutines of backgroundHash and readAhead take 1 MiB chunks, 4 in flight.
const pipeChunk, pipeChunks = 1 << 20, 4

// newBackgroundHash starts a hash with alg, which must be available.
func newBackgroundHash(alg digest.Algorithm) *backgroundHash {
	b := &backgroundHash{alg: alg, h: alg.Hash(), full: make(chan []byte, pipeChunks), free: make(chan []byte, pipeChunks), done: make(chan struct{})}
	for range pipeChunks {
		b.free <- make([]byte, 0, pipeChunk)
	}
	b.buf = <-b.free
	go func() {
		defer close(b.done)
		for c := range b.full {
			b.h.Write(c)
			b.free <- c[:0]
		}
	}()
	return b
}

func (b *backgroundHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := copy(b.buf[len(b.buf):cap(b.buf)], p)
		b.buf, p = b.buf[:len(b.buf)+k], p[k:]
		if len(b.buf) == cap(b.buf) {
			b.full <- b.buf
			b.buf = <-b.free
		}
	}
	return n, nil
}

func (b *backgroundHash) finish() {
	if b.closed {
		return
	}
	b.closed = true
	if len(b.buf) > 0 {
		b.full <- b.buf
	}
	close(b.full)
	<-b.done
}

// Digest is the digest of everything written; nothing may be written after.
func (b *backgroundHash) Digest() digest.Digest {
	b.finish()
	return digest.NewDigest(b.alg, b.h)
}

// readAhead reads r on a goroutine of its own, up to pipeChunks chunks of
// pipeChunk bytes ahead of its reader, so that producing a stream (reading a
// blob, hashing, decompressing) and consuming it (writing files) run on two
// cores. The error that ends r comes after the bytes read before it. Close
// stops the goroutine and waits for it: r is not read after Close returns.
type readAhead struct {
	full    chan aheadChunk
	free    chan []byte
	stop    chan struct{}
	done    chan struct{}
	buf     []byte // the chunk being read
	cur     []byte // its unread part
	err     error
	stopped bool
}

type aheadChunk struct {
	b   []byte
	err error
}

func newReadAhead(r io.Reader) *readAhead {
	ra := &readAhead{full: make(chan aheadChunk, pipeChunks), free: make(chan []byte, pipeChunks), stop: make(chan struct{}), done: make(chan struct{})}
	for range pipeChunks {
		ra.free <- make([]byte, pipeChunk)
	}
	go ra.fill(r)
	return ra
}

func (ra *readAhead) fill(r io.Reader) {
	defer close(ra.done)
	for {
		var b []byte
		select {
		case b = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := 0, error(nil)
		for n < len(b) && err == nil {
			var k int
			k, err = r.Read(b[n:])
			n += k
		}
		select {
		case ra.full <- aheadChunk{b[:n], err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.buf != nil {
			ra.free <- ra.buf[:cap(ra.buf)]
		}
		c := <-ra.full
		ra.buf, ra.cur, ra.err = c.b, c.b, c.err
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops reading ahead and waits for the goroutine to end.
func (ra *readAhead) Close() {
	if !ra.stopped {
		ra.stopped = true
		close(ra.stop)
	}
	<-ra.done
}
