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
	"github.com/ocibundle/ocibundle/layer"
)

// Bounds of the deep checks, so that memory stays bounded whatever the
// layer holds.
const (
	// maxTracked caps the tar paths remembered per layer for the duplicate
	// and link checks.
	maxTracked = 1 << 20
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
	problems []problem      // of the stream, whatever kind of layer it is
	// readings are the judge's findings, read as an image layer [0] and as
	// an artifact layer [1]; tops are for the artifact's title rule.
	readings [2]reading
	tops     tops
	// summary is the image reading's, for the checks of an image's layers
	// together (when the blob is known to be an image layer).
	summary *layer.Summary
	// headers are the tar's entries, for the checks of an artifact's
	// layers together (when the blob is known to be a layer of an artifact
	// whose titles nest; nil past maxTracked entries).
	headers []*tar.Header
}

func (l *layerResult) add(code Code, sev Severity, format string, args ...any) {
	l.problems = addCapped(l.problems, problem{code, sev, fmt.Sprintf(format, args...)})
}

// addCapped appends p unless maxReported problems are listed already.
func addCapped(ps []problem, p problem) []problem {
	if len(ps) == maxReported {
		return append(ps, problem{DeepLimit, Warning, "more problems in this layer are not listed"})
	}
	if len(ps) > maxReported {
		return ps
	}
	return append(ps, p)
}

// judged returns the judge's findings for the layer read as an image
// layer, or as an artifact layer titled title.
func (l *layerResult) judged(image bool, title string) []problem {
	if image {
		return l.readings[0].problems
	}
	ps := l.readings[1].problems
	if title != "" {
		if p := l.tops.scopeProblem(title); p != nil {
			ps = append([]problem{*p}, ps...)
		}
	}
	return ps
}

// inspectLayer decompresses r with codec, hashes the uncompressed stream
// and judges its tar entries. It reads r no further than the decoder does;
// the caller drains the rest.
func inspectLayer(ctx context.Context, r io.Reader, codec compress.Codec, deep deepScan) *layerResult {
	res := &layerResult{codec: codec}
	dec, err := compress.NewReader(r, codec)
	if err != nil {
		res.add(LayerCorrupt, Error, "%s: %v", codec, err)
		return res
	}
	defer dec.Close()
	h := digest.SHA256.Digester()
	// cr remembers the decoder's first error other than io.EOF, and stops
	// at the limit: a decompression bomb is not read further.
	cr := countio.NewReader(dec, countio.WithTee(h.Hash()), countio.WithLimit(deep.limit, layer.ErrTooLarge))
	ended := checkTar(ctx, cr, res, deep)
	// The tar ends with zero blocks, and may be padded with more zeros; any
	// other byte after its end is data that extractors silently drop.
	if nonzero, err := drainZeros(cr); err == nil && nonzero > 0 && ended {
		res.add(TarCorrupt, Error, "%d bytes of data after the end of the tar", nonzero)
	}
	over := deep.limit >= 0 && cr.N() > deep.limit
	if cr.Err() != nil || over {
		// The tar reader saw the decoder's error (or the limit) too;
		// report it once.
		kept := res.problems[:0]
		for _, p := range res.problems {
			if p.code != TarCorrupt {
				kept = append(kept, p)
			}
		}
		res.problems = kept
		switch {
		case cr.Err() != nil:
			res.add(LayerCorrupt, Error, "%s: %v", codec, cr.Err())
		case deep.declared:
			res.add(ContentSizeMismatch, Error, "decompresses to more than the %d bytes %s says: not read further", deep.limit, deep.why)
		default:
			res.add(LayerTooLarge, Error, "decompresses to more than %d bytes, %s: not read further", deep.limit, deep.why)
		}
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

// checkTar reads every entry of the tar in r and asks the layer judge
// about each, twice: as an image layer and as an artifact layer (an
// archive's layers may stream before the manifest that says which they
// are; checkLayer picks one). It reports whether it read the tar to its
// end.
func checkTar(ctx context.Context, r io.Reader, res *layerResult, deep deepScan) bool {
	tr := tar.NewReader(r)
	res.readings = [2]reading{{image: true}, {}}
	if deep.headers {
		res.headers = []*tar.Header{}
	}
	judges := [2]*layer.Judge{}
	for i := range judges {
		judges[i] = layer.NewJudge(layer.Options{
			Image: res.readings[i].image, InferScope: !res.readings[i].image,
			AllowOutsideLinks: deep.allowOutside, MaxSize: -1, MaxTracked: maxTracked,
			Summarize: res.readings[i].image && deep.image,
		}, nil)
	}
	names := layer.NewNames(layer.PortableNames, nil, maxTracked)
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return false
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.add(TarCorrupt, Error, "the tar does not read to its end: after %d entries: %v", n, err)
			return false
		}
		for i, j := range judges {
			rd := &res.readings[i]
			e, err := j.Entry(hdr)
			switch {
			case err != nil:
				rd.refused(err)
			case e.Kept != nil:
				rd.add(TarLinkEscapes, Warning, "%s (kept: --allow-outside-links)", e.Kept)
			}
		}
		res.portability(names, hdr.Name)
		res.tops.note(hdr.Name)
		res.keepHeader(hdr)
		if layer.IsSparse(hdr) {
			continue // its holes would read as zeros, up to any size it claims
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			res.add(TarCorrupt, Error, "the tar does not read to its end: entry %q: %v", hdr.Name, err)
			return false
		}
	}
	res.summary = judges[0].Summary()
	for i, j := range judges {
		for _, r := range j.Finish() {
			res.readings[i].refused(r)
		}
		if j.Limited() {
			res.readings[i].add(DeepLimit, Warning, "more than %d entries: later ones are not checked for duplicates or links", maxTracked)
		}
	}
	return true
}

// portability warns about the entry raw when Windows or macOS cannot hold
// its name apart from the layer's other names (extract there refuses it).
// A whiteout is no name of the tree, and a name the judge refuses is
// reported already.
func (l *layerResult) portability(names *layer.Names, raw string) {
	name, why := layer.Clean(raw)
	if why != "" || strings.HasPrefix(path.Base(name), ".wh.") {
		return
	}
	if p := names.Add(name); p != nil {
		l.add(portabilityCode(p), Warning, "%s: %s", raw, p.Reason)
	}
}

// portabilityCode is the finding code of a name problem.
func portabilityCode(p *layer.NameProblem) Code {
	if p.Other != "" {
		return TarNameCollision
	}
	return TarNameUnportable
}

// keepHeader keeps what the judge reads of hdr, when headers are kept,
// until there are maxTracked (then none are).
func (l *layerResult) keepHeader(hdr *tar.Header) {
	if l.headers == nil {
		return
	}
	if len(l.headers) == maxTracked {
		l.headers = nil
		return
	}
	l.headers = append(l.headers, &tar.Header{Name: hdr.Name, Typeflag: hdr.Typeflag, Linkname: hdr.Linkname, Size: hdr.Size})
}

// reading is what the judge found in a layer read as an image layer or as
// an artifact layer.
type reading struct {
	image    bool
	problems []problem
}

func (rd *reading) add(code Code, sev Severity, format string, args ...any) {
	rd.problems = addCapped(rd.problems, problem{code, sev, fmt.Sprintf(format, args...)})
}

// refused records a refusal of the judge, with the code of its kind.
func (rd *reading) refused(err error) {
	var r *layer.Refusal
	if !errors.As(err, &r) {
		rd.add(TarUnsafePath, Error, "%v", err)
		return
	}
	rd.add(refusalCodes[r.Kind], refusalSeverity(r.Kind), "%s", r)
}

// refusalSeverity is the severity of a refusal of the judge's: an error,
// but a portability warning for a name Windows or macOS cannot hold.
func refusalSeverity(k layer.Kind) Severity {
	if k == layer.Unportable {
		return Warning
	}
	return Error
}

// refusalCodes maps the judge's reason kinds to finding codes.
var refusalCodes = map[layer.Kind]Code{
	layer.UnsafeName:  TarUnsafePath,
	layer.Duplicate:   TarDuplicate,
	layer.LinkEscapes: TarLinkEscapes,
	layer.Device:      TarDevice,
	layer.SpecialFile: TarSpecialFile,
	layer.TooLarge:    TarUnsafePath,
	layer.Unportable:  TarNameCollision, // CheckImage's: across an image's layers
}

// tops remembers the first entry of each top-level name of a layer (up to
// maxTops), so that checkLayer can hold an artifact's entries to its title
// once it knows the title.
type tops []top

type top struct{ first, name string } // top-level name, first entry below it

const maxTops = 16

func (t *tops) note(name string) {
	if len(*t) >= maxTops {
		return
	}
	clean, why := layer.Clean(name)
	if why != "" || clean == "" {
		return
	}
	first, _, _ := strings.Cut(clean, "/")
	for _, e := range *t {
		if e.first == first {
			return
		}
	}
	*t = append(*t, top{first, name})
}

// scopeProblem is the judge's refusal of the first entry outside title.
func (t tops) scopeProblem(title string) *problem {
	for _, e := range t {
		clean, _ := layer.Clean(e.name)
		if err := layer.InScope(e.name, clean, title); err != nil {
			return &problem{TarUnsafePath, Error, err.Error()}
		}
	}
	return nil
}
