package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocibundle/ocibundle/internal/layertest"
)

// judgeAll runs a judge over every entry of data and says whether it
// accepts the layer (and whether data reads as a tar at all).
func judgeAll(data []byte, opts Options) (accepted, readable bool) {
	j := NewJudge(opts, nil)
	tr := tar.NewReader(bytes.NewReader(data))
	accepted = true
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, false
		}
		if _, err := j.Entry(h); err != nil {
			accepted = false
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return false, false
		}
	}
	accepted = accepted && len(j.Finish()) == 0
	if opts.Image && accepted {
		// The judge alone passes a hard link to a name the layer lacks on
		// to the layers below (a lower layer's file); applied on an empty
		// tree there are none, as CheckImage of this one layer says
		// (verify --deep of a layout does the same).
		accepted = len(CheckImage([]*Summary{j.Summary()}, opts)) == 0
	}
	return accepted, true
}

// FuzzApply applies arbitrary bytes as one layer (an image layer or an
// artifact layer titled "x") and checks that the judge and the applier
// agree (the judge accepts the layer exactly when the applier applies it,
// refusing only with ErrUnsafe), and that nothing outside the root changed.
// The seed corpus is random layers of every kind of entry.
func FuzzApply(f *testing.F) {
	r := rand.New(rand.NewPCG(11, 1))
	for i := range 64 {
		data, err := layertest.Tar(layertest.Random(r, i%2 == 0, nil))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, image bool) {
		parent := t.TempDir()
		sibling := filepath.Join(parent, "outside")
		if err := os.MkdirAll(sibling, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sibling, "f"), []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		staging := filepath.Join(parent, "staging")
		if err := os.Mkdir(staging, 0o700); err != nil {
			t.Fatal(err)
		}
		root, err := os.OpenRoot(staging)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		scope := "x"
		if image {
			scope = ""
		}
		a := NewApplier(root, ApplyOptions{Image: image, Umask: 0o022})
		defer a.Close()
		applied := a.Apply(context.Background(), bytes.NewReader(data), scope, -1)
		accepted, readable := judgeAll(data, Options{Image: image, Scope: scope, MaxSize: -1, Summarize: image})
		var re *ReadError
		switch {
		case !readable || errors.As(applied, &re):
		case accepted != (applied == nil):
			t.Fatalf("judge accepts the layer: %v; Apply() = %v", accepted, applied)
		case applied != nil && !errors.Is(applied, ErrUnsafe):
			t.Fatalf("Apply() = %v, want ErrUnsafe", applied)
		}
		entries, _ := os.ReadDir(parent)
		sib, _ := os.ReadDir(sibling)
		kept, _ := os.ReadFile(filepath.Join(sibling, "f"))
		if len(entries) != 2 || len(sib) != 1 || string(kept) != "keep" {
			t.Fatalf("outside the root changed: %v, %v, %q", entries, sib, kept)
		}
	})
}
