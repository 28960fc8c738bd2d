//go:build linux

// End-to-end tests of `ocibundle pack`: reproducibility, crash safety,
// concurrent packers, refusal of bad input, tags and the tar entries written.
// They run the real binary built by TestMain. The file is Linux-only because
// the fixtures pin symlink mtimes with utimensat(AT_SYMLINK_NOFOLLOW).

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
	"net"
	"os"
	"os/exec"
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
	"github.com/ocibundle/ocibundle/internal/testseed"
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

// ---------------------------------------------------------------------------
// 1. Reproducibility

func TestPackReproducible(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	argsA := buildTree(t, filepath.Join(base, "a", "tree"), bigSize)
	argsB := buildTree(t, filepath.Join(base, "b", "elsewhere", "tree"), bigSize)
	flags := []string{"-t", "v1", "-a", "org.example.k=v"}
	packArgs := func(out string, extra, paths []string) []string {
		args := append([]string{"pack", "-o", out}, flags...)
		return append(append(args, extra...), paths...)
	}

	ref := filepath.Join(base, "ref")
	refDigest := digestOut(t, mustRun(t, "", noEpoch, packArgs(ref, nil, argsA)...))
	want := snapshot(t, ref)
	_, mf := manifestFor(t, ref, "v1")
	if len(mf.Layers) != 3 {
		t.Fatalf("manifest has %d layers, want 3", len(mf.Layers))
	}
	if n, _ := strconv.ParseInt(mf.Layers[0].Annotations["io.ocibundle.content.size"], 10, 64); n <= 32<<20 {
		t.Errorf("big layer content size = %d, want > 32 MiB", n)
	}

	umask := []string{"-c", `umask 077; exec "$0" "$@"`, bin}
	rel := func(p string) string { r, _ := filepath.Rel(filepath.Join(base, "a"), p); return r }
	cases := []struct {
		name  string
		dir   string // working directory
		env   []string
		shell []string // run through sh with these arguments first
		extra []string
		paths []string
		out   string // relative to dir when dir is set
	}{
		{name: "again", paths: argsA},
		{name: "jobs 1", extra: []string{"--jobs", "1"}, paths: argsA},
		{name: "jobs 2", extra: []string{"--jobs", "2"}, paths: argsA},
		{name: "jobs 8", extra: []string{"--jobs", "8"}, paths: argsA},
		{name: "GOMAXPROCS=1", env: []string{"GOMAXPROCS=1"}, paths: argsA},
		{name: "GOMAXPROCS=2", env: []string{"GOMAXPROCS=2"}, paths: argsA},
		{name: "relative paths from another directory", dir: filepath.Join(base, "a"),
			paths: []string{rel(argsA[0]), rel(argsA[1]), rel(argsA[2])}, out: "../rel"},
		{name: "a copy of the tree elsewhere", paths: argsB},
		{name: "umask 077", shell: umask, paths: argsA},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(base, fmt.Sprintf("out%d", i))
			if c.out != "" {
				out = c.out
			}
			args := packArgs(out, c.extra, c.paths)
			env := append(append([]string{}, noEpoch...), c.env...)
			var r result
			if c.shell != nil {
				r = runCmd(t, c.dir, env, "sh", append(c.shell, args...)...)
			} else {
				r = runCmd(t, c.dir, env, bin, args...)
			}
			if r.code != 0 {
				t.Fatalf("ocibundle %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
			}
			if got := digestOut(t, r.stdout); got != refDigest {
				t.Errorf("digest = %s, want %s", got, refDigest)
			}
			if c.dir != "" {
				out = filepath.Join(c.dir, out)
			}
			for _, d := range diffSnapshots(snapshot(t, out), want) {
				t.Errorf("layout differs from the reference: %s", d)
			}
		})
	}
}

func TestPackSourceDateEpoch(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	app := filepath.Join(base, "app")
	writeFile(t, filepath.Join(app, "old.txt"), []byte("old\n"), 0o644)
	writeFile(t, filepath.Join(app, "new.txt"), []byte("new\n"), 0o644)
	writeFile(t, filepath.Join(app, "sub", "x.txt"), []byte("x\n"), 0o644)
	symlink(t, "old.txt", filepath.Join(app, "link"))
	oldT := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	newT := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	epoch := time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)
	stamp(t, app, newT)
	setTime(t, filepath.Join(app, "old.txt"), oldT)
	setTime(t, filepath.Join(app, "sub"), oldT)
	sde := "SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch.Unix(), 10)
	given := "2021-02-03T04:05:06Z"

	cases := []struct {
		name    string
		env     []string
		extra   []string
		created string // "" = no annotation
		clamp   bool
	}{
		{name: "SOURCE_DATE_EPOCH", env: []string{sde}, created: epoch.Format(time.RFC3339), clamp: true},
		{name: "neither", env: noEpoch},
		{name: "--created", env: noEpoch, extra: []string{"--created", given}, created: given},
		{name: "--created and SOURCE_DATE_EPOCH", env: []string{sde}, extra: []string{"--created", given}, created: given, clamp: true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(base, fmt.Sprintf("out%d", i))
			pack(t, c.env, append(append([]string{"-o", out, "-t", "v"}, c.extra...), app)...)
			s, mf := manifestFor(t, out, "v")
			got, ok := mf.Annotations[ocispec.AnnotationCreated]
			switch {
			case c.created == "" && ok:
				t.Errorf("annotation %s = %q, want none", ocispec.AnnotationCreated, got)
			case c.created != "" && got != c.created:
				t.Errorf("annotation %s = %q, want %q", ocispec.AnnotationCreated, got, c.created)
			}
			want := map[string]time.Time{
				"app/": newT, "app/link": newT, "app/new.txt": newT,
				"app/old.txt": oldT, "app/sub/": oldT, "app/sub/x.txt": newT,
			}
			entries := readLayer(t, s, mf.Layers[0])
			if len(entries) != len(want) {
				t.Errorf("layer has %d entries, want %d", len(entries), len(want))
			}
			for _, e := range entries {
				w, ok := want[e.hdr.Name]
				if !ok {
					t.Errorf("unexpected entry %q", e.hdr.Name)
					continue
				}
				if c.clamp && w.After(epoch) {
					w = epoch
				}
				if !e.hdr.ModTime.Equal(w) {
					t.Errorf("%s: mtime = %s, want %s", e.hdr.Name, e.hdr.ModTime.UTC(), w)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 2. Crash safety

func TestPackCrashSafety(t *testing.T) {
	base := t.TempDir()
	lay := filepath.Join(base, "layout")
	writeFile(t, filepath.Join(base, "good", "payload.txt"), []byte("the earlier good bundle\n"), 0o644)
	good := pack(t, noEpoch, "-o", lay, "-t", "good", filepath.Join(base, "good"))

	args := buildTree(t, filepath.Join(base, "tree"), bigSize)
	big := args[0]
	varDir := filepath.Join(base, "tree", "var")
	writeFile(t, filepath.Join(varDir, "iteration.txt"), []byte("calibration\n"), 0o644)

	// The pack's duration, measured as the killed runs will be: with the
	// tree in the page cache and the big layer already in the layout.
	var durs []time.Duration
	for range 3 {
		start := time.Now()
		pack(t, noEpoch, "-o", filepath.Join(base, "calibrate"), big, varDir)
		durs = append(durs, time.Since(start))
	}
	slices.Sort(durs)
	dur := durs[1]
	t.Logf("one pack of the crash tree takes %v (median of %v)", dur, durs)

	rng := rand.New(rand.NewPCG(testseed.Seed(t), 0)) // the random kill delays
	const runs = 20
	killed := 0
	for i := range runs {
		// A different small layer each time, so every run commits new blobs.
		writeFile(t, filepath.Join(varDir, "iteration.txt"), []byte(fmt.Sprintf("iteration %d\n", i)), 0o644)
		// Stratified: run i is killed at a random moment in the i-th
		// twentieth of 1.5 times the pack's duration, so that the kills
		// span the whole pack, its end (commit, index update) included,
		// and the last runs usually finish.
		slot := int64(dur) * 3 / 2 / runs
		delay := time.Duration(int64(i)*slot + rng.Int64N(slot))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, bin, "pack", "-o", lay, "-t", "crash", big, varDir)
		cmd.Env = append(os.Environ(), noEpoch...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		time.Sleep(delay) // the random moment of the kill, not synchronisation
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		cancel()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled() && ws.Signal() == syscall.SIGKILL:
			killed++
		case cmd.ProcessState.ExitCode() != 0:
			t.Errorf("run %d: pack exited %d before the kill at %v: %s", i, cmd.ProcessState.ExitCode(), delay, stderr.String())
		}

		_, idx := checkLayout(t, lay)
		tags := tagsOf(t, idx)
		if got := tags["good"]; got != good {
			t.Errorf("run %d (killed after %v): tag good = %q, want %s", i, delay, got, good)
		}
		for tag := range tags {
			if tag != "good" && tag != "crash" {
				t.Errorf("run %d: unexpected tag %q", i, tag)
			}
		}
		if t.Failed() {
			t.Fatalf("run %d (killed after %v) left a broken layout; stopping", i, delay)
		}
	}
	t.Logf("%d of %d runs were killed mid-pack, the others finished first", killed, runs)
	if killed < 5 {
		t.Errorf("only %d of %d runs were killed before they finished, want at least 5: the kill delays do not span the pack", killed, runs)
	}
	if n, err := os.ReadDir(filepath.Join(lay, layout.IngestDir)); err == nil {
		t.Logf("%d temporary files left in ingest/ by the killed runs", len(n))
	}

	final := pack(t, noEpoch, "-o", lay, "-t", "crash", big, varDir)
	_, idx := checkLayout(t, lay)
	tags := tagsOf(t, idx)
	if tags["crash"] != final || tags["good"] != good {
		t.Errorf("tags after the final pack = %v, want crash=%s good=%s", tags, final, good)
	}
	hashAllBlobs(t, lay)
	if r := run(t, "", nil, "verify", lay); r.code != 0 {
		t.Errorf("ocibundle verify %s: exit %d, want 0\nstdout: %s\nstderr: %s", lay, r.code, r.stdout, r.stderr)
	}
}

// ---------------------------------------------------------------------------
// 3. Concurrency

func TestPackConcurrent(t *testing.T) {
	t.Parallel()
	const procs = 8
	for round := range 3 {
		base := t.TempDir()
		lay := filepath.Join(base, "missing", "layout")
		type proc struct {
			cmd    *exec.Cmd
			stdout bytes.Buffer
			stderr bytes.Buffer
		}
		ps := make([]*proc, procs)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		for i := range procs {
			tree := filepath.Join(base, fmt.Sprintf("tree%d", i))
			// "common" is the same in every tree: its layer blob is
			// committed by all eight processes at once.
			writeFile(t, filepath.Join(tree, "common", "shared.txt"), pseudoText(42, 300000), 0o644)
			writeFile(t, filepath.Join(tree, fmt.Sprintf("own%d", i), "file.txt"), pseudoText(uint64(i), 20000+i), 0o644)
			stamp(t, tree, fixedTime)
			p := &proc{}
			p.cmd = exec.CommandContext(ctx, bin, "pack", "-o", lay, "-t", fmt.Sprintf("t%d", i),
				filepath.Join(tree, "common"), filepath.Join(tree, fmt.Sprintf("own%d", i)))
			p.cmd.Env = append(os.Environ(), noEpoch...)
			p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
			ps[i] = p
		}
		for _, p := range ps {
			if err := p.cmd.Start(); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]digest.Digest{}
		for i, p := range ps {
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("round %d: pack t%d: %v\nstderr: %s", round, i, err, p.stderr.String())
				continue
			}
			want[fmt.Sprintf("t%d", i)] = digestOut(t, p.stdout.String())
		}
		cancel()
		_, idx := checkLayout(t, lay)
		got := tagsOf(t, idx)
		for tag, d := range want {
			if got[tag] != d {
				t.Errorf("round %d: tag %s = %q, want %s", round, tag, got[tag], d)
			}
		}
		if len(idx.Manifests) != procs {
			t.Errorf("round %d: index.json has %d entries, want %d", round, len(idx.Manifests), procs)
		}
		hashAllBlobs(t, lay)
		if left, err := os.ReadDir(filepath.Join(lay, layout.IngestDir)); err == nil && len(left) > 0 {
			t.Errorf("round %d: %d files left in ingest/ after clean runs, want none", round, len(left))
		}
	}
}

// ---------------------------------------------------------------------------
// 4. Bad input and usage errors

func TestPackBadInput(t *testing.T) {
	t.Parallel()
	// setup builds the bad input below dir and returns the pack arguments
	// after "-o LAYOUT" and the text the error must name.
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) (args []string, names string)
		// notLayout: -o names a non-empty directory that is not a layout.
		notLayout bool
		// unprivileged: run ocibundle as a non-root user.
		unprivileged bool
		// code is the exit code (README "Exit codes"): 1, the input is
		// what a layer cannot carry, unless set (2: a malformed flag value;
		// 3: the system said no).
		code int
	}{
		{name: "missing path", code: 3, setup: func(t *testing.T, dir string) ([]string, string) {
			p := filepath.Join(dir, "does-not-exist")
			return []string{p}, p
		}},
		{name: "FIFO in a directory", setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			writeFile(t, filepath.Join(in, "a.txt"), []byte("a"), 0o644)
			mkdir(t, filepath.Join(in, "sub"), 0o755)
			p := filepath.Join(in, "sub", "pipe")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{in}, p
		}},
		{name: "FIFO as the PATH", setup: func(t *testing.T, dir string) ([]string, string) {
			p := filepath.Join(dir, "pipe")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{p}, p
		}},
		{name: "unix socket", setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			mkdir(t, in, 0o755)
			p := filepath.Join(in, "sock")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return []string{in}, p
		}},
		{name: "character device", setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"/dev/null"}, "/dev/null"
		}},
		{name: "whiteout name", setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			p := filepath.Join(in, "sub", ".wh.foo")
			writeFile(t, p, []byte("x"), 0o644)
			return []string{in}, p
		}},
		{name: "same base name twice", setup: func(t *testing.T, dir string) ([]string, string) {
			a, b := filepath.Join(dir, "a", "x"), filepath.Join(dir, "b", "x")
			writeFile(t, filepath.Join(a, "1.txt"), []byte("1"), 0o644)
			writeFile(t, filepath.Join(b, "2.txt"), []byte("2"), 0o644)
			return []string{a, b}, b
		}},
		{name: "annotation without =", code: 2, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"-a", "novalue", goodInput(t, dir)}, "novalue"
		}},
		{name: "annotation with an empty key", code: 2, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"-a", "=v", goodInput(t, dir)}, `"=v"`
		}},
		{name: "tag -a", code: 2, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"-t", "-a", goodInput(t, dir)}, `"-a"`
		}},
		{name: "tag a..b", code: 2, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{"-t", "a..b", goodInput(t, dir)}, "a..b"
		}},
		// As root a chmod 000 file is still readable, so under root both
		// packs of this case run as the unprivileged uid/gid 65534.
		{name: "unreadable file", unprivileged: true, code: 3, setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			p := filepath.Join(in, "locked.txt")
			writeFile(t, p, []byte("secret"), 0o000)
			return []string{in}, p
		}},
		{name: "unreadable directory", unprivileged: true, code: 3, setup: func(t *testing.T, dir string) ([]string, string) {
			in := filepath.Join(dir, "in")
			writeFile(t, filepath.Join(in, "a.txt"), []byte("a"), 0o644)
			p := filepath.Join(in, "locked")
			writeFile(t, filepath.Join(p, "b.txt"), []byte("b"), 0o644)
			mkdir(t, p, 0o000)
			t.Cleanup(func() { os.Chmod(p, 0o755) }) // so that t.TempDir can remove it
			return []string{in}, p
		}},
		{name: "non-empty directory that is not a layout", notLayout: true, setup: func(t *testing.T, dir string) ([]string, string) {
			return []string{goodInput(t, dir)}, ""
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var ob *ocibundleAs
			if c.unprivileged {
				ob = asUnprivileged(t, dir)
			}
			lay := filepath.Join(dir, "layout")
			if r := ob.run(t, noEpoch, "pack", "-o", lay, "-t", "good", goodInput(t, dir)); r.code != 0 {
				t.Fatalf("pack of the good tag: exit %d\nstderr: %s", r.code, r.stderr)
			}
			indexBefore, err := os.ReadFile(filepath.Join(lay, layout.IndexFile))
			if err != nil {
				t.Fatal(err)
			}
			layoutBefore := snapshot(t, lay)

			args, names := c.setup(t, dir)
			out := lay
			if c.notLayout {
				out = filepath.Join(dir, "not-a-layout")
				writeFile(t, filepath.Join(out, "notes.txt"), []byte("mine\n"), 0o644)
				names = out
			}
			outBefore := snapshot(t, out)
			r := ob.run(t, noEpoch, append([]string{"pack", "-o", out}, args...)...)
			want := c.code
			if want == 0 {
				want = 1
			}
			if r.code != want {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, want, r.stderr)
			}
			checkOneLine(t, "stderr", r.stderr)
			if !strings.HasPrefix(r.stderr, "ocibundle: pack: ") {
				t.Errorf("stderr = %q, want it to start with %q", r.stderr, "ocibundle: pack: ")
			}
			if !strings.Contains(r.stderr, names) {
				t.Errorf("stderr = %q, want it to name %s", r.stderr, names)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			indexAfter, err := os.ReadFile(filepath.Join(lay, layout.IndexFile))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(indexAfter, indexBefore) {
				t.Errorf("index.json changed:\n%s\nwant\n%s", indexAfter, indexBefore)
			}
			for _, d := range diffSnapshots(snapshot(t, lay), layoutBefore) {
				t.Errorf("layout changed: %s", d)
			}
			for _, d := range diffSnapshots(snapshot(t, out), outBefore) {
				t.Errorf("-o %s changed: %s", out, d)
			}
		})
	}
}

// ocibundleAs runs a copy of the binary as another user; nil runs bin as
// the test's own user.
type ocibundleAs struct {
	bin  string
	cred *syscall.Credential
}

// asUnprivileged returns nil when the test does not run as root. As root it
// hands dir (and its parent, t.TempDir's 0700 directory) to uid/gid 65534
// and copies the binary there, where that user may execute it.
func asUnprivileged(t *testing.T, dir string) *ocibundleAs {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	const nobody = 65534
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chown(d, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ocibundle")
	writeFile(t, p, data, 0o755)
	return &ocibundleAs{bin: p, cred: &syscall.Credential{Uid: nobody, Gid: nobody}}
}

// run runs ocibundle with args as o's user (see runCmd).
func (o *ocibundleAs) run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	if o == nil {
		return run(t, "", env, args...)
	}
	cmd := exec.Command(o.bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: o.cred}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s %s: %v", o.bin, strings.Join(args, " "), err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// goodInput returns a small valid directory to pack below dir.
func goodInput(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "good")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	writeFile(t, filepath.Join(p, "hello.txt"), []byte("hello\n"), 0o644)
	stamp(t, p, fixedTime)
	return p
}

func TestPackUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args func(lay, in string) []string
	}{
		{"no -o", func(lay, in string) []string { return []string{in} }},
		{"no PATH", func(lay, in string) []string { return []string{"-o", lay} }},
		{"unknown flag", func(lay, in string) []string { return []string{"--no-such-flag", "-o", lay, in} }},
		{"-c lz4", func(lay, in string) []string { return []string{"-c", "lz4", "-o", lay, in} }},
		{"--created yesterday", func(lay, in string) []string { return []string{"--created", "yesterday", "-o", lay, in} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			lay := filepath.Join(dir, "layout")
			r := run(t, "", noEpoch, append([]string{"pack"}, c.args(lay, goodInput(t, dir))...)...)
			if r.code != 2 {
				t.Errorf("exit code = %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			checkOneLine(t, "stderr", r.stderr)
			if !strings.HasPrefix(r.stderr, "ocibundle: ") {
				t.Errorf("stderr = %q, want it to start with %q", r.stderr, "ocibundle: ")
			}
			if _, err := os.Lstat(lay); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a usage error created %s (Lstat: %v), want nothing written", lay, err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 5. Tags

func TestPackTags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lay := filepath.Join(dir, "layout")
	in := filepath.Join(dir, "payload")
	content := func(s string) {
		writeFile(t, filepath.Join(in, "a.txt"), []byte(s), 0o644)
		stamp(t, in, fixedTime)
	}
	readIndex := func() []byte {
		data, err := os.ReadFile(filepath.Join(lay, layout.IndexFile))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}

	content("one\n")
	d1 := pack(t, noEpoch, "-o", lay, "-t", "v", in)
	content("two\n")
	d2 := pack(t, noEpoch, "-o", lay, "-t", "v", in)
	if d1 == d2 {
		t.Fatalf("different content packed to the same digest %s", d1)
	}
	_, idx := checkLayout(t, lay)
	if got := tagsOf(t, idx)["v"]; got != d2 {
		t.Errorf("tag v = %s, want %s (moved)", got, d2)
	}
	if len(idx.Manifests) != 1 {
		t.Errorf("index.json has %d entries after moving tag v, want 1", len(idx.Manifests))
	}
	if _, err := os.Stat(filepath.Join(lay, "blobs", "sha256", d1.Encoded())); err != nil {
		t.Errorf("old manifest %s: %v, want it kept in blobs/ until gc", d1, err)
	}

	before := readIndex()
	if d := pack(t, noEpoch, "-o", lay, "-t", "v", in); d != d2 {
		t.Errorf("same content again = %s, want %s", d, d2)
	}
	if after := readIndex(); !bytes.Equal(after, before) {
		t.Errorf("re-packing the same content with the same tag changed index.json:\n%s\nwant\n%s", after, before)
	}

	content("three\n")
	d3 := pack(t, noEpoch, "-o", lay, "-t", "a", "-t", "b", in)
	_, idx = checkLayout(t, lay)
	tags := tagsOf(t, idx)
	want := map[string]digest.Digest{"v": d2, "a": d3, "b": d3}
	for tag, d := range want {
		if tags[tag] != d {
			t.Errorf("tag %s = %q, want %s", tag, tags[tag], d)
		}
	}
	if len(idx.Manifests) != 3 {
		t.Errorf("index.json has %d entries, want 3 (v, a, b)", len(idx.Manifests))
	}
}

// ---------------------------------------------------------------------------
// 6. Tar entries

func TestPackTarEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	app := filepath.Join(dist, "app")
	long := "long-" + strings.Repeat("x", 115) // one name component USTAR cannot hold
	blob := pseudoText(3, 3000)
	writeFile(t, filepath.Join(app, "a", "z.txt"), []byte("z\n"), 0o644)
	writeFile(t, filepath.Join(app, "a-b.txt"), []byte("ab\n"), 0o644)
	writeFile(t, filepath.Join(app, "bin", "run"), []byte("#!/bin/sh\n"), 0o755)
	writeFile(t, filepath.Join(app, "data", "blob.bin"), blob, 0o644)
	mkdir(t, filepath.Join(app, "empty"), 0o750)
	writeFile(t, filepath.Join(app, long), []byte("long\n"), 0o644)
	writeFile(t, filepath.Join(app, "secret"), []byte("s3cret\n"), 0o600)
	symlink(t, "nowhere", filepath.Join(app, "dangling"))
	symlink(t, "bin/run", filepath.Join(app, "link"))
	hardlink(t, filepath.Join(app, "data", "blob.bin"), filepath.Join(app, "zz-hard"))
	writeFile(t, filepath.Join(dist, "single.txt"), []byte("single\n"), 0o640)
	if os.Geteuid() == 0 {
		// As root every file is owned by 0 anyway; give some other owners
		// so that "uid/gid 0 in the tar" can fail.
		for _, p := range []string{app, filepath.Join(app, "secret"), filepath.Join(app, "link"), filepath.Join(app, "data", "blob.bin")} {
			if err := os.Lchown(p, 1234, 5678); err != nil {
				t.Fatal(err)
			}
		}
	}
	mtime := time.Unix(1600000000, 987654321)
	stamp(t, dist, mtime)
	secretTime := time.Unix(1500000000, 999999999)
	setTime(t, filepath.Join(app, "secret"), secretTime)

	lay := filepath.Join(dir, "layout")
	pack(t, noEpoch, "-o", lay, "-t", "v", app, filepath.Join(dist, "single.txt"))
	s, mf := manifestFor(t, lay, "v")
	if len(mf.Layers) != 2 {
		t.Fatalf("manifest has %d layers, want 2", len(mf.Layers))
	}

	type want struct {
		name     string
		typ      byte
		mode     int64
		linkname string
		data     []byte
	}
	sec := mtime.Truncate(time.Second)
	layers := []struct {
		title string
		files string
		want  []want
	}{
		{"app", "7", []want{
			{"app/", tar.TypeDir, 0o755, "", nil},
			{"app/a/", tar.TypeDir, 0o755, "", nil},
			{"app/a/z.txt", tar.TypeReg, 0o644, "", []byte("z\n")},
			{"app/a-b.txt", tar.TypeReg, 0o644, "", []byte("ab\n")},
			{"app/bin/", tar.TypeDir, 0o755, "", nil},
			{"app/bin/run", tar.TypeReg, 0o755, "", []byte("#!/bin/sh\n")},
			{"app/dangling", tar.TypeSymlink, 0o777, "nowhere", nil},
			{"app/data/", tar.TypeDir, 0o755, "", nil},
			{"app/data/blob.bin", tar.TypeReg, 0o644, "", blob},
			{"app/empty/", tar.TypeDir, 0o750, "", nil},
			{"app/link", tar.TypeSymlink, 0o777, "bin/run", nil},
			{"app/" + long, tar.TypeReg, 0o644, "", []byte("long\n")},
			{"app/secret", tar.TypeReg, 0o600, "", []byte("s3cret\n")},
			{"app/zz-hard", tar.TypeLink, 0o644, "app/data/blob.bin", nil},
		}},
		{"single.txt", "1", []want{
			{"single.txt", tar.TypeReg, 0o640, "", []byte("single\n")},
		}},
	}
	for i, l := range layers {
		desc := mf.Layers[i]
		if got := desc.MediaType; got != ocispec.MediaTypeImageLayerZstd {
			t.Errorf("layer %d mediaType = %q, want %q", i, got, ocispec.MediaTypeImageLayerZstd)
		}
		if got := desc.Annotations[ocispec.AnnotationTitle]; got != l.title {
			t.Errorf("layer %d title = %q, want %q", i, got, l.title)
		}
		if got := desc.Annotations["io.ocibundle.content.files"]; got != l.files {
			t.Errorf("layer %s: io.ocibundle.content.files = %q, want %q (regular files, hard links included)", l.title, got, l.files)
		}
		entries := readLayer(t, s, desc)
		var names, wantNames []string
		for _, e := range entries {
			names = append(names, e.hdr.Name)
		}
		for _, w := range l.want {
			wantNames = append(wantNames, w.name)
		}
		if !slices.Equal(names, wantNames) {
			t.Errorf("layer %s entries =\n%q\nwant (sorted walk, directories included)\n%q", l.title, names, wantNames)
			continue
		}
		for j, e := range entries {
			h, w := e.hdr, l.want[j]
			wantTime := sec
			if w.name == "app/secret" {
				wantTime = secretTime.Truncate(time.Second)
			}
			if h.Typeflag != w.typ {
				t.Errorf("%s: type = %q, want %q", h.Name, h.Typeflag, w.typ)
			}
			if h.Mode != w.mode {
				t.Errorf("%s: mode = %#o, want %#o", h.Name, h.Mode, w.mode)
			}
			if h.Linkname != w.linkname {
				t.Errorf("%s: linkname = %q, want %q", h.Name, h.Linkname, w.linkname)
			}
			if !bytes.Equal(e.data, w.data) {
				t.Errorf("%s: %d bytes of content, want %d", h.Name, len(e.data), len(w.data))
			}
			if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
				t.Errorf("%s: owner = %d:%d (%q:%q), want 0:0 and no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
			}
			if !h.ModTime.Equal(wantTime) {
				t.Errorf("%s: mtime = %s, want %s (1 s resolution)", h.Name, h.ModTime.UTC().Format(time.RFC3339Nano), wantTime.UTC().Format(time.RFC3339Nano))
			}
			if len(h.Name) <= 100 && len(h.PAXRecords) > 0 {
				t.Errorf("%s: PAX records %v, want plain USTAR", h.Name, h.PAXRecords)
			}
		}
	}
}
