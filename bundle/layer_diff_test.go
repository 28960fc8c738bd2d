package bundle

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocibundle/ocibundle/internal/layertest"
	"github.com/ocibundle/ocibundle/internal/testseed"
	"github.com/ocibundle/ocibundle/verify"
)

// The differential tests of the layer rules: pack, verify --deep and
// extract must agree, over random layers and random trees. Each prints its
// seed; OCIBUNDLE_TEST_SEED=N replays it.

// TestLayerRulesAgree: for random layers, artifact and image, with and
// without --allow-outside-links, verify --deep finds no error exactly when
// extract succeeds, and every refusal of extract is ErrUnsafe.
func TestLayerRulesAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(testseed.Seed(t), 11))
	const rounds = 150
	agreedOK, agreedRefused := 0, 0
	for i := range rounds {
		image, allow := r.IntN(2) == 0, r.IntN(4) == 0
		ref, described := randomLayout(t, r, image, 2)
		rep, err := verify.Verify(ctx, ref, verify.Options{Deep: true, AllowOutsideLinks: allow})
		must(t, err)
		out := filepath.Join(t.TempDir(), "out")
		_, xerr := Extract(ctx, ref, out, ExtractOptions{AllowOutsideLinks: allow})
		if rep.OK() != (xerr == nil) || (xerr != nil && !errors.Is(xerr, ErrUnsafe)) {
			var b strings.Builder
			rep.WriteText(&b)
			t.Fatalf("round %d (image %v, --allow-outside-links %v):\n%s\nverify --deep OK = %v:\n%s\nextract: %v",
				i, image, allow, described, rep.OK(), b.String(), xerr)
		}
		if xerr == nil {
			agreedOK++
		} else {
			agreedRefused++
		}
	}
	t.Logf("%d layouts extracted and verified clean, %d refused by both", agreedOK, agreedRefused)
	// Both outcomes must be exercised, or the test proves nothing.
	if agreedOK < rounds/25 || agreedRefused < rounds/25 {
		t.Errorf("%d layers extracted, %d refused: the generator does not exercise both", agreedOK, agreedRefused)
	}
}

// randomLayout writes a layout of one random image (1 to maxLayers
// layers, each linking to the ones below now and then) or artifact (one
// layer titled x) and returns its reference and the layers described.
func randomLayout(t *testing.T, r *rand.Rand, image bool, maxLayers int) (string, string) {
	t.Helper()
	var layers []testLayer
	var described strings.Builder
	var lower []layertest.Entry
	for l := range 1 + r.IntN(maxLayers) {
		if l > 0 && !image {
			break // one layer per title: an artifact's layers do not meet
		}
		entries := layertest.Random(r, image, lower)
		lower = append(lower, entries...)
		data, err := layertest.Tar(entries)
		must(t, err)
		fmt.Fprintf(&described, "layer %d:\n%s", l, layertest.Describe(entries))
		if image {
			layers = append(layers, imageLayer(data))
		} else {
			layers = append(layers, ociLayer("x", data))
		}
	}
	return writeLayout(t, image, layers), described.String()
}

// randomTree writes a random tree below dir/name: files, directories, hard
// links, and symlinks inside the tree, leaving it, absolute or dangling,
// and now and then a name extract cannot write.
func randomTree(t *testing.T, r *rand.Rand, dir, name string) string {
	t.Helper()
	in := filepath.Join(dir, name)
	must(t, os.MkdirAll(in, 0o755))
	dirs := []string{in}
	var files []string
	modes := []os.FileMode{0o644, 0o755, 0o600}
	targets := []string{"a", "../a", "../../outside", filepath.Join(dir, "abs"), "nope", "sub", ".."}
	for i := range 4 + r.IntN(12) {
		parent := dirs[r.IntN(len(dirs))]
		name := fmt.Sprintf("%c%d", 'a'+r.IntN(3), i)
		if r.IntN(25) == 0 {
			name = `back\slash` + name
		}
		p := filepath.Join(parent, name)
		switch k := r.IntN(10); {
		case k < 4:
			must(t, os.WriteFile(p, []byte(strings.Repeat(name, r.IntN(50))), 0o600))
			must(t, os.Chmod(p, modes[r.IntN(len(modes))]))
			files = append(files, p)
		case k < 6:
			must(t, os.Mkdir(p, 0o755))
			dirs = append(dirs, p)
		case k < 9:
			must(t, os.Symlink(targets[r.IntN(len(targets))], p))
		default:
			if len(files) > 0 {
				must(t, os.Link(files[r.IntN(len(files))], p))
			}
		}
	}
	return in
}

// TestPackRoundTripRandom: for random trees, packed with and without
// --keep-links, pack either refuses (ErrBadInput, the layout untouched) or
// succeeds, and then verify --deep is clean and extract gives the tree
// back exactly.
func TestPackRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(testseed.Seed(t), 12))
	const rounds = 40
	packed, refused := 0, 0
	for i := range rounds {
		dir := t.TempDir()
		// One or two PATHs: a bundle of one or two layers.
		ins := []string{randomTree(t, r, dir, "in")}
		if r.IntN(2) == 0 {
			ins = append(ins, randomTree(t, r, dir, "in2"))
		}
		keep := r.IntN(3) == 0
		lay := filepath.Join(dir, "layout")
		wants := make([]map[string]node, len(ins))
		for k, in := range ins {
			wants[k] = treeOf(t, in)
		}
		_, err := Pack(ctx, lay, ins, PackOptions{Tags: []string{"t"}, KeepLinks: keep})
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("round %d: Pack() = %v, want nil or ErrBadInput", i, err)
			}
			if _, serr := os.Lstat(lay); !errors.Is(serr, os.ErrNotExist) {
				t.Fatalf("round %d: a refused pack (%v) made the layout: %v", i, err, serr)
			}
			refused++
			continue
		}
		packed++
		rep, err := verify.Verify(ctx, lay+":t", verify.Options{Deep: true, AllowOutsideLinks: keep})
		must(t, err)
		if !rep.OK() {
			var b strings.Builder
			rep.WriteText(&b)
			t.Fatalf("round %d (--keep-links %v): verify --deep of what pack wrote:\n%s", i, keep, b.String())
		}
		out := filepath.Join(dir, "out")
		if _, err := Extract(ctx, lay+":t", out, ExtractOptions{AllowOutsideLinks: keep}); err != nil {
			t.Fatalf("round %d (--keep-links %v): Extract() of what pack wrote = %v", i, keep, err)
		}
		for k, in := range ins {
			extractedTree(t, treeOf(t, filepath.Join(out, filepath.Base(in))), wants[k])
		}
		if t.Failed() {
			t.Fatalf("round %d: the round trip is not exact", i)
		}
	}
	if packed < rounds/10 || refused < rounds/20 {
		t.Errorf("%d trees packed, %d refused: the generator does not exercise both", packed, refused)
	}
}
