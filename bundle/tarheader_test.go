package bundle

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestAppendHeader holds appendHeader to archive/tar: for every header, its
// bytes are the bytes tar.Writer.WriteHeader writes, whether it formats the
// block itself or hands the header over.
func TestAppendHeader(t *testing.T) {
	mtime := time.Unix(1767225600, 0)
	reg := func(name string, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: mtime}
	}
	tests := map[string]*tar.Header{
		"file":               reg("tree/a.txt", 1234),
		"empty file":         reg("tree/empty", 0),
		"directory":          {Typeflag: tar.TypeDir, Name: "tree/d/", Mode: 0o755, ModTime: mtime},
		"symlink":            {Typeflag: tar.TypeSymlink, Name: "tree/l", Linkname: "a.txt", Mode: 0o777, ModTime: mtime},
		"hard link":          {Typeflag: tar.TypeLink, Name: "tree/h", Linkname: "tree/a.txt", Mode: 0o644, ModTime: mtime},
		"setuid sticky":      {Typeflag: tar.TypeReg, Name: "tree/s", Mode: 0o7755, Size: 1, ModTime: mtime},
		"name of 100":        reg("t/"+strings.Repeat("n", 98), 1),
		"name of 101":        reg("t/"+strings.Repeat("n", 99), 1),
		"name of 300":        reg("t/"+strings.Repeat("n/", 149), 1),
		"long link":          {Typeflag: tar.TypeSymlink, Name: "t/l", Linkname: strings.Repeat("x", 101), ModTime: mtime},
		"non-ASCII name":     reg("tree/é", 3),
		"NUL in name":        reg("tree/a\x00b", 3),
		"size at 8 GiB":      reg("tree/big", 1<<33),
		"size under 8 GiB":   reg("tree/big", 1<<33-1),
		"mtime zero":         {Typeflag: tar.TypeReg, Name: "t/z", Size: 1},
		"mtime 1970":         {Typeflag: tar.TypeReg, Name: "t/z", Size: 1, ModTime: time.Unix(0, 0)},
		"mtime before 1970":  {Typeflag: tar.TypeReg, Name: "t/z", Size: 1, ModTime: time.Unix(-5, 0)},
		"mtime far":          {Typeflag: tar.TypeReg, Name: "t/z", Size: 1, ModTime: time.Unix(1<<33, 0)},
		"mtime nanoseconds":  {Typeflag: tar.TypeReg, Name: "t/z", Size: 1, ModTime: time.Unix(5, 600)},
		"owner":              {Typeflag: tar.TypeReg, Name: "t/o", Size: 1, ModTime: mtime, Uid: 1000, Uname: "u"},
		"PAX record":         {Typeflag: tar.TypeReg, Name: "t/p", Size: 1, ModTime: mtime, PAXRecords: map[string]string{"comment": "x"}},
		"checksum of 8-bit":  {Typeflag: tar.TypeReg, Name: "t/\x7f\x7f\x7f", Mode: 0o777, Size: 0o77777777777, ModTime: time.Unix(0o77777777777, 0)},
		"FIFO (not written)": {Typeflag: tar.TypeFifo, Name: "t/f", ModTime: mtime},
	}
	for name, hdr := range tests {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			tw := tar.NewWriter(&want)
			wantErr := tw.WriteHeader(hdr)
			got, err := appendHeader([]byte("prefix"), hdr, new(bytes.Buffer))
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("appendHeader() error = %v, tar.Writer: %v", err, wantErr)
			}
			if !bytes.Equal(got[len("prefix"):], want.Bytes()) || string(got[:len("prefix")]) != "prefix" {
				t.Errorf("appendHeader() = %q\nwant %q", got, want.Bytes())
			}
		})
	}
}
