//go:build linux

// Fixture helpers of the end-to-end tests: trees stamped with fixed times,
// snapshots of layouts, blob and layer readers. Linux-only because they pin
// symlink mtimes with utimensat(AT_SYMLINK_NOFOLLOW).

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
)

// fixedTime is the mtime the fixture trees are stamped with.
var fixedTime = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)

// noEpoch keeps a SOURCE_DATE_EPOCH of the calling environment out of runs
// whose output must not depend on it (main treats an empty value as unset).
var noEpoch = []string{"SOURCE_DATE_EPOCH="}

// bigSize is the size of the big file in the big fixture: one layer above
// 32 MiB, so that zstd's concurrent block mode engages, and a pack of about
// 0.3 to 1 s for the crash test.
const bigSize = 36 << 20

// ---------------------------------------------------------------------------
// Fixture helpers

// lchtimes sets the atime and mtime of path without following a symlink.
func lchtimes(path string, mtime time.Time) error {
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		return err
	}
	ts := [2]syscall.Timespec{syscall.NsecToTimespec(mtime.UnixNano()), syscall.NsecToTimespec(mtime.UnixNano())}
	// utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW); the syscall
	// package does not export the two constants.
	atFDCWD, atSymlinkNofollow := -0x64, 0x100
	_, _, errno := syscall.Syscall6(syscall.SYS_UTIMENSAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(&ts[0])), uintptr(atSymlinkNofollow), 0, 0)
	if errno != 0 {
		return &fs.PathError{Op: "utimensat", Path: path, Err: errno}
	}
	return nil
}

func setTime(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	if err := lchtimes(path, mtime); err != nil {
		t.Fatal(err)
	}
}

// stamp sets the mtime of root and of everything below it, symlinks
// included, to mtime. Call it after the tree is complete: creating an entry
// changes its directory's mtime.
func stamp(t *testing.T, root string, mtime time.Time) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return lchtimes(p, mtime)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeFile writes data to path (making its parents 0755) with exactly mode,
// whatever the umask.
func writeFile(t *testing.T, path string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

func hardlink(t *testing.T, existing, path string) {
	t.Helper()
	if err := os.Link(existing, path); err != nil {
		t.Fatal(err)
	}
}

var words = strings.Fields(`the a of to and in is it for on with as layout blob digest manifest
index tar zstd gzip release bundle air gap operator security officer reproducible archive verify
export import extract tag annotation descriptor media type config layer sha256 registry mirror
disk usb dvd site transfer proof arrived sent checksum window frame block encoder decoder`)

// pseudoText returns n bytes of text-like data from a PRNG seeded with seed:
// words, newlines and now and then 16 hex digits. It compresses well, but
// not trivially, and is the same on every machine.
func pseudoText(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x6f63696275646c65))
	b := make([]byte, 0, n+24)
	for len(b) < n {
		switch k := r.IntN(16); k {
		case 0:
			b = strconv.AppendUint(b, r.Uint64(), 16)
			b = append(b, ' ')
		case 1:
			b = append(b, '\n')
		default:
			b = append(b, words[r.IntN(len(words))]...)
			b = append(b, ' ')
		}
	}
	return b[:n]
}

// bigTexts caches the big files' data: generating it is slow under -race,
// and several tests use the same.
var bigTexts struct {
	sync.Mutex
	m map[int][]byte
}

// bigText returns pseudoText(1, n), generated once per n.
func bigText(n int) []byte {
	bigTexts.Lock()
	defer bigTexts.Unlock()
	if b, ok := bigTexts.m[n]; ok {
		return b
	}
	if bigTexts.m == nil {
		bigTexts.m = map[int][]byte{}
	}
	b := pseudoText(1, n)
	bigTexts.m[n] = b
	return b
}

// buildTree makes the big fixture under root and returns the PATH arguments
// that pack it: a big directory (one file of bigSize bytes of text-like data,
// 240 small files, a hard link, two symlinks, an empty directory, modes 0755
// and 0600, varied mtimes), a small directory and a single file.
func buildTree(t *testing.T, root string, bigSize int) []string {
	t.Helper()
	big := filepath.Join(root, "big")
	writeFile(t, filepath.Join(big, "data", "big.txt"), bigText(bigSize), 0o644)
	var files []string
	for i := range 240 {
		p := filepath.Join(big, "src", fmt.Sprintf("d%02d", i%12), fmt.Sprintf("f%03d.txt", i))
		writeFile(t, p, pseudoText(uint64(100+i), i*97%20000), 0o644)
		files = append(files, p)
	}
	writeFile(t, filepath.Join(big, "bin", "tool"), []byte("#!/bin/sh\necho tool\n"), 0o755)
	writeFile(t, filepath.Join(big, "etc", "secret"), []byte("s3cret\n"), 0o600)
	mkdir(t, filepath.Join(big, "empty"), 0o755)
	hardlink(t, files[0], filepath.Join(big, "src", "hard.txt"))
	symlink(t, "data/big.txt", filepath.Join(big, "latest"))
	symlink(t, "nowhere", filepath.Join(big, "dangling"))

	small := filepath.Join(root, "small")
	writeFile(t, filepath.Join(small, "a.txt"), []byte("a\n"), 0o644)
	writeFile(t, filepath.Join(small, "b", "c.txt"), pseudoText(7, 5000), 0o644)
	single := filepath.Join(root, "single.txt")
	writeFile(t, single, []byte("single file\n"), 0o640)

	stamp(t, root, fixedTime)
	for i := 0; i < len(files); i += 7 {
		setTime(t, files[i], fixedTime.Add(time.Duration(i)*time.Minute+250*time.Millisecond))
	}
	return []string{big, small, single}
}

// ---------------------------------------------------------------------------
// Layout helpers

// digestOut parses the digest pack prints on stdout.
func digestOut(t *testing.T, stdout string) digest.Digest {
	t.Helper()
	d := digest.Digest(strings.TrimSpace(stdout))
	if err := d.Validate(); err != nil {
		t.Fatalf("pack printed %q, want a digest: %v", stdout, err)
	}
	return d
}

// pack runs `ocibundle pack` with args and returns the digest it printed.
func pack(t *testing.T, env []string, args ...string) digest.Digest {
	t.Helper()
	return digestOut(t, mustRun(t, "", env, append([]string{"pack"}, args...)...))
}

// snapshot maps every entry below dir to a summary: "dir" for directories,
// the sha256 of the content for regular files, the type for anything else.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			m[rel+"/"] = "dir"
		case d.Type().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			h := sha256.New()
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
			m[rel] = hex.EncodeToString(h.Sum(nil))
		default:
			m[rel] = "type " + d.Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// diffSnapshots lists the entries whose summaries differ.
func diffSnapshots(got, want map[string]string) []string {
	var diffs []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: missing (want %s)", k, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: %s, want %s", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected (%s)", k, g))
		}
	}
	slices.Sort(diffs)
	return diffs
}

// tagsOf maps each tag in idx to the digest it names, failing on a tag that
// names more than one entry.
func tagsOf(t *testing.T, idx ocispec.Index) map[string]digest.Digest {
	t.Helper()
	tags := map[string]digest.Digest{}
	for _, m := range idx.Manifests {
		tag, ok := m.Annotations[ocispec.AnnotationRefName]
		if !ok {
			continue
		}
		if prev, dup := tags[tag]; dup {
			t.Errorf("index.json: tag %q names %s and %s, want one entry", tag, prev, m.Digest)
		}
		tags[tag] = m.Digest
	}
	return tags
}

var hexName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkBlobsDir fails on anything in blobs/ that is not a regular file named
// blobs/sha256/<64 hex digits> (a temp file, a partial blob), and on entries
// in the layout root other than oci-layout, index.json, blobs and ingest.
func checkBlobsDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case layout.LayoutFile, layout.IndexFile, layout.BlobsDir, layout.IngestDir:
		default:
			t.Errorf("%s: unexpected entry %q in the layout root", dir, e.Name())
		}
	}
	blobs := filepath.Join(dir, layout.BlobsDir)
	err = filepath.WalkDir(blobs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(blobs, p)
		switch parts := strings.Split(filepath.ToSlash(rel), "/"); {
		case rel == ".":
		case len(parts) == 1 && parts[0] == "sha256" && d.IsDir():
		case len(parts) == 2 && parts[0] == "sha256" && hexName.MatchString(parts[1]) && d.Type().IsRegular():
		default:
			t.Errorf("blobs/%s: unexpected entry (%s) in blobs/", filepath.ToSlash(rel), d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hashAllBlobs checks that every blob in blobs/sha256, referenced or not,
// hashes to its name: a committed blob is never partial.
func hashAllBlobs(t *testing.T, dir string) {
	t.Helper()
	blobDir := filepath.Join(dir, layout.BlobsDir, "sha256")
	entries, err := os.ReadDir(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(blobDir, e.Name()))
		if err != nil {
			t.Error(err)
			continue
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Error(err)
			continue
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != e.Name() {
			t.Errorf("blobs/sha256/%s hashes to %s, want its name", e.Name(), got)
		}
	}
}

// readBlob reads a blob to the end through Store.Fetch, whose reader checks
// the size and digest at EOF.
func readBlob(t *testing.T, s *layout.Store, desc ocispec.Descriptor) []byte {
	t.Helper()
	rc, err := s.Fetch(context.Background(), desc)
	if err != nil {
		t.Errorf("Fetch(%s) = %v, want the blob", desc.Digest, err)
		return nil
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Errorf("reading %s: %v", desc.Digest, err)
		return nil
	}
	return data
}

// checkLayout opens the layout at dir with the layout package and reads
// every blob that index.json references (manifests, configs, layers) to the
// end, verified; it checks blobs/ for strays and returns the index.
func checkLayout(t *testing.T, dir string) (*layout.Store, ocispec.Index) {
	t.Helper()
	ctx := context.Background()
	s, err := layout.Open(dir)
	if err != nil {
		t.Fatalf("layout.Open(%s) = %v", dir, err)
	}
	idx, err := s.ReadIndex(ctx)
	if err != nil {
		t.Fatalf("ReadIndex() = %v", err)
	}
	for _, m := range idx.Manifests {
		if m.MediaType != ocispec.MediaTypeImageManifest {
			t.Errorf("index.json entry %s: mediaType %q, want %q", m.Digest, m.MediaType, ocispec.MediaTypeImageManifest)
			continue
		}
		mf, err := s.ReadManifest(ctx, m)
		if err != nil {
			t.Errorf("ReadManifest(%s) = %v", m.Digest, err)
			continue
		}
		readBlob(t, s, mf.Config)
		for _, l := range mf.Layers {
			readBlob(t, s, l)
		}
	}
	checkBlobsDir(t, dir)
	return s, idx
}

// manifestFor returns the manifest the tag names in the layout at dir.
func manifestFor(t *testing.T, dir, tag string) (*layout.Store, ocispec.Manifest) {
	t.Helper()
	s, idx := checkLayout(t, dir)
	d, ok := tagsOf(t, idx)[tag]
	if !ok {
		t.Fatalf("%s: no tag %q in index.json", dir, tag)
	}
	for _, m := range idx.Manifests {
		if m.Digest == d {
			mf, err := s.ReadManifest(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			return s, mf
		}
	}
	t.Fatalf("%s: tag %q names %s, which has no index.json entry", dir, tag, d)
	return nil, ocispec.Manifest{}
}

// layerEntry is one tar entry of a layer, with its content.
type layerEntry struct {
	hdr  *tar.Header
	data []byte
}

// readLayer decompresses a layer (compress.NewReader) and returns its tar
// entries, checking the content digest and size annotations on the way.
func readLayer(t *testing.T, s *layout.Store, desc ocispec.Descriptor) []layerEntry {
	t.Helper()
	blob := readBlob(t, s, desc)
	codec, err := compress.ForMediaType(desc.MediaType)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := compress.NewReader(bytes.NewReader(blob), codec)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	zr.Close()
	if err != nil {
		t.Fatalf("decompress %s: %v", desc.Digest, err)
	}
	if got, want := digest.FromBytes(raw).String(), desc.Annotations["io.ocibundle.content.digest"]; got != want {
		t.Errorf("layer %s: content digest %s, want annotation %s", desc.Digest, got, want)
	}
	if got, want := strconv.Itoa(len(raw)), desc.Annotations["io.ocibundle.content.size"]; got != want {
		t.Errorf("layer %s: content size %s, want annotation %s", desc.Digest, got, want)
	}
	var entries []layerEntry
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("layer %s: %v", desc.Digest, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("layer %s: %s: %v", desc.Digest, hdr.Name, err)
		}
		entries = append(entries, layerEntry{hdr, data})
	}
	return entries
}

// checkOneLine fails unless s is exactly one non-empty line ending in "\n".
func checkOneLine(t *testing.T, what, s string) {
	t.Helper()
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 || len(s) == 1 {
		t.Errorf("%s = %q, want exactly one line", what, s)
	}
}
