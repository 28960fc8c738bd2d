package layer

import (
	"io/fs"
	"testing"
)

func TestKindOf(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		0o644:                             "regular file",
		fs.ModeDir | 0o755:                "directory",
		fs.ModeSymlink | 0o777:            "symlink",
		fs.ModeNamedPipe | 0o644:          "FIFO",
		fs.ModeSocket | 0o755:             "socket",
		fs.ModeDevice | fs.ModeCharDevice: "character device",
		fs.ModeDevice | 0o600:             "device",
		fs.ModeIrregular:                  "special file",
	} {
		if got := KindOf(m); got != want {
			t.Errorf("KindOf(%v) = %q, want %q", m, got, want)
		}
	}
}
