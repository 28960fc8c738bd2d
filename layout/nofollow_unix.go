//go:build unix

package layout

import (
	"os"
	"syscall"
)

// ReadNoFollow are the os.OpenFile flags that open a file for reading
// without following a symlink in its last component (the open fails with
// ELOOP) and without blocking on a FIFO.
const ReadNoFollow = os.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
