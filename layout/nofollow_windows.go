package layout

import (
	"os"
	"syscall"
)

// ReadNoFollow are the os.OpenFile flags that open a file for reading
// without following a symlink in its last component. Windows has no
// O_NOFOLLOW: FILE_FLAG_OPEN_REPARSE_POINT opens the link itself instead,
// which the caller's fstat then sees as a symlink, not a regular file, and
// refuses (the same refusal, with a different error than ELOOP).
const ReadNoFollow = os.O_RDONLY | syscall.FILE_FLAG_OPEN_REPARSE_POINT
