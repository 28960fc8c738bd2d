package bundle

import (
	"bytes"
	"io"
	"math/rand"
	"net"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/layout"
)

// TestSentBlob: a hashed blob push sends arrives whole and counted in full
// by progress both ways a connection takes it: copied into a TCP
// connection (sendfile, through SyscallConn: progress follows the file's
// offset) and read (a pipe: progress counts the reads).
func TestSentBlob(t *testing.T) {
	store, err := layout.Create(ctx, filepath.Join(t.TempDir(), "l"))
	must(t, err)
	data := make([]byte, 3<<20+17)
	rand.New(rand.NewSource(16)).Read(data)
	desc, err := store.PutBytes(ctx, "application/octet-stream", data)
	must(t, err)
	open := func(p *countProgress) *sentBlob {
		t.Helper()
		o := &orasStore{store: store, progress: p, hashed: map[digest.Digest]bool{desc.Digest: true}}
		rc, err := o.Fetch(ctx, desc)
		must(t, err)
		sb, ok := rc.(*sentBlob)
		if !ok {
			t.Fatalf("Fetch of a hashed blob = %T, want *sentBlob", rc)
		}
		return sb
	}

	// Into a TCP connection, as net/http sends a request body.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	must(t, err)
	var sent countProgress
	sb := open(&sent)
	n, err := io.Copy(c.(*net.TCPConn), io.LimitReader(sb, desc.Size))
	must(t, err)
	c.Close()
	must(t, sb.Close())
	if b := <-got; n != desc.Size || !bytes.Equal(b, data) {
		t.Errorf("over TCP: %d bytes sent, %d received, equal %v; want %d", n, len(b), bytes.Equal(b, data), desc.Size)
	}
	if sb.stop == nil {
		t.Error("over TCP: the connection did not take the file (SyscallConn not called)")
	}
	if sent.n.Load() != desc.Size {
		t.Errorf("over TCP: progress counted %d bytes, want %d", sent.n.Load(), desc.Size)
	}

	// Read through a pipe.
	var read countProgress
	sb = open(&read)
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, sb)
		pw.CloseWithError(err)
	}()
	b, err := io.ReadAll(pr)
	must(t, err)
	must(t, sb.Close())
	if !bytes.Equal(b, data) || read.n.Load() != desc.Size {
		t.Errorf("read: %d bytes, equal %v, progress %d; want %d", len(b), bytes.Equal(b, data), read.n.Load(), desc.Size)
	}
}
