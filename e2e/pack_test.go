//go:build linux

// End-to-end tests of `ocibundle pack`: reproducibility, crash safety,
// concurrent packers, tags and the tar entries written (refusals: pack_refusal_test.go;
// fixture helpers: fixture_test.go).
// They run the real binary built by TestMain. The file is Linux-only because
// the fixtures pin symlink mtimes with utimensat(AT_SYMLINK_NOFOLLOW).

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/internal/testseed"
	"github.com/ocibundle/ocibundle/layout"
)

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
