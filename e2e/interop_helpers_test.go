//go:build linux

package e2e

// Helpers of the interop tests (interop_test.go): the input tree, packing it,
// running a peer, comparing bytes and trees. Every top-level name starts
// with "interop".

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// interopTag is the tag every interop bundle is packed under.
const interopTag = "v1"

// interopLongName is a file name longer than the 100 bytes of a USTAR name
// field, so that pack has to write a PAX header for it.
var interopLongName = strings.Repeat("long-name-", 12) + "end.txt"

// interopTree builds the input tree under root and returns the two PATH
// arguments: a directory "dist" holding regular files (one of them
// executable, one empty, one 0600, one of 300 KiB of random bytes, one with a
// unicode name, one with a name that needs PAX), nested directories, an empty
// directory, a relative symlink and a hard link; and a single file "one.txt".
func interopTree(t *testing.T, root string) (dir, file string) {
	t.Helper()
	dir = filepath.Join(root, "dist")
	file = filepath.Join(root, "one.txt")
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 300<<10)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	files := []struct {
		name string
		data []byte
		mode fs.FileMode
	}{
		{"dist/a.txt", []byte("hello\n"), 0o644},
		{"dist/bin/run.sh", []byte("#!/bin/sh\necho hi\n"), 0o755},
		{"dist/empty.txt", nil, 0o644},
		{"dist/secret.key", []byte("s3cret\n"), 0o600},
		{"dist/data/big.bin", big, 0o644},
		{"dist/data/ünïcødé-ファイル.txt", []byte("ünï\n"), 0o644},
		{"dist/sub/deeper/note.md", []byte("# note\n"), 0o644},
		{"dist/sub/" + interopLongName, []byte("long\n"), 0o644},
		{"one.txt", []byte("single file\n"), 0o644},
	}
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil { // umask-proof
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../a.txt", filepath.Join(dir, "sub", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "a.txt"), filepath.Join(dir, "sub", "hard.txt")); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// interopBundle is one bundle packed by the real binary.
type interopBundle struct {
	layout   string        // the layout directory
	digest   digest.Digest // what pack printed
	raw      []byte        // the manifest blob's bytes
	manifest ocispec.Manifest
	sources  map[string]string // layer title → the PATH argument it was packed from
}

// interopPack packs paths into a new layout under t.TempDir() with the given
// compression and tag interopTag.
func interopPack(t *testing.T, compression string, paths ...string) interopBundle {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	args := append([]string{"pack", "-q", "-o", dir, "-t", interopTag, "-c", compression}, paths...)
	out := mustRun(t, "", []string{"SOURCE_DATE_EPOCH="}, args...)
	b := interopBundle{layout: dir, digest: digest.Digest(strings.TrimSpace(out)), sources: map[string]string{}}
	if err := b.digest.Validate(); err != nil {
		t.Fatalf("pack printed %q, want a digest: %v", out, err)
	}
	b.raw = interopBlob(t, dir, b.digest)
	if err := json.Unmarshal(b.raw, &b.manifest); err != nil {
		t.Fatalf("manifest %s: %v", b.digest, err)
	}
	if got, want := len(b.manifest.Layers), len(paths); got != want {
		t.Fatalf("len(manifest.layers) = %d, want %d", got, want)
	}
	for i, p := range paths {
		b.sources[b.manifest.Layers[i].Annotations[ocispec.AnnotationTitle]] = p
	}
	return b
}

// interopBlob reads blobs/<alg>/<hex> of the layout directly from disk.
func interopBlob(t *testing.T, layoutDir string, d digest.Digest) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(layoutDir, "blobs", d.Algorithm().String(), d.Encoded()))
	if err != nil {
		t.Fatalf("read blob: %v", err)
	}
	return data
}

// interopPeer runs a peer tool and fails the test unless it exits 0.
func interopPeer(t *testing.T, name string, args ...string) result {
	t.Helper()
	r := runCmd(t, "", nil, requireTool(t, name), args...)
	if r.code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// interopSameBytes fails the test unless got equals want.
func interopSameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %d bytes (sha256:%x), want the %d bytes (sha256:%x)",
			what, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

// interopNode summarises one entry of a file tree.
type interopNode struct {
	kind string      // "dir", "file" or "symlink"
	perm fs.FileMode // permission bits of regular files
	sum  [32]byte    // sha256 of a regular file's content
	link string      // symlink target
}

// interopSnapshot maps every entry below root (root itself as ".") to its
// summary, without following symlinks.
func interopSnapshot(t *testing.T, root string) map[string]interopNode {
	t.Helper()
	m := map[string]interopNode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var n interopNode
		switch mode := info.Mode(); {
		case mode.IsDir():
			n.kind = "dir"
		case mode.IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.kind, n.perm, n.sum = "file", mode.Perm(), sha256.Sum256(data)
		case mode&fs.ModeSymlink != 0:
			if n.link, err = os.Readlink(p); err != nil {
				return err
			}
			n.kind = "symlink"
		default:
			n.kind = mode.Type().String()
		}
		m[filepath.ToSlash(rel)] = n
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", root, err)
	}
	return m
}

// interopCompareTrees reports every difference between the tree at got and
// the tree at want: missing and extra entries, kinds, the content and
// permission bits of regular files, symlink targets.
func interopCompareTrees(t *testing.T, got, want string) {
	t.Helper()
	g, w := interopSnapshot(t, got), interopSnapshot(t, want)
	for name, wn := range w {
		gn, ok := g[name]
		switch {
		case !ok:
			t.Errorf("%s: missing from %s", name, got)
		case gn.kind != wn.kind:
			t.Errorf("%s: kind = %s, want %s", name, gn.kind, wn.kind)
		case gn.kind == "file" && gn.sum != wn.sum:
			t.Errorf("%s: content sha256 = %x, want %x", name, gn.sum, wn.sum)
		case gn.kind == "file" && gn.perm != wn.perm:
			t.Errorf("%s: mode = %v, want %v", name, gn.perm, wn.perm)
		case gn.kind == "symlink" && gn.link != wn.link:
			t.Errorf("%s: symlink target = %q, want %q", name, gn.link, wn.link)
		}
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			t.Errorf("%s: extra entry in %s", name, got)
		}
	}
}

// interopWantEntries is the tar entry list pack must write for the PATH arg:
// a walk in lexical order, names relative to arg's parent, directories with
// a trailing slash.
func interopWantEntries(t *testing.T, arg string) (names []string, modes map[string]fs.FileMode, files int) {
	t.Helper()
	modes = map[string]fs.FileMode{}
	parent := filepath.Dir(arg)
	err := filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(parent, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if d.IsDir() {
			name += "/"
		}
		if info.Mode().IsRegular() {
			files++
		}
		names = append(names, name)
		modes[name] = info.Mode()
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", arg, err)
	}
	return names, modes, files
}
