package testfs

import "errors"

// Mkfifo fails: Windows has no FIFO a path can name.
func Mkfifo(path string) error { return errors.New(path + ": no FIFOs on Windows") }
