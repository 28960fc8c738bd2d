//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// arcBundle packs a tree with a big pseudo-text file into a new layout
// tagged v1 and returns the layout and the manifest digest.
func arcBundle(t *testing.T, work string, big int) (string, digest.Digest) {
	t.Helper()
	src := filepath.Join(work, "src")
	writeFile(t, filepath.Join(src, "docs", "readme.txt"), []byte("read me\n"), 0o644)
	writeFile(t, filepath.Join(src, "docs", "big.txt"), bigText(big), 0o644)
	writeFile(t, filepath.Join(src, "tool.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	lay := filepath.Join(work, "layout")
	d := digestOut(t, mustRun(t, work, nil, "pack", "-o", lay, "-t", "v1", filepath.Join(src, "docs"), filepath.Join(src, "tool.sh")))
	return lay, d
}

// arcBlobs reads every blob of a layout (name → bytes).
func arcBlobs(t *testing.T, lay string) map[string]string {
	t.Helper()
	out := map[string]string{}
	dir := filepath.Join(lay, "blobs", "sha256")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// arcVerify runs `ocibundle verify` on a layout and fails unless it is OK.
func arcVerify(t *testing.T, lay string) {
	t.Helper()
	if r := run(t, "", nil, "verify", lay); r.code != 0 {
		t.Fatalf("verify %s: exit %d\n%s%s", lay, r.code, r.stdout, r.stderr)
	}
}

func TestArchiveExportImport(t *testing.T) {
	work := t.TempDir()
	lay, d := arcBundle(t, work, 300<<10)
	a, b := filepath.Join(work, "a.tar"), filepath.Join(work, "b.tar")
	out := mustRun(t, work, nil, "export", "-o", a, lay)
	mustRun(t, work, nil, "export", "-o", b, lay+":v1")
	if r := runCmd(t, work, nil, "cmp", a, b); r.code != 0 {
		t.Fatalf("two exports differ: %s", r.stdout)
	}
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	sum := digest.FromBytes(data)
	if !strings.Contains(out, sum.String()) || !strings.Contains(out, " "+strconv.Itoa(len(data))+" ") || !strings.Contains(out, d.String()) {
		t.Errorf("export printed %q, want the archive's %s, its size %d and the bundle %s", out, sum, len(data), d)
	}
	// -o - writes the same bytes to stdout and the report to stderr.
	r := run(t, work, nil, "export", "-o", "-", lay)
	if r.code != 0 || r.stdout != string(data) || !strings.Contains(r.stderr, sum.String()) {
		t.Errorf("export -o -: exit %d, %d bytes on stdout, stderr %q", r.code, len(r.stdout), r.stderr)
	}
	// A progress bar goes to stderr and never into the archive.
	r = run(t, work, nil, "export", "--progress", "always", "-o", "-", lay)
	if r.code != 0 || r.stdout != string(data) {
		t.Errorf("export --progress always -o -: exit %d, stdout differs from the file", r.code)
	}
	// --json.
	var res struct {
		Archive struct {
			Digest digest.Digest `json:"digest"`
			Size   int64         `json:"size"`
		} `json:"archive"`
		Bundles []struct {
			Tags   []string      `json:"tags"`
			Digest digest.Digest `json:"digest"`
		} `json:"bundles"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, work, nil, "export", "--json", "-o", b, lay)), &res); err != nil {
		t.Fatal(err)
	}
	if res.Archive.Digest != sum || res.Archive.Size != int64(len(data)) || len(res.Bundles) != 1 || res.Bundles[0].Digest != d || !reflect.DeepEqual(res.Bundles[0].Tags, []string{"v1"}) {
		t.Errorf("export --json = %+v", res)
	}
	// SOURCE_DATE_EPOCH changes the mtimes, and only them.
	c := filepath.Join(work, "c.tar")
	mustRun(t, work, []string{"SOURCE_DATE_EPOCH=1700000000"}, "export", "-o", c, lay)
	if r := runCmd(t, work, nil, "tar", "--utc", "-tvf", c); r.code != 0 || !strings.Contains(r.stdout, "2023-11-14 22:13") || strings.Contains(r.stdout, "1970") {
		t.Errorf("tar -tvf of the SOURCE_DATE_EPOCH export:\n%s", r.stdout)
	}

	// Import into a fresh layout: identical blobs and index.json, verifies.
	dst := filepath.Join(work, "imported")
	mustRun(t, work, nil, "import", "-o", dst, a)
	arcVerify(t, dst)
	if got, want := arcBlobs(t, dst), arcBlobs(t, lay); len(got) != len(want) || !mapsEqual(got, want) {
		t.Errorf("imported blobs differ: %d vs %d", len(got), len(want))
	}
	for _, f := range []string{"index.json", "oci-layout"} {
		g, _ := os.ReadFile(filepath.Join(dst, f))
		w, _ := os.ReadFile(filepath.Join(lay, f))
		if !bytes.Equal(g, w) {
			t.Errorf("%s differs:\n%s\n%s", f, g, w)
		}
	}
	// From stdin too, into the same layout: a no-op.
	cmd := exec.Command(bin, "import", "-o", dst, "-")
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "unchanged") {
		t.Errorf("import -: %v\n%s", err, out)
	}

	// Exit codes: a tag conflict is 1 (and names both digests), --force moves it.
	other := filepath.Join(work, "other")
	writeFile(t, filepath.Join(work, "o.txt"), []byte("other\n"), 0o644)
	od := digestOut(t, mustRun(t, work, nil, "pack", "-o", other, "-t", "v1", filepath.Join(work, "o.txt")))
	r = run(t, work, nil, "import", "-o", other, a)
	if r.code != 1 || !strings.Contains(r.stderr, d.String()) || !strings.Contains(r.stderr, od.String()) {
		t.Errorf("import with a tag conflict: exit %d, %q", r.code, r.stderr)
	}
	mustRun(t, work, nil, "import", "--force", "-o", other, a)
	arcVerify(t, other)
	// Usage errors are 2.
	for _, args := range [][]string{{"export", lay}, {"export", "-o", a}, {"import", a}, {"import", "-o", dst}, {"export", "--split", "lots", "-o", a, lay}, {"export", "--split", "700", "-o", a, lay}, {"extract", "--max-layer-size", "64", "-o", filepath.Join(work, "x"), lay}, {"verify", "--deep", "--max-layer-size", "lots", lay}, {"export", "--split", "1M", "-o", "-", lay}} {
		if r := run(t, work, nil, args...); r.code != 2 {
			t.Errorf("ocibundle %s: exit %d, want 2 (%s)", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	// A hostile archive is 1, and the layout is unchanged.
	evil := filepath.Join(work, "evil.tar")
	writeFile(t, filepath.Join(work, "evil", "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	symlink(t, "/etc/passwd", filepath.Join(work, "evil", "index.json"))
	if r := runCmd(t, work, nil, "tar", "-C", filepath.Join(work, "evil"), "-cf", evil, "."); r.code != 0 {
		t.Fatal(r.stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	r = run(t, work, nil, "import", "-o", dst, evil)
	after, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	if r.code != 1 || !strings.Contains(r.stderr, "index.json") || !strings.Contains(r.stderr, "symlink") || !bytes.Equal(before, after) {
		t.Errorf("import of a symlink member: exit %d, %q", r.code, r.stderr)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestArchiveCorruptLayout(t *testing.T) {
	work := t.TempDir()
	lay, _ := arcBundle(t, work, 64<<10)
	// Flip a byte of the biggest blob (the docs layer).
	var victim string
	var size int64
	entries, _ := os.ReadDir(filepath.Join(lay, "blobs", "sha256"))
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Size() > size {
			victim, size = e.Name(), fi.Size()
		}
	}
	p := filepath.Join(lay, "blobs", "sha256", victim)
	data, _ := os.ReadFile(p)
	data[len(data)/2] ^= 1
	os.Chmod(p, 0o644)
	writeFile(t, p, data, 0o444)
	out := filepath.Join(work, "out.tar")
	r := run(t, work, nil, "export", "-o", out, lay)
	if r.code != 1 || !strings.Contains(r.stderr, "blobs/sha256/"+victim) || !strings.Contains(r.stderr, "digest mismatch") {
		t.Errorf("export of a corrupt layout: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("export of a corrupt layout left %s", out)
	}
	r = run(t, work, nil, "export", "-o", "-", lay)
	if r.code != 1 || bytes.Contains([]byte(r.stdout[max(0, len(r.stdout)-1024):]), make([]byte, 1024)) {
		t.Errorf("export -o - of a corrupt layout: exit %d; the stream must not end like a whole archive", r.code)
	}
}

func TestArchiveSplit(t *testing.T) {
	work := t.TempDir()
	lay, _ := arcBundle(t, work, 200<<10)
	whole := filepath.Join(work, "whole.tar")
	mustRun(t, work, nil, "export", "-o", whole, lay)
	outDir := filepath.Join(work, "media")
	os.MkdirAll(outDir, 0o755)
	file := filepath.Join(outDir, "bundle.tar")
	out := mustRun(t, work, nil, "export", "--split", "50K", "-o", file, lay)
	wholeData, _ := os.ReadFile(whole)
	parts, _ := filepath.Glob(file + ".[0-9]*")
	if want := (len(wholeData) + 50<<10 - 1) / (50 << 10); len(parts) != want {
		t.Fatalf("%d parts, want %d\n%s", len(parts), want, out)
	}
	var joined []byte
	for _, p := range parts {
		b, _ := os.ReadFile(p)
		if len(b) > 50<<10 {
			t.Errorf("%s: %d bytes, more than 50K", p, len(b))
		}
		joined = append(joined, b...)
	}
	if !bytes.Equal(joined, wholeData) {
		t.Fatal("the joined parts differ from the single-file export")
	}
	// A second split export gives the same parts.
	again := filepath.Join(work, "again", "bundle.tar")
	os.MkdirAll(filepath.Dir(again), 0o755)
	mustRun(t, work, nil, "export", "--split", "50K", "-o", again, lay)
	for _, p := range parts {
		if r := runCmd(t, work, nil, "cmp", p, filepath.Join(filepath.Dir(again), filepath.Base(p))); r.code != 0 {
			t.Errorf("%s differs between two exports", filepath.Base(p))
		}
	}
	// Stock tools check the media.
	if r := runCmd(t, outDir, nil, "sha256sum", "-c", "--ignore-missing", "bundle.tar.sha256"); r.code != 0 {
		t.Errorf("sha256sum -c --ignore-missing: %s%s", r.stdout, r.stderr)
	}
	// Import from the list and from the parts in order.
	for i, args := range [][]string{{file + ".sha256"}, parts} {
		dst := filepath.Join(work, "dst"+strconv.Itoa(i))
		mustRun(t, work, nil, append([]string{"import", "-o", dst}, args...)...)
		arcVerify(t, dst)
		if !mapsEqual(arcBlobs(t, dst), arcBlobs(t, lay)) {
			t.Errorf("import from %v: blobs differ", args)
		}
	}
	// Parts given out of order are named, by import and verify alike.
	swapped := append([]string{parts[1], parts[0]}, parts[2:]...)
	for _, cmd := range [][]string{{"import", "-o", filepath.Join(work, "dst-swapped")}, {"verify"}} {
		r := run(t, work, nil, append(cmd, swapped...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "bundle.tar.001: bad input: parts out of order") {
			t.Errorf("%s of parts out of order: exit %d, %q, want 1 naming bundle.tar.001", cmd[0], r.code, r.stderr)
		}
	}
	// A damaged part is named.
	victim := parts[len(parts)/2]
	b, _ := os.ReadFile(victim)
	b[100] ^= 0x20
	writeFile(t, victim, b, 0o644)
	dst := filepath.Join(work, "dst-bad")
	r := run(t, work, nil, "import", "-o", dst, file+".sha256")
	if r.code != 1 || !strings.Contains(r.stderr, filepath.Base(victim)) || !strings.Contains(r.stderr, "damaged part") {
		t.Errorf("import with a damaged part: exit %d, %q", r.code, r.stderr)
	}
	r = run(t, work, nil, append([]string{"import", "-o", dst}, parts...)...)
	if r.code != 1 || !strings.Contains(r.stderr, filepath.Base(victim)) || !strings.Contains(r.stderr, "damaged part") {
		t.Errorf("import of the parts with one damaged: exit %d, %q", r.code, r.stderr)
	}
	if r := runCmd(t, outDir, nil, "sha256sum", "-c", "--ignore-missing", "bundle.tar.sha256"); r.code == 0 || !strings.Contains(r.stdout, filepath.Base(victim)+": FAILED") {
		t.Errorf("sha256sum -c does not name the damaged part: %s", r.stdout)
	}
}

// TestArchiveImportKilled kills an import mid-stream: the layout still
// verifies, and re-running the import finishes it.
func TestArchiveImportKilled(t *testing.T) {
	work := t.TempDir()
	lay, _ := arcBundle(t, work, 8<<20)
	arch := filepath.Join(work, "a.tar")
	mustRun(t, work, nil, "export", "-o", arch, lay)
	data, _ := os.ReadFile(arch)
	dst := filepath.Join(work, "dst")
	cmd := exec.Command(bin, "import", "-o", dst, "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Feed everything but the last quarter, wait until a blob is committed
	// and the big layer is being written, then SIGKILL.
	if _, err := stdin.Write(data[:len(data)*3/4]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		blobs, _ := os.ReadDir(filepath.Join(dst, "blobs", "sha256"))
		ingest, _ := os.ReadDir(filepath.Join(dst, "ingest"))
		if len(blobs) > 0 && len(ingest) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	stdin.Close()
	if ingest, _ := os.ReadDir(filepath.Join(dst, "ingest")); len(ingest) == 0 {
		t.Error("the import was not killed mid-blob (nothing in ingest/)")
	}
	arcVerify(t, dst)
	idx, _ := os.ReadFile(filepath.Join(dst, "index.json"))
	if strings.Contains(string(idx), "sha256:") {
		t.Errorf("index.json names content after a killed import: %s", idx)
	}
	before := len(arcBlobs(t, dst))
	var res struct {
		Blobs, Written int
	}
	if err := json.Unmarshal([]byte(mustRun(t, work, nil, "import", "--json", "-o", dst, arch)), &res); err != nil {
		t.Fatal(err)
	}
	if res.Written != res.Blobs-before {
		t.Errorf("re-run wrote %d blobs, want %d (the %d already there are not rewritten)", res.Written, res.Blobs-before, before)
	}
	arcVerify(t, dst)
	if !mapsEqual(arcBlobs(t, dst), arcBlobs(t, lay)) {
		t.Error("blobs differ after the re-run")
	}
	mustRun(t, work, nil, "gc", dst) // the ingest leftover goes
}

// TestArchiveImportDiskFull runs an import under a file size limit (the
// writer gets EFBIG, as on a full disk): exit 3 with a clear message, a
// layout that verifies, and a re-run that finishes.
func TestArchiveImportDiskFull(t *testing.T) {
	work := t.TempDir()
	lay, _ := arcBundle(t, work, 4<<20)
	arch := filepath.Join(work, "a.tar")
	mustRun(t, work, nil, "export", "-o", arch, lay)
	dst := filepath.Join(work, "dst")
	r := runCmd(t, work, nil, "sh", "-c", `ulimit -f 1024 && exec "$0" import -o "$1" "$2"`, bin, dst, arch)
	if r.code != 3 || !strings.Contains(r.stderr, "file too large") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("import with ulimit -f: exit %d, stderr %q; want exit 3 and one line saying why", r.code, r.stderr)
	}
	arcVerify(t, dst)
	mustRun(t, work, nil, "import", "-o", dst, arch)
	arcVerify(t, dst)
}

// TestArchivePeersReadOurs: skopeo and oras read an export as it is, and
// regctl imports it.
func TestArchivePeersReadOurs(t *testing.T) {
	work := t.TempDir()
	lay, d := arcBundle(t, work, 100<<10)
	arch := filepath.Join(work, "a.tar")
	mustRun(t, work, nil, "export", "-o", arch, lay)
	manifest, err := os.ReadFile(filepath.Join(lay, "blobs", "sha256", d.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("skopeo", func(t *testing.T) {
		skopeo := requireTool(t, "skopeo")
		r := runCmd(t, work, nil, skopeo, "inspect", "--raw", "oci-archive:"+arch+":v1")
		if r.code != 0 || r.stdout != string(manifest) {
			t.Fatalf("skopeo inspect --raw: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		dst := filepath.Join(work, "skopeo-copy")
		if r := runCmd(t, work, nil, skopeo, "copy", "--quiet", "oci-archive:"+arch+":v1", "oci:"+dst+":v1"); r.code != 0 {
			t.Fatalf("skopeo copy: %s", r.stderr)
		}
		arcVerify(t, dst)
		if !mapsEqual(arcBlobs(t, dst), arcBlobs(t, lay)) {
			t.Error("skopeo's copy of the archive has other blobs")
		}
	})
	t.Run("oras", func(t *testing.T) {
		oras := requireTool(t, "oras")
		r := runCmd(t, work, nil, oras, "manifest", "fetch", "--oci-layout", arch+":v1")
		if r.code != 0 || r.stdout != string(manifest) {
			t.Fatalf("oras manifest fetch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("regctl", func(t *testing.T) {
		regctl := requireTool(t, "regctl")
		dst := filepath.Join(work, "regctl-import")
		if r := runCmd(t, work, nil, regctl, "image", "import", "ocidir://"+dst+":v1", arch); r.code != 0 {
			t.Fatalf("regctl image import: %s%s", r.stdout, r.stderr)
		}
		arcVerify(t, dst)
	})
}

// TestArchiveImportPeers imports what the peers write: skopeo's and
// regctl's archives, oras backup's, and peers' layouts tarred with GNU tar.
// Each imports, verifies clean and holds the archive's blobs.
func TestArchiveImportPeers(t *testing.T) {
	targets := buildPeerTargets(t)
	work := t.TempDir()
	for i, pt := range targets {
		t.Run(pt.name, func(t *testing.T) {
			arch := pt.path
			if !pt.archive {
				arch = filepath.Join(work, "tarred-"+strconv.Itoa(i)+".tar")
				if r := runCmd(t, work, nil, "tar", "-C", pt.path, "-cf", arch, "."); r.code != 0 {
					t.Fatal(r.stderr)
				}
			}
			dst := filepath.Join(work, "dst-"+strconv.Itoa(i))
			r := run(t, work, nil, "import", "-o", dst, arch)
			if r.code != 0 {
				t.Fatalf("import %s: exit %d\n%s", pt.name, r.code, r.stderr)
			}
			if r := run(t, "", nil, "verify", "--deep", dst); r.code != 0 {
				t.Fatalf("verify --deep after importing %s: exit %d\n%s", pt.name, r.code, r.stdout)
			}
			// Every blob of the archive is in the layout.
			list := runCmd(t, work, nil, "tar", "-tf", arch)
			for _, name := range strings.Fields(list.stdout) {
				name = strings.TrimPrefix(name, "./")
				if strings.HasPrefix(name, "blobs/sha256/") && len(name) == len("blobs/sha256/")+64 {
					if _, err := os.Stat(filepath.Join(dst, name)); err != nil {
						t.Errorf("%s: not imported", name)
					}
				}
			}
			// Re-importing writes nothing new.
			if out := mustRun(t, work, nil, "import", "-o", dst, arch); !strings.Contains(out, "(0 written)") {
				t.Errorf("re-import: %s", out)
			}
			// The imported layout exports, deterministically, and that
			// archive imports and verifies too (referrers, nested indexes).
			e1, e2 := filepath.Join(work, "re-"+strconv.Itoa(i)+".tar"), filepath.Join(work, "re2-"+strconv.Itoa(i)+".tar")
			mustRun(t, work, nil, "export", "-o", e1, dst)
			mustRun(t, work, nil, "export", "-o", e2, dst)
			if r := runCmd(t, work, nil, "cmp", e1, e2); r.code != 0 {
				t.Errorf("two exports of the imported %s differ", pt.name)
			}
			again := filepath.Join(work, "again-"+strconv.Itoa(i))
			mustRun(t, work, nil, "import", "-o", again, e1)
			if r := run(t, "", nil, "verify", "--deep", "--strict", again); r.code != 0 {
				t.Errorf("verify --deep --strict of the re-exported %s: exit %d\n%s", pt.name, r.code, r.stdout)
			}
			g, _ := os.ReadFile(filepath.Join(again, "index.json"))
			w, _ := os.ReadFile(filepath.Join(dst, "index.json"))
			if !bytes.Equal(g, w) {
				t.Errorf("index.json after export and import:\n%s\nwant\n%s", g, w)
			}
		})
	}
}
