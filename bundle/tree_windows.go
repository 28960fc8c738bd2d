package bundle

import (
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
