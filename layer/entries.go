package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
)

// The tar entries are parsed on a goroutine of their own, ahead of the one
// that judges and applies them (readLayer), in batches (one channel
// operation per batch, not per entry): a small regular file comes with its
// content read into the batch's arena; any other entry ends its batch and
// comes with the tar reader itself, and the parser waits until it is
// applied before it reads on. At most aheadBatches batches are read ahead.
const (
	aheadBatches = 4
	aheadEntries = 64        // entries per batch at most
	aheadArena   = 256 << 10 // bytes: a batch's arena
	aheadSmall   = 64 << 10  // bytes: the largest content read ahead
)

// aheadEntry is one parsed entry, or the error that ended the stream.
type aheadEntry struct {
	hdr  *tar.Header
	body []byte // the content read ahead, in the batch's arena
	// bodyErr is the error met reading the content ahead (after body).
	bodyErr error
	// handoff: the entry's content is read from the tar reader, which is
	// the consumer's until it sends on resume.
	handoff bool
	err     error // a *ReadError, or the context's error
}

// aheadBatch is entries parsed in a row, their contents in arena.
type aheadBatch struct {
	entries []aheadEntry
	arena   []byte
}

// entryParser parses a tar stream ahead of its consumer.
type entryParser struct {
	tr      *tar.Reader
	batches chan *aheadBatch // closed at the end-of-archive marker
	free    chan *aheadBatch
	resume  chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newEntryParser(ctx context.Context, r io.Reader) *entryParser {
	p := &entryParser{tr: tar.NewReader(r), batches: make(chan *aheadBatch, aheadBatches),
		free: make(chan *aheadBatch, aheadBatches), resume: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range aheadBatches {
		p.free <- &aheadBatch{}
	}
	go p.parse(ctx)
	return p
}

// next returns an empty batch; nil when the consumer stopped.
func (p *entryParser) next() *aheadBatch {
	select {
	case b := <-p.free:
		b.entries, b.arena = b.entries[:0], b.arena[:0]
		return b
	case <-p.stop:
		return nil
	}
}

// send hands b to the consumer; false when it stopped.
func (p *entryParser) send(b *aheadBatch) bool {
	select {
	case p.batches <- b:
		return true
	case <-p.stop:
		return false
	}
}

func (p *entryParser) parse(ctx context.Context) {
	defer close(p.done)
	b := p.next()
	for b != nil {
		if err := context.Cause(ctx); err != nil {
			b.entries = append(b.entries, aheadEntry{err: err})
			p.send(b)
			return
		}
		hdr, err := p.tr.Next()
		if errors.Is(err, io.EOF) {
			if len(b.entries) == 0 || p.send(b) {
				close(p.batches)
			}
			return
		}
		if err != nil {
			b.entries = append(b.entries, aheadEntry{err: &ReadError{Err: err}})
			p.send(b)
			return
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size > aheadSmall {
			b.entries = append(b.entries, aheadEntry{hdr: hdr, handoff: true})
			if !p.send(b) {
				return
			}
			select { // the consumer reads tr until it is done with the entry
			case <-p.resume:
			case <-p.stop:
				return
			}
			b = p.next()
			continue
		}
		if int64(cap(b.arena)-len(b.arena)) < hdr.Size {
			if len(b.entries) > 0 {
				if !p.send(b) {
					return
				}
				if b = p.next(); b == nil {
					return
				}
			}
			if cap(b.arena) < aheadArena {
				b.arena = make([]byte, 0, aheadArena)
			}
		}
		b.entries = append(b.entries, p.body(hdr, b))
		if len(b.entries) == aheadEntries {
			if !p.send(b) {
				return
			}
			b = p.next()
		}
		// After an error reading a content, tr.Next returns it again: a
		// consumer that did not read the content meets it there, as it
		// would reading tr itself.
	}
}

// body reads the content of hdr (at most aheadSmall bytes) into b's arena
// as the consumer would read tr: the same bytes, the same error (io.EOF
// before hdr.Size bytes is the consumer's to report).
func (p *entryParser) body(hdr *tar.Header, b *aheadBatch) aheadEntry {
	start := len(b.arena)
	buf := b.arena[start : start+int(hdr.Size)]
	n, err := 0, error(nil)
	for n < len(buf) && err == nil {
		var k int
		k, err = p.tr.Read(buf[n:])
		n += k
	}
	b.arena = b.arena[:start+n]
	return aheadEntry{hdr: hdr, body: b.arena[start : start+n : start+n], bodyErr: err}
}

// close stops the parser and waits until it is done with the stream.
func (p *entryParser) close() {
	close(p.stop)
	<-p.done
}

// aheadBody reads the content read ahead, then its error.
type aheadBody struct {
	r   bytes.Reader
	err error
}

func (b *aheadBody) Read(q []byte) (int, error) {
	n, err := b.r.Read(q)
	if errors.Is(err, io.EOF) && b.err != nil {
		err = b.err
	}
	return n, err
}
