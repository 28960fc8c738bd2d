package countio_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/ocibundle/ocibundle/countio"
)

// sum is a progress.Progress that adds up what it is told.
type sum struct{ n atomic.Int64 }

func (*sum) Start(string, int64) {}
func (s *sum) Add(n int64)       { s.n.Add(n) }
func (*sum) Finish()             {}

func TestReader(t *testing.T) {
	data := bytes.Repeat([]byte("layer bytes "), 10000)
	var p sum
	h := sha256.New()
	r := countio.NewReader(iotest.HalfReader(bytes.NewReader(data)), countio.WithProgress(&p), countio.WithTee(h))
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ReadAll() = %d bytes, %v, want %d bytes", len(got), err, len(data))
	}
	if r.N() != int64(len(data)) || p.n.Load() != int64(len(data)) {
		t.Errorf("N() = %d, progress %d, want %d", r.N(), p.n.Load(), len(data))
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("tee hashed other bytes than were read")
	}
	if r.Err() != nil {
		t.Errorf("Err() = %v at a clean end, want nil", r.Err())
	}
}

func TestReaderErr(t *testing.T) {
	boom := errors.New("boom")
	r := countio.NewReader(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)))
	got, err := io.ReadAll(r)
	if string(got) != "abc" || !errors.Is(err, boom) || !errors.Is(r.Err(), boom) || r.N() != 3 {
		t.Errorf("ReadAll() = %q, %v; Err() = %v, N() = %d; want abc, boom, boom, 3", got, err, r.Err(), r.N())
	}
}

func TestReaderContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := countio.NewReader(bytes.NewReader(make([]byte, 1<<20)), countio.WithContext(ctx))
	buf := make([]byte, 1024)
	if _, err := r.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if n, err := r.Read(buf); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Read() after cancel = %d, %v, want 0, context.Canceled", n, err)
	}
	if !errors.Is(r.Err(), context.Canceled) || r.N() != 1024 {
		t.Errorf("Err() = %v, N() = %d, want context.Canceled, 1024", r.Err(), r.N())
	}
}

func TestReaderLimit(t *testing.T) {
	over := errors.New("more than announced")
	for _, tc := range []struct {
		size, limit int64
		want        error
	}{
		{100, 100, nil}, {99, 100, nil}, {101, 100, over}, {1 << 20, 10, over}, {0, 0, nil}, {1, 0, over}, {5, -1, nil},
	} {
		h := sha256.New()
		r := countio.NewReader(bytes.NewReader(make([]byte, tc.size)), countio.WithLimit(tc.limit, over), countio.WithTee(h))
		_, err := io.Copy(io.Discard, r)
		if !errors.Is(err, tc.want) {
			t.Errorf("size %d, limit %d: Copy() = %v, want %v", tc.size, tc.limit, err, tc.want)
		}
		if tc.limit >= 0 && r.N() > tc.limit+1 {
			t.Errorf("size %d, limit %d: read %d bytes, want at most one past the limit", tc.size, tc.limit, r.N())
		}
	}
}

func TestWriter(t *testing.T) {
	var p sum
	var out bytes.Buffer
	w := countio.NewWriter(&out, countio.WithProgress(&p))
	if _, ok := any(w).(io.ReaderFrom); ok {
		t.Fatal("Writer implements io.ReaderFrom: io.CopyBuffer would not use its buffer")
	}
	n, err := io.CopyBuffer(w, iotest.OneByteReader(bytes.NewReader([]byte("hello, world"))), make([]byte, 4))
	if n != 12 || err != nil || out.String() != "hello, world" || w.N() != 12 || p.n.Load() != 12 {
		t.Errorf("CopyBuffer() = %d, %v; wrote %q, N() = %d, progress %d; want 12 everywhere", n, err, out.String(), w.N(), p.n.Load())
	}
	discard := countio.NewWriter(nil)
	if _, err := discard.Write(make([]byte, 77)); err != nil || discard.N() != 77 {
		t.Errorf("NewWriter(nil).Write(77 bytes) = %v, N() = %d, want nil, 77", err, discard.N())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cw := countio.NewWriter(&out, countio.WithContext(ctx))
	if n, err := cw.Write([]byte("late")); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Write() after cancel = %d, %v, want 0, context.Canceled", n, err)
	}
}
