package layer

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// holeBlock is the unit of a hole: a block of the file, at an offset that
// is a multiple of it, all zeros, is skipped rather than written. 4 KiB is
// the block size of ext4, XFS, APFS and NTFS by default; a smaller hole
// would take disk space anyway.
const holeBlock = 4 << 10

// copyBufSize is the buffer a file's content is copied through: a
// multiple of holeBlock, so that every full read ends on a block boundary.
const copyBufSize = 32 * holeBlock

var zeroBlock [holeBlock]byte

// writeSparse copies r into f, which is empty and open for writing, and
// returns the bytes copied. Where the file system can keep holes
// (sparseHoles: not on Windows, where a skipped block would be written as
// zeros anyway), every aligned holeBlock of zeros is skipped instead of
// written, and a hole at the end is made by truncating f to its length, so
// that long runs of zeros take no disk space (as cp --sparse=auto). The
// content read back is the same either way. buf is the applier's copy
// buffer, of copyBufSize bytes. Errors are r's (a *ReadError from
// readErrors) or f's.
func writeSparse(f *os.File, r io.Reader, buf []byte) (int64, error) {
	var off int64 // bytes of r consumed, holes included
	var end int64 // the end of the last bytes written
	for {
		n, rerr := io.ReadFull(r, buf)
		if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			return off, rerr
		}
		data := buf[:n]
		for len(data) > 0 {
			// data[:k]: a run of bytes to write, ending before the next
			// whole zero block (or the end of what was read).
			k := 0
			for sparseHoles && k+holeBlock <= len(data) && bytes.Equal(data[:holeBlock], zeroBlock[:]) {
				data, off = data[holeBlock:], off+holeBlock
			}
			for k < len(data) && !(sparseHoles && k+holeBlock <= len(data) && bytes.Equal(data[k:k+holeBlock], zeroBlock[:])) {
				k = min(k+holeBlock, len(data))
			}
			if k > 0 {
				if _, err := f.WriteAt(data[:k], off); err != nil {
					return off, err
				}
				data, off, end = data[k:], off+int64(k), off+int64(k)
			}
		}
		if rerr != nil {
			break
		}
	}
	if end < off { // a hole at the end: give the file its length
		if err := f.Truncate(off); err != nil {
			return off, err
		}
	}
	return off, nil
}
