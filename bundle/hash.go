package bundle

import (
	"crypto/sha256"
	"hash"

	"github.com/opencontainers/go-digest"
)

// backgroundHash computes the sha256 of what is written to it on a goroutine
// of its own, so that the digest of a whole archive runs on another core
// beside the per-blob hashing of the same bytes. Write copies into 1 MiB
// chunks (four in flight at most); Digest waits for the last one. finish
// stops the goroutine; it is safe to call more than once.
type backgroundHash struct {
	h      hash.Hash
	buf    []byte
	full   chan []byte
	free   chan []byte
	done   chan struct{}
	closed bool
}

const hashChunk, hashChunks = 1 << 20, 4

func newBackgroundHash() *backgroundHash {
	b := &backgroundHash{h: sha256.New(), full: make(chan []byte, hashChunks), free: make(chan []byte, hashChunks), done: make(chan struct{})}
	for range hashChunks {
		b.free <- make([]byte, 0, hashChunk)
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

// Digest is the sha256 of everything written; nothing may be written after.
func (b *backgroundHash) Digest() digest.Digest {
	b.finish()
	return digest.NewDigest(digest.SHA256, b.h)
}
