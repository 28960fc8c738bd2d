//go:build unix

package layout

import (
	"errors"
	"os"
	"syscall"
)

// openIndexLock opens what the index lock is taken on: the layout directory
// itself, so no lock file is left behind.
func openIndexLock(root string) (*os.File, error) { return os.Open(root) }

// tryLock makes one non-blocking attempt at an advisory flock of kind how
// on f; busy reports that another open file holds it in a conflicting kind.
func tryLock(f *os.File, how lockKind) (busy bool, err error) {
	op := syscall.LOCK_SH
	if how == lockExclusive {
		op = syscall.LOCK_EX
	}
	err = syscall.Flock(int(f.Fd()), op|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR) {
		return true, nil
	}
	return false, err
}

// unlockFile does nothing: closing the descriptor releases a flock.
func unlockFile(*os.File) {}
