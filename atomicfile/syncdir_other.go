//go:build !windows

package atomicfile

import (
	"fmt"
	"os"
)

// SyncDir makes a directory's entries durable (fsync of the directory), as
// after a rename or a removal in it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
