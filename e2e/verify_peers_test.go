//go:build linux

package e2e

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// peerTarget is a layout or archive written by a peer tool.
type peerTarget struct {
	name, path string
	archive    bool
}

// buildPeerTargets runs the real peer tools to write layouts and archives.
// Each tool that is missing skips (or, under CI=true, fails) its part only.
func buildPeerTargets(t *testing.T) []peerTarget {
	t.Helper()
	work := t.TempDir()
	var out []peerTarget
	add := func(name, path string, archive bool) { out = append(out, peerTarget{name, path, archive}) }
	in := filepath.Join(work, "in")
	for name, body := range map[string]string{"hello.txt": "hello\n", "dir/a.txt": "a\n", "dir/sub/b.txt": "b\n", "rootfs/etc/motd": "motd\n"} {
		p := filepath.Join(in, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustCmd := func(t *testing.T, dir, name string, args ...string) {
		t.Helper()
		r := runCmd(t, dir, nil, name, args...)
		if r.code != 0 {
			t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}

	t.Run("build with oras", func(t *testing.T) {
		oras := requireTool(t, "oras")
		lay := filepath.Join(work, "oras")
		mustCmd(t, in, oras, "push", "--oci-layout", lay+":v1", "hello.txt", "dir")
		mustCmd(t, in, oras, "push", "--oci-layout", lay+":v2", "hello.txt")
		mustCmd(t, in, oras, "attach", "--oci-layout", "--artifact-type", "application/vnd.example.sig", lay+":v1", "hello.txt")
		add("oras", lay, false)
	})
	var umociLayout string
	t.Run("build with umoci", func(t *testing.T) {
		umoci := requireTool(t, "umoci")
		lay := filepath.Join(work, "umoci")
		mustCmd(t, work, umoci, "init", "--layout", lay)
		mustCmd(t, work, umoci, "new", "--image", lay+":t1")
		bundle := filepath.Join(work, "umoci-bundle")
		mustCmd(t, work, umoci, "unpack", "--rootless", "--image", lay+":t1", bundle)
		os.MkdirAll(filepath.Join(bundle, "rootfs", "etc"), 0o755)
		os.WriteFile(filepath.Join(bundle, "rootfs", "etc", "motd"), []byte("motd\n"), 0o644)
		os.Symlink("/etc/motd", filepath.Join(bundle, "rootfs", "motd-link"))
		mustCmd(t, work, umoci, "repack", "--image", lay+":t1", bundle)
		add("umoci", lay, false)
		umociLayout = lay
	})
	var skopeoLayout string
	t.Run("build with skopeo", func(t *testing.T) {
		skopeo := requireTool(t, "skopeo")
		if umociLayout == "" {
			t.Skip("SKIPPED: skopeo copies the umoci image, which was not built")
		}
		lay := filepath.Join(work, "skopeo")
		mustCmd(t, work, skopeo, "copy", "--quiet", "oci:"+umociLayout+":t1", "oci:"+lay+":gzip")
		mustCmd(t, work, skopeo, "copy", "--quiet", "--dest-compress-format", "zstd", "oci:"+umociLayout+":t1", "oci:"+lay+":zstd")
		arch := filepath.Join(work, "skopeo.tar")
		mustCmd(t, work, skopeo, "copy", "--quiet", "oci:"+umociLayout+":t1", "oci-archive:"+arch+":t1")
		archZ := filepath.Join(work, "skopeo-zstd.tar")
		mustCmd(t, work, skopeo, "copy", "--quiet", "--dest-compress-format", "zstd", "oci:"+umociLayout+":t1", "oci-archive:"+archZ+":t1")
		add("skopeo", lay, false)
		add("skopeo oci-archive", arch, true)
		add("skopeo oci-archive zstd", archZ, true)
		skopeoLayout = lay
	})
	t.Run("build with regctl", func(t *testing.T) {
		regctl := requireTool(t, "regctl")
		if skopeoLayout == "" {
			t.Skip("SKIPPED: regctl exports the skopeo layout, which was not built")
		}
		arch := filepath.Join(work, "regctl.tar")
		mustCmd(t, work, regctl, "image", "export", "ocidir://"+skopeoLayout+":gzip", arch)
		add("regctl export", arch, true)
	})
	t.Run("build with crane", func(t *testing.T) {
		crane := requireTool(t, "crane")
		addr := startRegistry(t, crane)
		repo := addr + "/multi"
		layer := filepath.Join(work, "layer.tar")
		writeTar(t, layer, filepath.Join(in, "rootfs"))
		for _, plat := range []string{"linux/amd64", "linux/arm64"} {
			tag := repo + ":" + strings.ReplaceAll(plat, "/", "-")
			mustCmd(t, work, crane, "append", "--oci-empty-base", "-f", layer, "-t", tag)
			mustCmd(t, work, crane, "mutate", "--set-platform", plat, "-t", tag, tag)
		}
		mustCmd(t, work, crane, "index", "append", "-m", repo+":linux-amd64", "-m", repo+":linux-arm64", "-t", repo+":index")
		lay := filepath.Join(work, "crane")
		mustCmd(t, work, crane, "pull", "--format", "oci", repo+":index", lay)
		add("crane multi-platform", lay, false)
	})
	t.Run("build with oras backup", func(t *testing.T) {
		oras := requireTool(t, "oras")
		crane := requireTool(t, "crane")
		addr := startRegistry(t, crane)
		mustCmd(t, in, oras, "push", "--plain-http", addr+"/art:v1", "hello.txt", "dir")
		arch := filepath.Join(work, "oras-backup.tar")
		mustCmd(t, in, oras, "backup", "--plain-http", "--output", arch, addr+"/art:v1")
		add("oras backup", arch, true)
	})
	return out
}

// startRegistry runs `crane registry serve` on a free local port until the
// test ends and returns its address.
func startRegistry(t *testing.T, crane string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(crane, "registry", "serve", "--address", addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("crane registry serve on %s did not start", addr)
	return ""
}

// writeTar writes the tree at root as a tar file (a layer for crane append).
func writeTar(t *testing.T, path, root string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		hdr.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifyPeerLayouts(t *testing.T) {
	targets := buildPeerTargets(t)
	if len(targets) == 0 {
		t.Skip("SKIPPED: no peer tool installed")
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			r := run(t, "", nil, "verify", "--deep", tg.path)
			if r.code != 0 || strings.Contains(r.stdout, "\nE ") || strings.HasPrefix(r.stdout, "E ") {
				t.Fatalf("ocibundle verify --deep %s: exit %d\n%s%s", tg.path, r.code, r.stdout, r.stderr)
			}
			t.Logf("%s", r.stdout)
			if tg.archive {
				flipArchiveBlobs(t, tg.path)
			} else {
				flipLayoutBlobs(t, tg.path)
			}
		})
	}
}

// flipLayoutBlobs flips one byte of each blob of a copy of the layout in
// turn: verify must exit 1 and name that blob.
func flipLayoutBlobs(t *testing.T, layout string) {
	t.Helper()
	var blobs []string
	filepath.WalkDir(filepath.Join(layout, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(layout, p)
			blobs = append(blobs, filepath.ToSlash(rel))
		}
		return err
	})
	sort.Strings(blobs)
	if len(blobs) == 0 {
		t.Fatalf("%s has no blobs", layout)
	}
	for _, blob := range blobs {
		dir := filepath.Join(t.TempDir(), "copy")
		if err := os.CopyFS(dir, os.DirFS(layout)); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(blob))
		os.Chmod(p, 0o644)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0x01
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, "", nil, "verify", dir)
		if r.code != 1 || !strings.Contains(r.stdout, "DIGEST_MISMATCH "+blob) || !strings.Contains(r.stderr, "verification failed") {
			t.Errorf("verify with a byte flipped in %s: exit %d, want 1 naming it\n%s%s", blob, r.code, r.stdout, r.stderr)
		}
	}
}

// flipArchiveBlobs flips one byte in the data of each blob member of a copy
// of the archive in turn: verify must exit 1 and name that member.
func flipArchiveBlobs(t *testing.T, archive string) {
	t.Helper()
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	type span struct {
		name        string
		start, size int64
	}
	var spans []span
	cr := &offsetReader{r: strings.NewReader(string(data))}
	tr := tar.NewReader(cr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if strings.HasPrefix(name, "blobs/") && hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
			spans = append(spans, span{hdr.Name, cr.n, hdr.Size})
		}
	}
	if len(spans) == 0 {
		t.Fatalf("%s has no blob members", archive)
	}
	for _, s := range spans {
		mutated := []byte(string(data))
		mutated[s.start+s.size/2] ^= 0x01
		p := filepath.Join(t.TempDir(), "flipped.tar")
		if err := os.WriteFile(p, mutated, 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, "", nil, "verify", p)
		if r.code != 1 || !strings.Contains(r.stdout, fmt.Sprintf("DIGEST_MISMATCH %s:", s.name)) {
			t.Errorf("verify with a byte flipped in member %s: exit %d, want 1 naming it\n%s%s", s.name, r.code, r.stdout, r.stderr)
		}
	}
}

// offsetReader counts the bytes read: right after tar.Reader.Next it is
// the offset of the entry's data (the reader reads headers block by block).
type offsetReader struct {
	r io.Reader
	n int64
}

func (o *offsetReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	o.n += int64(n)
	return n, err
}

func TestVerifyExitCodes(t *testing.T) {
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "f.txt"), []byte("f\n"), 0o644)
	lay := filepath.Join(work, "lay")
	digest := strings.TrimSpace(mustRun(t, work, nil, "pack", "-o", lay, "-t", "v1", "f.txt"))
	other := "sha256:" + strings.Repeat("0", 64)
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"verify", "--deep", "--strict", lay}, 0, "OK (0 errors"},
		{[]string{"verify", "--digest", digest, lay + ":v1"}, 0, "OK (0 errors"},
		{[]string{"verify", "--digest", other, lay + ":v1"}, 1, "DIGEST_PIN_MISMATCH"},
		{[]string{"verify", "--digest", "sha256:abc", lay}, 2, ""},
		{[]string{"verify", lay + ":no such tag"}, 2, ""},
		{[]string{"verify", lay, "extra"}, 2, ""},
		{[]string{"verify", filepath.Join(work, "absent")}, 3, ""},
		{[]string{"verify", lay + ":nope"}, 3, "TAG_NOT_FOUND"}, // a tag that is not there: 3, as in every command
	}
	for _, tc := range tests {
		r := run(t, work, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stdout, tc.out) {
			t.Errorf("ocibundle %s: exit %d, want %d with %q\n%s%s", strings.Join(tc.args, " "), r.code, tc.code, tc.out, r.stdout, r.stderr)
		}
		if r.code != 0 && (!strings.HasPrefix(r.stderr, "ocibundle: ") || strings.Count(r.stderr, "\n") != 1) {
			t.Errorf("ocibundle %s: stderr %q, want one line starting ocibundle:", strings.Join(tc.args, " "), r.stderr)
		}
	}
	// A split export verifies from its checksum list or its parts; a damaged
	// part fails naming it.
	split := filepath.Join(work, "split.tar")
	mustRun(t, work, nil, "export", "-o", split, "--split", "700B", lay)
	parts, _ := filepath.Glob(split + ".0*")
	if len(parts) < 2 {
		t.Fatalf("export --split 700B wrote parts %v", parts)
	}
	for _, args := range [][]string{{"verify", "--deep", "--digest", digest, split + ".sha256"}, append([]string{"verify", "--deep"}, parts...)} {
		if r := run(t, work, nil, args...); r.code != 0 || !strings.Contains(r.stdout, "1 bundle") {
			t.Errorf("ocibundle %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	last := parts[len(parts)-1]
	data, _ := os.ReadFile(last)
	data[0] ^= 0x01
	os.WriteFile(last, data, 0o644)
	if r := run(t, work, nil, "verify", split+".sha256"); r.code != 1 || !strings.Contains(r.stderr, filepath.Base(last)) {
		t.Errorf("ocibundle verify %s with %s damaged: exit %d, want 1 naming the part\n%s%s", split+".sha256", last, r.code, r.stdout, r.stderr)
	}

	// --json prints one object; stdin is an archive.
	r := run(t, work, nil, "verify", "--json", other)
	if r.code != 3 {
		t.Errorf("ocibundle verify --json %s: exit %d, want 3", other, r.code)
	}
	arch := filepath.Join(work, "lay.tar")
	writeTar(t, arch, lay)
	cmd := exec.Command(bin, "verify", "--json", "--deep", "-")
	f, err := os.Open(arch)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdin = f
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "{") || !strings.Contains(string(out), `"ok": true`) || !strings.Contains(string(out), `"target": "-"`) {
		t.Errorf("ocibundle verify --json - < archive: %v\n%s", err, out)
	}
}
