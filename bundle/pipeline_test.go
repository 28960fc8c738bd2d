package bundle

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/opencontainers/go-digest"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestBackgroundHashMatchesSHA256(t *testing.T) {
	data := randomBytes(3*pipeChunk + 12345)
	for _, step := range []int{1, 1000, pipeChunk, 2*pipeChunk + 1, len(data)} {
		if step == 1 && testing.Short() {
			continue
		}
		h := newBackgroundHash(digest.SHA256)
		for p := data; len(p) > 0; {
			n := min(step, len(p))
			if k, err := h.Write(p[:n]); k != n || err != nil {
				t.Fatalf("step %d: Write = %d, %v", step, k, err)
			}
			p = p[n:]
		}
		if got, want := h.Digest(), digest.FromBytes(data); got != want {
			t.Errorf("writes of %d bytes: digest %s, want %s", step, got, want)
		}
		h.finish() // a second finish does nothing
	}
	if got, want := newBackgroundHash(digest.SHA256).Digest(), digest.FromBytes(nil); got != want {
		t.Errorf("nothing written: digest %s, want %s", got, want)
	}
	h := newBackgroundHash(digest.SHA512)
	h.Write(data)
	if got, want := h.Digest(), digest.SHA512.FromBytes(data); got != want {
		t.Errorf("sha512: digest %s, want %s", got, want)
	}
}

// failAfter yields data, then err instead of io.EOF.
type failAfter struct {
	r   io.Reader
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		err = f.err
	}
	return n, err
}

func TestReadAheadDeliversBytesThenTheError(t *testing.T) {
	data := randomBytes(2*pipeChunk + 777)
	boom := errors.New("boom")
	for name, src := range map[string]io.Reader{
		"clean end":       bytes.NewReader(data),
		"one byte a time": iotest.OneByteReader(bytes.NewReader(data[:pipeChunk+3])),
		"error at end":    &failAfter{bytes.NewReader(data), boom},
		"data with error": iotest.DataErrReader(&failAfter{bytes.NewReader(data), boom}),
		"unexpected EOF":  &failAfter{bytes.NewReader(data[:100]), io.ErrUnexpectedEOF},
	} {
		t.Run(name, func(t *testing.T) {
			ra := newReadAhead(src)
			defer ra.Close()
			got, err := io.ReadAll(iotest.HalfReader(ra))
			want := data
			switch name {
			case "one byte a time":
				want = data[:pipeChunk+3]
			case "unexpected EOF":
				want = data[:100]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes, want the %d before the end", len(got), len(want))
			}
			switch name {
			case "clean end", "one byte a time":
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
			case "unexpected EOF":
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("err = %v, want io.ErrUnexpectedEOF (a cut stream must not look whole)", err)
				}
			default:
				if !errors.Is(err, boom) {
					t.Fatalf("err = %v, want boom", err)
				}
			}
			if n, err := ra.Read(make([]byte, 10)); n != 0 || (err == nil) {
				t.Fatalf("Read after the end = %d, %v; want 0 and the error again", n, err)
			}
		})
	}
}

// countingEndless is an endless stream that counts the reads made of it.
type countingEndless struct{ reads atomic.Int64 }

func (c *countingEndless) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return len(p), nil
}

func TestReadAheadCloseStopsReading(t *testing.T) {
	src := &countingEndless{}
	ra := newReadAhead(src)
	if _, err := io.ReadFull(ra, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	ra.Close()
	n := src.reads.Load()
	time.Sleep(20 * time.Millisecond)
	if after := src.reads.Load(); after != n {
		t.Fatalf("%d reads after Close returned", after-n)
	}
	if n > pipeChunks+1 {
		t.Fatalf("%d chunks read ahead, at most %d allowed", n, pipeChunks+1)
	}
	ra.Close() // a second Close returns too
}
