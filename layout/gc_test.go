package layout

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// collectRuns starts Collect in a goroutine and returns a channel that is
// closed when fn has run.
func collectRuns(t *testing.T, s *Store) <-chan struct{} {
	t.Helper()
	ran := make(chan struct{})
	go func() {
		err := s.Collect(ctx, func(*Collector) error { close(ran); return nil })
		if err != nil {
			t.Errorf("Collect() = %v", err)
		}
	}()
	return ran
}

func TestHoldBlobsExcludesCollect(t *testing.T) {
	s := newStore(t)
	release1, err := s.HoldBlobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Writers share the lock: a second one is not blocked by the first.
	got := make(chan func())
	go func() {
		r, err := s.HoldBlobs(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	var release2 func()
	select {
	case release2 = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("HoldBlobs() blocked while another writer held the blob lock")
	}

	release1()
	// One writer still holds the blob lock: an exclusive lock is refused
	// (a deterministic probe, not a wait), so Collect waits.
	if !probeLock(t, openBlobLock(t, s), lockExclusive) {
		t.Fatal("exclusive probe of the blob lock while a writer holds it succeeded, want busy")
	}
	ran := collectRuns(t, s)
	release2()
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("Collect did not run after every writer released the blob lock")
	}

	// And the other way round: a writer waits for a running collector.
	inside, leave := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Collect(ctx, func(*Collector) error { close(inside); <-leave; return nil })
	}()
	<-inside
	if !probeLock(t, openBlobLock(t, s), lockShared) {
		t.Fatal("shared probe of the blob lock while Collect runs succeeded, want busy")
	}
	// A writer waiting for the collector gives up when its context ends.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if r, err := s.HoldBlobs(short); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			r()
		}
		t.Fatalf("HoldBlobs() while Collect runs = %v, want context.DeadlineExceeded", err)
	}
	close(leave)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r, err := s.HoldBlobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r()
}

// probeLock makes one non-blocking attempt (tryLock) at a lock of kind how
// on f, a new open file of the lock (so it conflicts with every other
// holder, this process included), and closes f, releasing the lock if it
// was taken: it reports whether someone holds the lock in a conflicting kind.
func probeLock(t *testing.T, f *os.File, how lockKind) (busy bool) {
	t.Helper()
	defer f.Close()
	busy, err := tryLock(f, how)
	if err != nil {
		t.Fatal(err)
	}
	if !busy {
		unlockFile(f)
	}
	return busy
}

// openBlobLock opens a new file of the blob lock of s.
func openBlobLock(t *testing.T, s *Store) *os.File {
	t.Helper()
	f, _, err := openRegular(filepath.Join(s.Root(), LayoutFile))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCollectHoldsIndexLock(t *testing.T) {
	s := newStore(t)
	inside, leave := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Collect(ctx, func(*Collector) error { close(inside); <-leave; return nil })
	}()
	<-inside
	lf, lerr := openIndexLock(s.Root())
	if lerr != nil {
		t.Fatal(lerr)
	}
	if !probeLock(t, lf, lockExclusive) {
		t.Fatal("probe of the index lock while Collect runs succeeded, want busy")
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	ran := false
	err := s.UpdateIndex(short, func(*ocispec.Index) error { ran = true; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Fatalf("UpdateIndex() while Collect holds the index lock = %v (ran %v), want context.DeadlineExceeded", err, ran)
	}
	close(leave)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateIndex(ctx, func(*ocispec.Index) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorListAndRemove(t *testing.T) {
	s := newStore(t)
	a, err := s.PutBytes(ctx, "application/octet-stream", []byte("a"))
	must(t, err)
	b, err := s.PutBytes(ctx, "application/octet-stream", []byte("bb"))
	must(t, err)
	root := s.Root()
	// Things in blobs/ that are not blobs: left alone, never listed.
	must(t, os.WriteFile(filepath.Join(root, "blobs/sha256/not-a-digest"), []byte("x"), 0o644))
	must(t, os.Mkdir(filepath.Join(root, "blobs/sha256", digest.FromString("dir").Encoded()), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "blobs/md5"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "blobs/md5/0123456789abcdef0123456789abcdef"), []byte("x"), 0o644))
	// A symlink named like a blob is listed (and removed as a link).
	outside := filepath.Join(t.TempDir(), "target")
	must(t, os.WriteFile(outside, []byte("keep me"), 0o644))
	link := digest.FromString("link")
	must(t, os.Symlink(outside, filepath.Join(root, "blobs/sha256", link.Encoded())))
	must(t, os.WriteFile(filepath.Join(root, "ingest/blob-123"), []byte("partial"), 0o600))

	err = s.Collect(ctx, func(c *Collector) error {
		blobs, err := c.Blobs(ctx)
		if err != nil {
			return err
		}
		var got []digest.Digest
		for _, f := range blobs {
			got = append(got, f.Digest)
			if p, _ := BlobPath(f.Digest); p != f.Path {
				t.Errorf("Blobs(): %s has path %s", f.Digest, f.Path)
			}
		}
		want := sortDigests(a.Digest, b.Digest, link)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Blobs() = %v, want %v", got, want)
		}
		ingest, err := c.Ingest(ctx)
		if err != nil {
			return err
		}
		if len(ingest) != 1 || ingest[0].Path != "ingest/blob-123" || ingest[0].Size != 7 {
			t.Errorf("Ingest() = %+v, want ingest/blob-123 of 7 bytes", ingest)
		}
		for _, f := range append(blobs, ingest...) {
			if f.Digest == b.Digest {
				continue
			}
			if err := c.Remove(f); err != nil {
				t.Errorf("Remove(%s) = %v", f.Path, err)
			}
		}
		// Removing again is not an error.
		if err := c.Remove(ingest[0]); err != nil {
			t.Errorf("Remove(gone) = %v", err)
		}
		for _, bad := range []File{
			{Path: "index.json"},
			{Path: "ingest/../index.json"},
			{Path: "ingest/"},
			{Path: "blobs/sha256/" + b.Digest.Encoded(), Digest: a.Digest},
			{Path: "x", Digest: "sha256:../../etc"},
		} {
			if err := c.Remove(bad); err == nil {
				t.Errorf("Remove(%+v) = nil, want an error", bad)
			}
		}
		return nil
	})
	must(t, err)
	if ok, err := s.Exists(ctx, b); !ok || err != nil {
		t.Errorf("Exists(kept blob) = %v, %v", ok, err)
	}
	if ok, _ := s.Exists(ctx, a); ok {
		t.Error("removed blob still exists")
	}
	if data, err := os.ReadFile(outside); err != nil || string(data) != "keep me" {
		t.Errorf("symlink target after Remove = %q, %v; want it untouched", data, err)
	}
	for _, p := range []string{"blobs/sha256/not-a-digest", "blobs/md5/0123456789abcdef0123456789abcdef", "index.json", "oci-layout"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
			t.Errorf("%s after Remove: %v, want it left alone", p, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "ingest/blob-123")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ingest file after Remove: %v, want it gone", err)
	}
}

func sortDigests(ds ...digest.Digest) []digest.Digest {
	for i := range ds {
		for j := i + 1; j < len(ds); j++ {
			if ds[j] < ds[i] {
				ds[i], ds[j] = ds[j], ds[i]
			}
		}
	}
	return ds
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
