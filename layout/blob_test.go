package layout

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestFetchHashed: FetchHashed opens a blob as Fetch does (missing, wrong
// size, a symlink are refused alike) but does not hash it: it is for a
// blob the caller has just hashed, so a file changed since, at the same
// size, is read as it is. Its reader is a *HashedBlob (the file's
// syscall.Conn, for sendfile, and its offset).
func TestFetchHashed(t *testing.T) {
	s := newStore(t)
	data := []byte("content")
	desc := descOf(data)
	if err := s.Put(ctx, desc, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	read := func() ([]byte, error) {
		rc, err := s.FetchHashed(ctx, desc)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	if got, err := read(); err != nil || !bytes.Equal(got, data) {
		t.Errorf("FetchHashed() read %q, %v; want %q", got, err, data)
	}
	// A *HashedBlob: the file for sendfile, its offset the bytes read.
	rc, err := s.FetchHashed(ctx, desc)
	if err != nil {
		t.Fatal(err)
	}
	hb, ok := rc.(*HashedBlob)
	if !ok {
		t.Fatalf("FetchHashed() = %T, want *HashedBlob", rc)
	}
	if _, err := hb.SyscallConn(); err != nil {
		t.Errorf("SyscallConn() = %v", err)
	}
	io.ReadAll(hb)
	if off, err := hb.Offset(); off != desc.Size || err != nil {
		t.Errorf("Offset() after reading it all = %d, %v; want %d", off, err, desc.Size)
	}
	hb.Close()
	if _, err := s.FetchHashed(ctx, descOf([]byte("absent"))); !errors.Is(err, ErrBlobNotFound) {
		t.Errorf("FetchHashed(absent) = %v, want ErrBlobNotFound", err)
	}
	wrongSize := desc
	wrongSize.Size--
	if _, err := s.FetchHashed(ctx, wrongSize); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("FetchHashed(wrong size) = %v, want ErrSizeMismatch", err)
	}

	path := filepath.Join(s.Root(), "blobs", "sha256", desc.Digest.Encoded())
	os.Chmod(path, 0o644)
	os.WriteFile(path, []byte("CONTENT"), 0o644) // same size, other bytes
	if got, err := read(); err != nil || string(got) != "CONTENT" {
		t.Errorf("FetchHashed(changed since hashed) read %q, %v; want the bytes as they are", got, err)
	}
	os.Remove(path)
	other := filepath.Join(t.TempDir(), "target")
	os.WriteFile(other, data, 0o644)
	os.Symlink(other, path)
	if _, err := s.FetchHashed(ctx, desc); !errors.Is(err, ErrNotRegular) {
		t.Errorf("FetchHashed(symlink) = %v, want ErrNotRegular", err)
	}
}
