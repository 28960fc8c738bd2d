package layer

import (
	"archive/tar"
	"testing"
)

func TestIsSparse(t *testing.T) {
	tests := []struct {
		name string
		hdr  tar.Header
		want bool
	}{
		{"regular", tar.Header{Typeflag: tar.TypeReg}, false},
		{"old GNU sparse", tar.Header{Typeflag: tar.TypeGNUSparse}, true},
		{"PAX 0.0", tar.Header{Typeflag: tar.TypeReg, PAXRecords: map[string]string{"GNU.sparse.offset": "0", "GNU.sparse.numbytes": "1"}}, true},
		{"PAX 1.0", tar.Header{Typeflag: tar.TypeReg, PAXRecords: map[string]string{"GNU.sparse.major": "1", "GNU.sparse.minor": "0"}}, true},
		{"other PAX records", tar.Header{Typeflag: tar.TypeReg, PAXRecords: map[string]string{"mtime": "1.5", "SCHILY.xattr.user.a": "b"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsSparse(&tt.hdr); got != tt.want {
				t.Errorf("IsSparse(%+v) = %v, want %v", tt.hdr, got, tt.want)
			}
		})
	}
}
