package bundle

import (
	"io"
	"os"
	"path/filepath"
)

// lstatAt lstats name in the directory dir.
func lstatAt(dir *os.File, name string) (fileStat, error) {
	fi, err := os.Lstat(filepath.Join(dir.Name(), name))
	if err != nil {
		return fileStat{}, err
	}
	return statOf(fi), nil
}

// openInDir opens the regular file e for reading (openForPack; dir is its
// parent directory).
func openInDir(_ *os.File, e entry) (io.ReadCloser, error) { return openForPack(e) }
