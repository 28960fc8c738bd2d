//go:build unix

package testfs

import "syscall"

// Mkfifo makes a FIFO (named pipe) at path, mode 0644.
func Mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
