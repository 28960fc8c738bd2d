//go:build linux

package e2e

// Interop tests: the real peer tools (oras, skopeo, regctl, crane, umoci,
// zstd, gzip, GNU tar) read what `ocibundle pack` wrote, and each assertion
// compares concrete bytes, digests, names or modes with what pack promised
// (DESIGN.md "What pack writes").
//
// Every top-level name in this file starts with "interop" so that it cannot
// collide with helpers of the other e2e files.

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestInteropORASManifestFetch: `oras manifest fetch --oci-layout L:tag`
// prints exactly the manifest blob, whose sha256 is the digest pack printed.
func TestInteropORASManifestFetch(t *testing.T) {
	requireTool(t, "oras")
	dir, file := interopTree(t, t.TempDir())
	for _, c := range []string{"zstd", "gzip", "none"} {
		t.Run(c, func(t *testing.T) {
			b := interopPack(t, c, dir, file)
			r := interopPeer(t, "oras", "manifest", "fetch", "--oci-layout", b.layout+":"+interopTag)
			interopSameBytes(t, "oras manifest fetch", []byte(r.stdout), b.raw)
			if got := digest.FromString(r.stdout); got != b.digest {
				t.Errorf("sha256(oras manifest fetch) = %s, want %s (printed by pack)", got, b.digest)
			}
			r = interopPeer(t, "oras", "manifest", "fetch", "--oci-layout", "--descriptor", b.layout+":"+interopTag)
			var desc ocispec.Descriptor
			if err := json.Unmarshal([]byte(r.stdout), &desc); err != nil {
				t.Fatalf("oras manifest fetch --descriptor: %v\n%s", err, r.stdout)
			}
			if desc.Digest != b.digest || desc.Size != int64(len(b.raw)) || desc.MediaType != ocispec.MediaTypeImageManifest {
				t.Errorf("oras descriptor = %s %d %s, want %s %d %s", desc.Digest, desc.Size, desc.MediaType,
					b.digest, len(b.raw), ocispec.MediaTypeImageManifest)
			}
		})
	}
}

// TestInteropORASPull: `oras pull --oci-layout L:tag -o DIR` writes each layer
// under its title. A zstd layer (and a plain tar one) arrives as a file that
// holds the layer blob; a gzip layer of a directory carries ORAS's unpack
// annotations and arrives as the unpacked tree.
func TestInteropORASPull(t *testing.T) {
	requireTool(t, "oras")
	dir, file := interopTree(t, t.TempDir())

	// pullAsBlobs checks that every layer of b arrived as a regular file
	// named by its title holding the layer blob, and nothing else arrived.
	pullAsBlobs := func(t *testing.T, b interopBundle, out string) {
		t.Helper()
		var want []string
		for _, l := range b.manifest.Layers {
			title := l.Annotations[ocispec.AnnotationTitle]
			want = append(want, title)
			p := filepath.Join(out, title)
			info, err := os.Lstat(p)
			if err != nil {
				t.Errorf("layer %s: %v", title, err)
				continue
			}
			if !info.Mode().IsRegular() {
				t.Errorf("%s: mode = %v, want a regular file", p, info.Mode())
				continue
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			interopSameBytes(t, "pulled "+title, got, interopBlob(t, b.layout, l.Digest))
		}
		interopOnlyEntries(t, out, want)
	}

	for _, c := range []string{"zstd", "none"} {
		t.Run(c, func(t *testing.T) {
			b := interopPack(t, c, dir, file)
			out := filepath.Join(t.TempDir(), "out")
			interopPeer(t, "oras", "pull", "--oci-layout", b.layout+":"+interopTag, "-o", out)
			pullAsBlobs(t, b, out)
		})
	}

	t.Run("gzip directory", func(t *testing.T) {
		b := interopPack(t, "gzip", dir)
		out := filepath.Join(t.TempDir(), "out")
		interopPeer(t, "oras", "pull", "--oci-layout", b.layout+":"+interopTag, "-o", out)
		interopOnlyEntries(t, out, []string{"dist"})
		interopCompareTrees(t, filepath.Join(out, "dist"), dir)
	})

	// A single file packed with -c gzip: oras must still be able to pull the
	// bundle. ORAS itself never sets io.deis.oras.content.unpack on a file
	// layer; with it, oras makes DIR/TITLE a directory and then fails to
	// write the tar entry TITLE over it ("open DIR/one.txt: is a
	// directory"), and the whole pull fails. A file layer can only arrive as
	// the file TITLE holding the layer blob, as with zstd.
	t.Run("gzip single file", func(t *testing.T) {
		b := interopPack(t, "gzip", file)
		out := filepath.Join(t.TempDir(), "out")
		interopPeer(t, "oras", "pull", "--oci-layout", b.layout+":"+interopTag, "-o", out)
		pullAsBlobs(t, b, out)
	})

	// The common case: a directory and a file in one gzip bundle.
	t.Run("gzip directory and file", func(t *testing.T) {
		b := interopPack(t, "gzip", dir, file)
		out := filepath.Join(t.TempDir(), "out")
		interopPeer(t, "oras", "pull", "--oci-layout", b.layout+":"+interopTag, "-o", out)
		interopOnlyEntries(t, out, []string{"dist", "one.txt"})
		interopCompareTrees(t, filepath.Join(out, "dist"), dir)
		got, err := os.ReadFile(filepath.Join(out, "one.txt"))
		if err != nil {
			t.Fatalf("pulled one.txt: %v", err)
		}
		interopSameBytes(t, "pulled one.txt", got, interopBlob(t, b.layout, b.manifest.Layers[1].Digest))
	})
}

// interopOnlyEntries fails the test unless the top level of dir holds
// exactly the names in want.
func interopOnlyEntries(t *testing.T, dir string, want []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("entries of %s = %q, want %q", dir, got, want)
	}
}

// TestInteropSkopeo: skopeo reads the manifest as is and copies the bundle
// to another layout without changing its digest.
func TestInteropSkopeo(t *testing.T) {
	requireTool(t, "skopeo")
	dir, file := interopTree(t, t.TempDir())
	for _, c := range []string{"zstd", "gzip"} {
		t.Run(c, func(t *testing.T) {
			b := interopPack(t, c, dir, file)
			r := interopPeer(t, "skopeo", "inspect", "--raw", "oci:"+b.layout+":"+interopTag)
			interopSameBytes(t, "skopeo inspect --raw", []byte(r.stdout), b.raw)

			// (Plain `skopeo inspect` refuses any artifact: "unsupported
			// image-specific operation on artifact with type
			// application/vnd.oci.empty.v1+json". That is skopeo's rule
			// for non-image configs, not a fault of the layout.)
			dst := filepath.Join(t.TempDir(), "copy")
			interopPeer(t, "skopeo", "copy", "oci:"+b.layout+":"+interopTag, "oci:"+dst+":"+interopTag)
			interopCheckCopy(t, b, dst, true)
		})
	}
}

// interopCheckCopy checks that the layout dst, written by a peer from b,
// holds b's manifest (tagged interopTag when tagged is set) with the same
// digest and bytes, and byte-identical config and layer blobs.
func interopCheckCopy(t *testing.T, b interopBundle, dst string, tagged bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dst, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatalf("%s/index.json: %v", dst, err)
	}
	var found bool
	for _, m := range idx.Manifests {
		if tagged && m.Annotations[ocispec.AnnotationRefName] != interopTag {
			continue
		}
		found = true
		if m.Digest != b.digest {
			t.Errorf("copied manifest digest = %s, want %s", m.Digest, b.digest)
		}
	}
	if !found {
		t.Fatalf("%s/index.json has no manifest (tagged %v): %s", dst, tagged, data)
	}
	interopSameBytes(t, "copied manifest", interopBlob(t, dst, b.digest), b.raw)
	for _, d := range append([]ocispec.Descriptor{b.manifest.Config}, b.manifest.Layers...) {
		interopSameBytes(t, "copied blob "+d.Digest.String(), interopBlob(t, dst, d.Digest), interopBlob(t, b.layout, d.Digest))
	}
}

// TestInteropRegctl: regctl reads the manifest, its digest, each blob and the
// artifact's files from the ocidir:// layout, and copies the bundle.
func TestInteropRegctl(t *testing.T) {
	requireTool(t, "regctl")
	dir, file := interopTree(t, t.TempDir())
	for _, c := range []string{"zstd", "gzip"} {
		t.Run(c, func(t *testing.T) {
			b := interopPack(t, c, dir, file)
			ref := "ocidir://" + b.layout + ":" + interopTag

			// --format raw prints the response headers too; raw-body is the
			// original manifest.
			r := interopPeer(t, "regctl", "manifest", "get", ref, "--format", "raw-body")
			interopSameBytes(t, "regctl manifest get --format raw-body", []byte(r.stdout), b.raw)

			r = interopPeer(t, "regctl", "manifest", "head", ref)
			if got := strings.TrimSpace(r.stdout); got != b.digest.String() {
				t.Errorf("regctl manifest head = %q, want %q", got, b.digest)
			}
			r = interopPeer(t, "regctl", "image", "digest", ref)
			if got := strings.TrimSpace(r.stdout); got != b.digest.String() {
				t.Errorf("regctl image digest = %q, want %q", got, b.digest)
			}
			r = interopPeer(t, "regctl", "tag", "ls", "ocidir://"+b.layout)
			if got := strings.Fields(r.stdout); !slices.Equal(got, []string{interopTag}) {
				t.Errorf("regctl tag ls = %q, want [%q]", got, interopTag)
			}

			for _, l := range b.manifest.Layers {
				r := interopPeer(t, "regctl", "blob", "get", "ocidir://"+b.layout, l.Digest.String())
				interopSameBytes(t, "regctl blob get "+l.Digest.String(), []byte(r.stdout), interopBlob(t, b.layout, l.Digest))
			}

			// artifact get writes each layer under its title, into a
			// directory that must exist. A layer with ORAS's unpack
			// annotation (our gzip layers) is extracted into the directory
			// OUT/TITLE/ with the tar's own names (so OUT/dist/dist/a.txt, as
			// regctl does with ORAS's own directory artifacts), regular
			// files and directories only: regctl skips symlinks and hard
			// links and does not restore modes.
			out := t.TempDir()
			interopPeer(t, "regctl", "artifact", "get", ref, "--output", out)
			var titles []string
			for _, l := range b.manifest.Layers {
				title := l.Annotations[ocispec.AnnotationTitle]
				titles = append(titles, title)
				if l.Annotations["io.deis.oras.content.unpack"] == "true" {
					interopCheckExtracted(t, filepath.Join(out, title), b.sources[title])
					continue
				}
				got, err := os.ReadFile(filepath.Join(out, title))
				if err != nil {
					t.Errorf("regctl artifact get: %v", err)
					continue
				}
				interopSameBytes(t, "regctl artifact get: "+title, got, interopBlob(t, b.layout, l.Digest))
			}
			interopOnlyEntries(t, out, titles)

			dst := filepath.Join(t.TempDir(), "copy")
			interopPeer(t, "regctl", "image", "copy", ref, "ocidir://"+dst+":"+interopTag)
			interopCheckCopy(t, b, dst, true)
		})
	}
}

// interopCheckExtracted checks that every regular file stored in the layer
// packed from arg (the first of a set of hard links; the others are tar hard
// links) was extracted below dir under its tar name with its content.
func interopCheckExtracted(t *testing.T, dir, arg string) {
	t.Helper()
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	n := 0
	err := filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			key := inode{uint64(st.Dev), uint64(st.Ino)}
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		rel, err := filepath.Rel(filepath.Dir(arg), p)
		if err != nil {
			return err
		}
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Errorf("extracted %s: %v", rel, err)
			return nil
		}
		n++
		interopSameBytes(t, "extracted "+rel, got, want)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", arg, err)
	}
	if n == 0 {
		t.Errorf("no regular file of %s was extracted below %s", arg, dir)
	}
}

// TestInteropCrane: crane has no command that reads a local OCI layout
// except `crane push PATH`, so the bundle goes through crane's own
// in-memory registry (`crane registry serve`) and comes back with
// `crane pull --format oci`.
func TestInteropCrane(t *testing.T) {
	crane := requireTool(t, "crane")
	dir, file := interopTree(t, t.TempDir())
	host := interopCraneRegistry(t, crane)
	for _, c := range []string{"zstd", "gzip"} {
		t.Run(c, func(t *testing.T) {
			b := interopPack(t, c, dir, file)
			ref := host + "/bundle-" + c + ":" + interopTag

			r := interopPeer(t, "crane", "push", b.layout, ref)
			if got, want := strings.TrimSpace(r.stdout), host+"/bundle-"+c+"@"+b.digest.String(); got != want {
				t.Errorf("crane push printed %q, want %q", got, want)
			}
			r = interopPeer(t, "crane", "digest", ref)
			if got := strings.TrimSpace(r.stdout); got != b.digest.String() {
				t.Errorf("crane digest = %q, want %q", got, b.digest)
			}
			r = interopPeer(t, "crane", "manifest", ref)
			interopSameBytes(t, "crane manifest", []byte(r.stdout), b.raw)
			for _, l := range b.manifest.Layers {
				r := interopPeer(t, "crane", "blob", host+"/bundle-"+c+"@"+l.Digest.String())
				interopSameBytes(t, "crane blob "+l.Digest.String(), []byte(r.stdout), interopBlob(t, b.layout, l.Digest))
			}
			// Full validation needs an image config with diff_ids, which an
			// artifact does not have; --fast checks the manifest and the
			// config blob.
			r = interopPeer(t, "crane", "validate", "--fast", "--remote", ref)
			if !strings.HasPrefix(r.stdout, "PASS") {
				t.Errorf("crane validate --fast = %q, want PASS", r.stdout)
			}

			dst := filepath.Join(t.TempDir(), "pulled")
			interopPeer(t, "crane", "pull", "--format", "oci", ref, dst)
			interopCheckCopy(t, b, dst, false)
		})
	}
}

// interopCraneRegistry starts `crane registry serve` on a free loopback
// port, stops it when the test ends, and returns its host:port.
func interopCraneRegistry(t *testing.T, crane string) string {
	t.Helper()
	cmd := exec.Command(crane, "registry", "serve", "--address", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("crane registry serve: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`serving on port (\d+)`)
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() { // keep draining so the server never blocks on stderr
			if m := re.FindStringSubmatch(sc.Text()); m != nil && !sent {
				port <- m[1]
				sent = true
			}
		}
	}()
	select {
	case p := <-port:
		return "127.0.0.1:" + p
	case <-time.After(30 * time.Second):
		t.Fatal("crane registry serve: no \"serving on port\" line within 30s")
	}
	return ""
}

// TestInteropUmoci: umoci lists the bundle's tag. (umoci's image commands
// such as `umoci stat` need an image config and refuse an artifact's empty
// config, which is not a fault of the layout.)
func TestInteropUmoci(t *testing.T) {
	requireTool(t, "umoci")
	dir, file := interopTree(t, t.TempDir())
	b := interopPack(t, "zstd", dir, file)
	r := interopPeer(t, "umoci", "ls", "--layout", b.layout)
	if got := strings.Fields(r.stdout); !slices.Equal(got, []string{interopTag}) {
		t.Errorf("umoci ls = %q, want [%q]", got, interopTag)
	}
}

// TestInteropDecompressTar: the stock decompressors turn every layer back
// into the tar pack hashed (sha256 and length equal the layer's
// io.ocibundle.content.digest and .size annotations), and GNU tar lists the
// expected entries in walk order, owned by 0/0, with the source's modes.
func TestInteropDecompressTar(t *testing.T) {
	requireTool(t, "tar")
	dir, file := interopTree(t, t.TempDir())
	for _, tc := range []struct {
		compression string
		tool        string // the stock decompressor; "" for plain tar
		mediaType   string
	}{
		{"zstd", "zstd", ocispec.MediaTypeImageLayerZstd},
		{"gzip", "gzip", ocispec.MediaTypeImageLayerGzip},
		{"none", "", ocispec.MediaTypeImageLayer},
	} {
		t.Run(tc.compression, func(t *testing.T) {
			if tc.tool != "" {
				requireTool(t, tc.tool)
			}
			b := interopPack(t, tc.compression, dir, file)
			for _, l := range b.manifest.Layers {
				title := l.Annotations[ocispec.AnnotationTitle]
				t.Run(title, func(t *testing.T) {
					if l.MediaType != tc.mediaType {
						t.Errorf("layer mediaType = %q, want %q", l.MediaType, tc.mediaType)
					}
					blob := filepath.Join(b.layout, "blobs", "sha256", l.Digest.Encoded())
					tarFile := blob
					if tc.tool != "" {
						r := interopPeer(t, tc.tool, "-d", "-c", blob)
						tarFile = filepath.Join(t.TempDir(), "layer.tar")
						if err := os.WriteFile(tarFile, []byte(r.stdout), 0o644); err != nil {
							t.Fatal(err)
						}
					}
					data, err := os.ReadFile(tarFile)
					if err != nil {
						t.Fatal(err)
					}
					if got, want := digest.FromBytes(data).String(), l.Annotations["io.ocibundle.content.digest"]; got != want {
						t.Errorf("sha256(%s -d) = %s, want %s (io.ocibundle.content.digest)", tc.tool, got, want)
					}
					if got, want := strconv.Itoa(len(data)), l.Annotations["io.ocibundle.content.size"]; got != want {
						t.Errorf("len(%s -d) = %s, want %s (io.ocibundle.content.size)", tc.tool, got, want)
					}
					// ORAS's annotations: required on a gzip directory layer
					// (oras pull unpacks it), and where present the digest
					// must be the uncompressed tar's, which oras checks.
					oras, hasORAS := l.Annotations["io.deis.oras.content.digest"]
					if info, err := os.Stat(b.sources[title]); err == nil && info.IsDir() && tc.compression == "gzip" {
						if got := l.Annotations["io.deis.oras.content.unpack"]; got != "true" || !hasORAS {
							t.Errorf("gzip directory layer: io.deis.oras.content.unpack = %q (digest present %v), want \"true\" with the digest", got, hasORAS)
						}
					}
					if want := digest.FromBytes(data).String(); hasORAS && oras != want {
						t.Errorf("io.deis.oras.content.digest = %s, want %s", oras, want)
					}
					interopCheckTar(t, tarFile, b.sources[title], l)
				})
			}
		})
	}
}

// interopCheckTar lists tarFile with GNU tar and compares the entries with
// the source tree at arg.
func interopCheckTar(t *testing.T, tarFile, arg string, l ocispec.Descriptor) {
	t.Helper()
	wantNames, modes, files := interopWantEntries(t, arg)
	if got, want := l.Annotations["io.ocibundle.content.files"], strconv.Itoa(files); got != want {
		t.Errorf("io.ocibundle.content.files = %s, want %s", got, want)
	}
	// Literal quoting: GNU tar would escape the unicode name in the C locale.
	r := interopPeer(t, "tar", "--quoting-style=literal", "-t", "-f", tarFile)
	names := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if !slices.Equal(names, wantNames) {
		t.Errorf("tar -t =\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(wantNames, "\n"))
	}
	r = interopPeer(t, "tar", "--quoting-style=literal", "--numeric-owner", "-t", "-v", "-f", tarFile)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(names) {
		t.Fatalf("tar -tv printed %d lines, tar -t %d names", len(lines), len(names))
	}
	hardlinks := 0
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Errorf("tar -tv line %q: want at least 6 fields", line)
			continue
		}
		if f[1] != "0/0" {
			t.Errorf("%s: uid/gid = %s, want 0/0", names[i], f[1])
		}
		mode, ok := modes[names[i]]
		if !ok {
			continue // already reported as an unexpected name
		}
		want := mode.String()
		switch {
		case mode&fs.ModeSymlink != 0:
			want = "l" + want[1:] // Go writes L, tar l
		case mode.IsDir():
			want = "d" + want[1:]
		}
		if f[0][0] == 'h' { // a hard link to an earlier entry: a regular file on disk
			hardlinks++
			want = "h" + want[1:]
		}
		if f[0] != want {
			t.Errorf("%s: tar mode = %s, want %s", names[i], f[0], want)
		}
		if mode&fs.ModeSymlink != 0 {
			target, err := os.Readlink(filepath.Join(filepath.Dir(arg), filepath.FromSlash(names[i])))
			if err != nil {
				t.Fatal(err)
			}
			if got := f[len(f)-1]; f[len(f)-2] != "->" || got != target {
				t.Errorf("%s: tar -tv symlink = %q, want target %q", names[i], line, target)
			}
		}
	}
	if filepath.Base(arg) == "dist" && hardlinks != 1 {
		t.Errorf("hard link entries in dist = %d, want 1 (sub/hard.txt is a hard link to a.txt)", hardlinks)
	}
}
