package layer

import (
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setMtime sets the access and modification times of the open file f to
// t, on its descriptor (futimens: utimensat with no path), so the name is
// not looked up again. It reports true: done.
func setMtime(f *os.File, t time.Time) (bool, error) {
	ts := [2]unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	rc, err := f.SyscallConn()
	if err != nil {
		return true, err
	}
	var errno unix.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall6(unix.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	}); err != nil {
		return true, err
	}
	if errno != 0 {
		return true, &os.PathError{Op: "futimens", Path: f.Name(), Err: errno}
	}
	return true, nil
}
