//go:build unix

package bundle

import (
	"io/fs"
	"syscall"
)

// fileID returns the identity of the file fi describes (device, inode) and
// its number of hard links; ok is false if fi carries neither.
func fileID(fi fs.FileInfo) (id [2]uint64, links uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return id, 0, false
	}
	return [2]uint64{uint64(st.Dev), uint64(st.Ino)}, uint64(st.Nlink), true
}
