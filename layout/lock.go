package layout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Locks. A layout has two advisory flocks (see gc.go for why): the index
// lock on the layout directory and the blob lock on the oci-layout file.
// Both are taken the same way, by acquire: a non-blocking attempt (tryLock,
// one per OS: flock with LOCK_NB on Unix, LockFileEx with
// LOCKFILE_FAIL_IMMEDIATELY on Windows) retried until it succeeds or the
// context is done, so that a command waiting for another one (a long gc, a
// pack) still stops at once on SIGINT. Where the index lock lives is
// openIndexLock's business (the directory on Unix, a file on Windows).

// LockWaitNotice is how long a lock is waited for before the function set
// with WithLockWait is called.
const LockWaitNotice = time.Second

// lockPoll bounds the time between two attempts at a busy lock, and so the
// delay between the lock being freed (or ctx being done) and its waiter
// noticing.
const lockPoll = 20 * time.Millisecond

// indexLockFile is the file, in ingest/, that the index lock is taken on
// under Windows (LockFileEx needs a file; a directory handle is not one). It
// is created on first use and left in place, empty; Collector.Ingest does
// not list it, so gc never removes a lock someone holds.
const indexLockFile = "index.lock"

type lockWaitKey struct{}

// WithLockWait returns a context that makes every lock acquisition of a
// layout under it call fn(root) once, when it has waited LockWaitNotice for
// another process to release the lock (so main can say why nothing happens;
// this package never prints). fn must be safe for concurrent use.
func WithLockWait(ctx context.Context, fn func(root string)) context.Context {
	return context.WithValue(ctx, lockWaitKey{}, fn)
}

// lockKind is how a lock is held: shared (many holders) or exclusive.
type lockKind int

const (
	lockShared lockKind = iota
	lockExclusive
)

// acquire takes a lock of kind how on f, which names the lock of the layout
// at root. It waits while another process holds the lock in a conflicting
// kind, and gives up with ctx's error when ctx is done first; f is left open
// either way. On success it returns the function that releases the lock and
// closes f.
func acquire(ctx context.Context, f *os.File, how lockKind, root string) (func(), error) {
	start := time.Now()
	notified := false
	for {
		busy, err := tryLock(f, how)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", root, err)
		}
		if !busy {
			return func() { unlockFile(f); f.Close() }, nil
		}
		if !notified && time.Since(start) >= LockWaitNotice {
			notified = true
			if fn, ok := ctx.Value(lockWaitKey{}).(func(string)); ok {
				fn(root)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w", root, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// lock takes the index lock exclusive (see openIndexLock for where it is).
// It returns the function that releases it, or ctx's error if ctx is done
// before the lock is free.
func (s *Store) lock(ctx context.Context) (func(), error) {
	if s.arc != nil {
		return nil, fmt.Errorf("%s: %w", s.root, ErrReadOnly)
	}
	f, err := openIndexLock(s.root)
	if err != nil {
		return nil, err
	}
	release, err := acquire(ctx, f, lockExclusive, s.root)
	if err != nil {
		f.Close()
	}
	return release, err
}

// flock takes a lock of kind how on the file name (relative to the root)
// and returns the function that releases it, or ctx's error if ctx is done
// before the lock is free.
func (s *Store) flock(ctx context.Context, name string, how lockKind) (func(), error) {
	if s.arc != nil {
		return nil, fmt.Errorf("%s: %w", s.root, ErrReadOnly)
	}
	f, _, err := openRegular(filepath.Join(s.root, name))
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	release, err := acquire(ctx, f, how, s.root)
	if err != nil {
		f.Close()
	}
	return release, err
}
