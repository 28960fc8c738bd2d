package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestApplyCutStream: the entries parsed ahead (entryParser) give the same
// errors as reading the tar in order: a stream cut at any block boundary
// (and a byte either side), or failing there, of a layer of small files read ahead, an empty
// one, a large one handed over, a directory and a symlink is the *ReadError
// of archive/tar at that point, naming the entry whose content is cut; the
// whole stream writes every file with its bytes.
func TestApplyCutStream(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), (aheadSmall+4096)/16)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := map[string][]byte{}
	add := func(h *tar.Header, body []byte) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files[h.Name] = body
		}
	}
	add(&tar.Header{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "a/f1", Typeflag: tar.TypeReg, Mode: 0o644}, bytes.Repeat([]byte("x"), 700))
	add(&tar.Header{Name: "a/empty", Typeflag: tar.TypeReg, Mode: 0o644}, nil)
	add(&tar.Header{Name: "a/big", Typeflag: tar.TypeReg, Mode: 0o644}, big)
	add(&tar.Header{Name: "a/l", Typeflag: tar.TypeSymlink, Linkname: "f1"}, nil)
	add(&tar.Header{Name: "a/f2", Typeflag: tar.TypeReg, Mode: 0o644}, bytes.Repeat([]byte("y"), 3000))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// want applies data as before entries were parsed ahead: Next, then
	// the entry, on one goroutine.
	want := func(r io.Reader) error {
		b, _ := newTestApplier(t, ApplyOptions{})
		b.judge = nextJudge(b.judge, b.judgeOptions(""), b.links, -1)
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return &ReadError{Err: err}
			}
			if err := b.entry(hdr, tr); err != nil {
				return err
			}
		}
		for _, r := range b.judge.Finish() {
			return r
		}
		return nil
	}
	cuts := 0
	var a *Applier
	var dir string
	for block := 0; block <= len(data); block += 512 {
		for _, cut := range []int{block - 1, block, block + 1} {
			if cut < 0 || cut > len(data) {
				continue
			}
			cuts++
			// The stream ends there, or its reader fails there (as a
			// decompressor or a size limit does).
			for _, fail := range []error{nil, errCut} {
				stream := func() io.Reader { return io.MultiReader(bytes.NewReader(data[:cut]), failing{fail}) }
				a, dir = newTestApplier(t, ApplyOptions{})
				err := a.Apply(context.Background(), stream(), "", -1)
				werr := want(stream())
				var re *ReadError
				if (err == nil) != (werr == nil) || err != nil && (err.Error() != werr.Error() || !errors.As(err, &re)) {
					t.Fatalf("cut at %d, then %v: Apply() = %v, want %v", cut, fail, err, werr)
				}
			}
			if cut == len(data) {
				for name, body := range files {
					if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, body) {
						t.Errorf("%s: %d bytes (%v), want %d", name, len(got), err, len(body))
					}
				}
			}
		}
	}
	if cuts < 3*len(data)/512 {
		t.Errorf("%d cuts of a %d-byte stream", cuts, len(data))
	}
}

var errCut = errors.New("the stream fails here")

// failing is a reader returning err, io.EOF if nil.
type failing struct{ err error }

func (f failing) Read([]byte) (int, error) {
	if f.err == nil {
		return 0, io.EOF
	}
	return 0, f.err
}
