package verify

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layout"
)

// Bounds of the deep checks, so that memory stays bounded whatever the
// layer holds.
const (
	// maxTracked caps the tar paths remembered per layer for the duplicate
	// and link checks.
	maxTracked = 1 << 20
	// maxTrackedBytes caps the bytes of those paths.
	maxTrackedBytes = 64 << 20
	// maxHops caps the symlinks followed to resolve one path.
	maxHops = 255
	// maxReported caps the tar findings per layer.
	maxReported = 100
)

// problem is a finding about a layer's content, located at the blob.
type problem struct {
	code    Code
	sev     Severity
	message string
}

// layerResult is what decompressing one layer learned.
type layerResult struct {
	codec    compress.Codec // the codec its bytes are in (by magic number)
	diffID   digest.Digest  // sha256 of the uncompressed stream
	size     int64          // bytes of the uncompressed stream
	complete bool           // the stream decompressed to its end without error
	problems []problem
}

func (l *layerResult) add(code Code, sev Severity, format string, args ...any) {
	if len(l.problems) == maxReported {
		l.problems = append(l.problems, problem{DeepLimit, Warning, "more problems in this layer are not listed"})
	}
	if len(l.problems) > maxReported {
		return
	}
	l.problems = append(l.problems, problem{code, sev, fmt.Sprintf(format, args...)})
}

// inspectLayer decompresses r with codec, hashes the uncompressed stream
// and judges its tar entries. It reads r no further than the decoder does;
// the caller drains the rest.
func inspectLayer(ctx context.Context, r io.Reader, codec compress.Codec) *layerResult {
	res := &layerResult{codec: codec}
	dec, err := compress.NewReader(r, codec)
	if err != nil {
		res.add(LayerCorrupt, Error, "%s: %v", codec, err)
		return res
	}
	defer dec.Close()
	h := digest.SHA256.Digester()
	// cr remembers the decoder's first error other than io.EOF.
	cr := countio.NewReader(dec, countio.WithTee(h.Hash()))
	ended := checkTar(ctx, cr, res)
	// The tar ends with zero blocks, and may be padded with more zeros; any
	// other byte after its end is data that extractors silently drop.
	if nonzero, err := drainZeros(cr); err == nil && nonzero > 0 && ended {
		res.add(TarCorrupt, Error, "%d bytes of data after the end of the tar", nonzero)
	}
	if cr.Err() != nil {
		// The tar reader saw the decoder's error too; report it once.
		kept := res.problems[:0]
		for _, p := range res.problems {
			if p.code != TarCorrupt {
				kept = append(kept, p)
			}
		}
		res.problems = kept
		res.add(LayerCorrupt, Error, "%s: %v", codec, cr.Err())
		return res
	}
	res.diffID, res.size, res.complete = h.Digest(), cr.N(), ctx.Err() == nil
	return res
}

// drainZeros reads r to its end and counts the bytes that are not zero.
func drainZeros(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var nonzero int64
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				nonzero++
			}
		}
		if errors.Is(err, io.EOF) {
			return nonzero, nil
		}
		if err != nil {
			return nonzero, err
		}
	}
}

// tarState is what checkTar remembers of the entries seen so far.
type tarState struct {
	seen    map[string]struct{}
	links   map[string]string // symlink path → target
	bytes   int
	limited bool
}

// checkTar reads every entry of the tar in r and reports duplicates, unsafe
// names, links that escape the layer, and device nodes. It reports whether
// it read the tar to its end.
func checkTar(ctx context.Context, r io.Reader, res *layerResult) bool {
	tr := tar.NewReader(r)
	st := &tarState{seen: map[string]struct{}{}, links: map[string]string{}}
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return false
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			res.add(TarCorrupt, Error, "the tar does not read to its end: after %d entries: %v", n, err)
			return false
		}
		st.entry(hdr, res)
		if layout.IsSparse(hdr) {
			continue // its holes would read as zeros, up to any size it claims
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			res.add(TarCorrupt, Error, "the tar does not read to its end: entry %q: %v", hdr.Name, err)
			return false
		}
	}
}

func (st *tarState) entry(hdr *tar.Header, res *layerResult) {
	name := hdr.Name
	if unsafeName(name) {
		res.add(TarUnsafePath, Error, "entry %q: absolute or with \"..\"", name)
		return
	}
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if clean == "." || clean == "" {
		return // the layer's root directory
	}
	if _, dup := st.seen[clean]; dup {
		res.add(TarDuplicate, Error, "entry %q appears more than once", name)
	} else if len(st.seen) < maxTracked && st.bytes+len(clean) <= maxTrackedBytes {
		st.seen[clean] = struct{}{}
		st.bytes += len(clean)
	} else if !st.limited {
		st.limited = true
		res.add(DeepLimit, Warning, "more than %d entries or %d bytes of names: later ones are not checked for duplicates or links", maxTracked, maxTrackedBytes)
	}
	if dir := path.Dir(clean); dir != "." && !st.resolves(dir) {
		res.add(TarLinkEscapes, Error, "entry %q is reached through a symlink that leaves the layer", name)
	}
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		target := hdr.Linkname
		full := target
		if !strings.HasPrefix(target, "/") {
			full = path.Dir(clean) + "/" + target
		}
		if target == "" || !st.resolves(full) {
			res.add(TarLinkEscapes, Error, "symlink %q → %q leaves the layer", name, target)
		}
		if !st.limited {
			st.links[clean] = full
		}
	case tar.TypeLink:
		if unsafeName(hdr.Linkname) || !st.resolves(path.Clean(strings.TrimPrefix(hdr.Linkname, "./"))) {
			res.add(TarLinkEscapes, Error, "hard link %q → %q leaves the layer", name, hdr.Linkname)
		}
	case tar.TypeChar, tar.TypeBlock:
		res.add(TarDevice, Error, "entry %q is a device node", name)
	case tar.TypeFifo:
		res.add(TarSpecialFile, Warning, "entry %q is a FIFO", name)
	case tar.TypeReg, tar.TypeDir, tar.TypeGNUSparse:
	default:
		res.add(TarSpecialFile, Warning, "entry %q has unknown type %q", name, hdr.Typeflag)
	}
}

// unsafeName reports a tar name that is absolute or has a ".." element.
func unsafeName(name string) bool {
	if strings.HasPrefix(name, "/") {
		return true
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return true
		}
	}
	return false
}

// resolves reports whether the slash path p (relative to the layer root;
// an absolute path starts at the root, as in a container) stays inside the
// layer when the symlinks seen so far are followed.
func (st *tarState) resolves(p string) bool {
	var stack []string
	parts := strings.Split(p, "/")
	hops := 0
	for len(parts) > 0 {
		el := parts[0]
		parts = parts[1:]
		switch el {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return false
			}
			stack = stack[:len(stack)-1]
			continue
		}
		cur := strings.Join(append(stack, el), "/")
		target, isLink := st.links[cur]
		if !isLink {
			stack = append(stack, el)
			continue
		}
		if hops++; hops > maxHops {
			return false
		}
		// links holds targets already joined to their directory.
		stack = stack[:0]
		parts = append(strings.Split(target, "/"), parts...)
	}
	return true
}
