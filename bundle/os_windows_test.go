package bundle

import (
	"errors"
	"io/fs"
	"testing"
	"time"
)

// The tests that need FIFOs, symlink mtimes, a umask, inodes, owners or a
// lock probe are not ported to Windows (tests run on Linux only; see the
// README): these stand-ins make them fail there, never pass.

var errNotPorted = errors.New("test facility not ported to Windows")

func lchtimes(string, time.Time) error       { return errNotPorted }
func umask(int) int                          { panic(errNotPorted) }
func inode(fs.FileInfo) uint64               { panic(errNotPorted) }
func owner(fs.FileInfo) (uid, gid uint32)    { panic(errNotPorted) }
func probeBlobLock(*testing.T, string) error { return errNotPorted }
