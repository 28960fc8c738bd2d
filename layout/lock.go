package layout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Locks. A layout has two advisory flocks (see gc.go for why): the index
// lock on the layout directory and the blob lock on the oci-layout file.
// Both are taken the same way, by acquire: a non-blocking flock (LOCK_NB)
// retried until it succeeds or the context is done, so that a command
// waiting for another one (a long gc, a pack) still stops at once on SIGINT.

// LockWaitNotice is how long a lock is waited for before the function set
// with WithLockWait is called.
const LockWaitNotice = time.Second

// lockPoll bounds the time between two attempts at a busy lock, and so the
// delay between the lock being freed (or ctx being done) and its waiter
// noticing.
const lockPoll = 20 * time.Millisecond

type lockWaitKey struct{}

// WithLockWait returns a context that makes every lock acquisition of a
// layout under it call fn(root) once, when it has waited LockWaitNotice for
// another process to release the lock (so main can say why nothing happens;
// this package never prints). fn must be safe for concurrent use.
func WithLockWait(ctx context.Context, fn func(root string)) context.Context {
	return context.WithValue(ctx, lockWaitKey{}, fn)
}

// acquire takes an advisory flock of kind how (syscall.LOCK_SH or LOCK_EX) on
// f, which names the lock of the layout at root. It waits while another
// process holds the lock in a conflicting kind, and gives up with ctx's error
// when ctx is done first; f is left open either way (the caller closes it,
// which releases the lock).
func acquire(ctx context.Context, f *os.File, how int, root string) error {
	start := time.Now()
	notified := false
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return fmt.Errorf("lock %s: %w", root, err)
		}
		if !notified && time.Since(start) >= LockWaitNotice {
			notified = true
			if fn, ok := ctx.Value(lockWaitKey{}).(func(string)); ok {
				fn(root)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lock %s: %w", root, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// lock takes the index lock: an exclusive flock on the layout directory
// itself (no lock file is left behind). It returns the function that
// releases it, or ctx's error if ctx is done before the lock is free.
func (s *Store) lock(ctx context.Context) (func(), error) {
	d, err := os.Open(s.root)
	if err != nil {
		return nil, err
	}
	if err := acquire(ctx, d, syscall.LOCK_EX, s.root); err != nil {
		d.Close()
		return nil, err
	}
	return func() { d.Close() }, nil // closing the descriptor releases the lock
}

// flock takes a flock of kind how (LOCK_SH or LOCK_EX) on the file name
// (relative to the root) and returns the function that releases it, or
// ctx's error if ctx is done before the lock is free.
func (s *Store) flock(ctx context.Context, name string, how int) (func(), error) {
	f, _, err := openRegular(filepath.Join(s.root, name))
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := acquire(ctx, f, how, s.root); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
