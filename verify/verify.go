package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
	"github.com/ocibundle/ocibundle/signature"
)

// Options are the knobs of Verify. The zero value verifies structure,
// content and graph.
type Options struct {
	// Strict makes unknown digest algorithms errors and unreferenced blobs
	// warnings.
	Strict bool
	// AllowMissing makes a referenced blob that is missing a warning: the
	// spec allows content kept elsewhere, an air-gapped bundle does not.
	AllowMissing bool
	// Deep decompresses every tar layer and checks its content.
	Deep bool
	// AllowOutsideLinks makes a symlink of a layer whose target leaves the
	// layer a warning instead of an error (extract --allow-outside-links
	// writes such links).
	AllowOutsideLinks bool
	// MaxLayerSize caps, in bytes, the uncompressed tar --deep reads of a
	// layer without io.ocibundle.content.size (0: the default cap;
	// layer.ContentLimit). A layer that passes it, or its declared size, is
	// not read further: LAYER_TOO_LARGE, or CONTENT_SIZE_MISMATCH.
	MaxLayerSize int64
	// Digest, when set, is the manifest digest the target bundle must have.
	Digest string
	// Progress receives the bytes hashed (label "verify"); nil shows
	// nothing.
	Progress progress.Progress
	// Stdin is the archive read for the target "-" (os.Stdin when nil).
	Stdin io.Reader
	// Trust is what signatures are judged against (package signature): the
	// zero value lists the signatures of each bundle (SIGNATURE_SEEN);
	// trust for a format judges that format's signatures, and a bundle
	// with no signature the trust accepts is SIGNATURE_MISSING.
	Trust signature.Trust
	// Hashed names blobs the caller has just hashed against their digests
	// (import and pull ingest every blob verified): VerifyGraph reads only
	// the documents among them, and no layer twice.
	Hashed map[digest.Digest]bool
	// Base is a layout directory that holds the blobs an archive target
	// leaves out (a delta's base, `verify --base`): each blob the archive
	// does not hold is checked there, present with its size and re-hashed.
	// With a layout directory target it is ErrBadOption.
	Base string
	// Inventory fills Report.Held and Report.Tags.
	Inventory bool
}

// Verify audits target: a layout directory (every bundle in it), LAYOUT:TAG
// or LAYOUT@DIGEST (one bundle's graph), an archive file, or "-" (an archive
// on Options.Stdin). It reads the target only. Content problems are findings
// in the Report; the error is for a target that cannot be read (operational)
// and for a malformed target or option (wrapping ErrBadTarget or
// ErrBadOption).
func Verify(ctx context.Context, target string, opts Options) (*Report, error) {
	start := time.Now()
	c, err := newRun(target, opts)
	if err != nil {
		return nil, err
	}
	if target == "-" {
		in := opts.Stdin
		if in == nil {
			in = os.Stdin
		}
		if err := c.verifyArchive(ctx, in, layout.Reference{Path: "-"}); err != nil {
			return nil, fmt.Errorf("-: %w", err)
		}
		c.finalize()
		c.rep.finish(time.Since(start))
		return c.rep, nil
	}
	ref, err := layout.ParseReference(target)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTarget, err)
	}
	fi, err := os.Stat(ref.Path)
	if err != nil {
		return nil, layout.PathErr(ref.Path, err)
	}
	switch {
	case fi.IsDir() && opts.Base != "":
		return nil, fmt.Errorf("--base: %w: %s is a layout, not an archive: it must hold its blobs itself", ErrBadOption, ref.Path)
	case fi.IsDir():
		err = c.verifyDir(ctx, ref)
	case fi.Mode().IsRegular():
		var f *os.File
		if f, err = os.Open(ref.Path); err == nil {
			err = c.verifyArchive(ctx, f, ref)
			f.Close()
		} else {
			err = layout.PathErr(ref.Path, err)
		}
	default:
		return nil, fmt.Errorf("%s: %w: a %s, not a layout directory or archive file", ref.Path, ErrBadTarget, layer.KindOf(fi.Mode()))
	}
	if err != nil {
		return nil, err
	}
	c.finalize()
	c.rep.finish(time.Since(start))
	return c.rep, nil
}

// VerifyArchive audits the archive read from r, as Verify does for an
// archive file; name is the target named in the report.
func VerifyArchive(ctx context.Context, r io.Reader, name string, opts Options) (*Report, error) {
	start := time.Now()
	c, err := newRun(name, opts)
	if err != nil {
		return nil, err
	}
	if err := c.verifyArchive(ctx, r, layout.Reference{Path: name}); err != nil {
		return nil, err
	}
	c.finalize()
	c.rep.finish(time.Since(start))
	return c.rep, nil
}

// VerifyGraph audits the graph that index, an index.json document that is
// not (yet) the layout's, names in the layout directory root: every rule
// verify applies to LAYOUT:TAG, for each of index's entries, and every blob
// of the graph present with its size and digest (blobs in opts.Hashed are
// taken as hashed). Import and pull check what they are about to name with
// it. name is the target named in the report.
func VerifyGraph(ctx context.Context, root string, index []byte, name string, opts Options) (*Report, error) {
	start := time.Now()
	c, err := newRun(name, opts)
	if err != nil {
		return nil, err
	}
	c.src = &dirSource{root: root, c: c}
	if err := c.checkGraph(ctx, topFile{name: layout.IndexFile, data: index}, layout.Reference{Path: root}); err != nil {
		return nil, err
	}
	c.whole = false // other bundles of the layout are not this graph's
	if c.fatal != nil {
		return nil, c.fatal
	}
	if err := c.hashAll(ctx, root); err != nil {
		return nil, err
	}
	c.finalize()
	c.rep.finish(time.Since(start))
	return c.rep, nil
}

// newRun checks the options and returns the checker of one run.
func newRun(target string, opts Options) (*checker, error) {
	c := newChecker(target, opts)
	if opts.Digest != "" {
		d := digest.Digest(opts.Digest)
		if err := layout.ValidateDigest(d); err != nil {
			return nil, fmt.Errorf("--digest: %w: %w", ErrBadOption, err)
		}
		c.pin = d
	}
	if opts.Base != "" {
		fi, err := os.Stat(opts.Base)
		if err != nil {
			return nil, fmt.Errorf("--base: %w", layout.PathErr(opts.Base, err))
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("--base: %s: %w: not a layout directory", opts.Base, ErrBadOption)
		}
	}
	return c, nil
}

// topProblem reports a top-level file that cannot be used; it returns an
// error only for operational failures.
func (c *checker) topProblem(t topFile, missing Code) (bool, error) {
	switch {
	case t.missing && t.refused:
	case t.missing:
		c.add(missing, Error, t.name, "", "%s is missing", t.name)
	case errors.Is(t.problem, layout.ErrNotRegular):
		c.add(NotRegularFile, Error, t.name, "", "%s must be a regular file: %v", t.name, t.problem)
	case errors.Is(t.problem, layout.ErrTooLarge):
		c.add(TooLarge, Error, t.name, "", "%s is larger than %d bytes", t.name, layout.MaxDocumentSize)
	case t.problem != nil:
		return true, fmt.Errorf("%s: %w", t.name, t.problem)
	default:
		return false, nil
	}
	return true, nil
}

// checkLayoutFile checks oci-layout: {"imageLayoutVersion": "1.0.0"}.
func (c *checker) checkLayoutFile(t topFile) error {
	if bad, err := c.topProblem(t, LayoutMissing); bad {
		return err
	}
	obj := c.parseObject(t.name, t.data)
	if obj == nil {
		return nil
	}
	if v, ok := asString(obj["imageLayoutVersion"]); !ok || v != ocispec.ImageLayoutVersion {
		c.add(BadLayoutVersion, Error, t.name, "/imageLayoutVersion", "imageLayoutVersion is %s, not \"1.0.0\"", brief(obj["imageLayoutVersion"]))
	}
	return nil
}

// checkGraph checks index.json, walks the graph from the bundles the
// reference selects, and checks the pin.
func (c *checker) checkGraph(ctx context.Context, t topFile, ref layout.Reference) error {
	c.whole = ref.Tag == "" && ref.Digest == ""
	if bad, err := c.topProblem(t, IndexMissing); bad {
		c.incomplete = true
		return err
	}
	entries := c.checkRootIndex(t.name, t.data)
	var roots []rootEntry
	for _, e := range entries {
		switch {
		case !e.usable:
		case ref.Tag != "" && e.desc.Annotations[ocispec.AnnotationRefName] != ref.Tag:
		case ref.Digest != "" && e.desc.Digest != ref.Digest:
		default:
			roots = append(roots, e)
		}
	}
	if len(roots) == 0 && ref.Tag != "" {
		c.add(TagNotFound, Error, t.name, "/manifests", "no entry has the tag %q", ref.Tag)
	}
	if len(roots) == 0 && ref.Digest != "" {
		// A manifest nested in an index: reachable only through blobs/.
		if e, ok := c.nestedRoot(ctx, ref.Digest); ok {
			roots = append(roots, e)
		}
	}
	c.countBundles(roots)
	for _, e := range roots {
		c.walk(ctx, e.desc, t.name, e.ptr, 1, c.missingSeverity())
	}
	if !c.whole {
		c.walkReferrers(ctx, t.name, entries)
	}
	c.checkPin(t.name, roots)
	c.entries, c.roots = entries, roots
	return context.Cause(ctx)
}

// countBundles sets the bundle count as ls and docs/json.md count bundles:
// the index.json entries of the whole layout (a tag each; an index of
// several manifests is one), or the one bundle a tag or digest names.
func (c *checker) countBundles(roots []rootEntry) {
	if c.whole {
		c.rep.Summary.Bundles = len(roots)
		return
	}
	distinct := map[digest.Digest]bool{}
	for _, e := range roots {
		distinct[e.desc.Digest] = true
	}
	c.rep.Summary.Bundles = len(distinct)
}

// nestedRoot builds the root for LAYOUT@DIGEST when index.json does not
// list the digest: the blob itself, its media type from the document.
func (c *checker) nestedRoot(ctx context.Context, d digest.Digest) (rootEntry, bool) {
	b := c.blob(d)
	if !b.exists {
		c.add(DigestNotFound, Error, b.loc, "", "%s, the target, is not in the layout", d)
		return rootEntry{}, false
	}
	desc := ocispec.Descriptor{Digest: d, Size: b.size}
	if data := c.document(ctx, b, "target", ""); data != nil {
		if obj := c.parseObject(b.loc, data); obj != nil {
			desc.MediaType, _ = asString(obj["mediaType"])
		}
	}
	if desc.MediaType == "" {
		return rootEntry{}, false
	}
	return rootEntry{ptr: "", desc: desc, usable: true}, true
}

// checkPin compares the target bundle with --digest.
func (c *checker) checkPin(loc string, roots []rootEntry) {
	if c.pin == "" {
		return
	}
	distinct := map[digest.Digest]string{}
	for _, e := range roots {
		distinct[e.desc.Digest] = e.ptr
	}
	switch len(distinct) {
	case 0:
		c.add(DigestPinMismatch, Error, loc, "", "no bundle to compare with --digest %s", c.pin)
	case 1:
		for d, p := range distinct {
			if d != c.pin {
				c.add(DigestPinMismatch, Error, loc, p, "the bundle is %s, but --digest says %s", d, c.pin)
			}
		}
	default:
		c.add(DigestPinAmbiguous, Error, loc, "/manifests", "%d bundles, --digest needs exactly one: name it with LAYOUT:TAG", len(distinct))
	}
}

// finalize reports what the hashes and deep scans found.
func (c *checker) finalize() {
	for _, b := range c.blobs {
		if b.hashed && b.sum != b.digest {
			c.add(DigestMismatch, Error, b.loc, "", "digest mismatch (got %s)", b.sum)
		}
	}
	c.checkImages()
	c.checkArtifacts()
	sort.SliceStable(c.layers, func(i, j int) bool {
		a, b := c.layers[i], c.layers[j]
		return a.loc+a.ptr < b.loc+b.ptr
	})
	for _, l := range c.layers {
		c.checkLayer(l)
	}
	if c.opts.Inventory {
		c.inventory()
	}
}

// checkImages judges the layers of each image together, as extract
// applies them (layer.CheckImage): an entry placed through a lower
// layer's symlink, a link that leaves the root only with the links below
// it, a hard link to no regular file of the layer or the layers below.
// c.layers holds each manifest's layers in order.
func (c *checker) checkImages() {
	var run []layerRef
	flush := func() {
		if len(run) > 0 {
			c.checkImage(run)
		}
		run = nil
	}
	for _, l := range c.layers {
		if len(run) > 0 && l.loc != run[0].loc {
			flush()
		}
		if l.image {
			run = append(run, l)
		}
	}
	flush()
}

// checkImage judges the layers of one image together, when every one was
// read to its end (a layer that was not is reported already).
func (c *checker) checkImage(layers []layerRef) {
	sums := make([]*layer.Summary, len(layers))
	for i, l := range layers {
		b := c.blobs[l.desc.Digest]
		if b == nil || b.deep == nil || !b.deep.complete || b.deep.summary == nil {
			return
		}
		sums[i] = b.deep.summary
	}
	// The names of a layer that are one file on Windows or macOS with a
	// name of the layers below are a portability warning.
	names := layer.NewNames(layer.PortableNames, nil, maxTracked)
	for _, r := range layer.CheckImage(sums, layer.Options{AllowOutsideLinks: c.opts.AllowOutsideLinks, MaxSize: -1, Names: names}) {
		b := c.blobs[layers[r.Layer].desc.Digest]
		c.add(refusalCodes[r.Kind], refusalSeverity(r.Kind), b.loc, "", "%s", r.Refusal)
	}
}

// checkArtifacts judges together the layers of each artifact whose titles
// nest (layer.TitlesNest), as extract applies them, with one judge
// (layer.CheckArtifact): a name an earlier layer wrote, an entry below an
// earlier layer's file. c.layers holds each manifest's layers in order.
func (c *checker) checkArtifacts() {
	var run []layerRef
	flush := func() {
		titles := make([]string, len(run))
		for i, l := range run {
			titles[i] = l.title
		}
		if layer.TitlesNest(titles) {
			c.checkArtifact(run)
		}
		c.checkTitles(run)
		run = nil
	}
	for _, l := range c.layers {
		if len(run) > 0 && l.loc != run[0].loc {
			flush()
		}
		if !l.image && l.title != "" {
			run = append(run, l)
		}
	}
	flush()
}

// checkArtifact judges the layers of one artifact together, when each is
// clean by itself (a layer's own problems are reported already) and its
// tar headers were kept (a layout directory, at most maxTracked entries).
func (c *checker) checkArtifact(layers []layerRef) {
	in := make([]layer.ArtifactLayer, len(layers))
	for i, l := range layers {
		b := c.blobs[l.desc.Digest]
		if b == nil || !b.hashed || layer.CheckTitle(l.title) != nil {
			return
		}
		in[i] = layer.ArtifactLayer{Title: l.title, File: !l.tar}
		if !l.tar {
			continue
		}
		d := b.deep
		if d == nil || !d.complete || d.headers == nil || hasError(d.problems) || hasError(d.judged(false, l.title)) {
			return
		}
		in[i].Headers = d.headers
	}
	for _, r := range layer.CheckArtifact(in, layer.Options{AllowOutsideLinks: c.opts.AllowOutsideLinks, MaxSize: -1}) {
		b := c.blobs[layers[r.Layer].desc.Digest]
		c.add(refusalCodes[r.Kind], Error, b.loc, "", "%s", r.Refusal)
	}
}

// checkTitles warns about the titles of an artifact's layers that Windows
// or macOS cannot hold apart: two that are one file there, and the title
// of a layer written as a file (a tar layer's entries, its title among
// them, are judged with the layer).
func (c *checker) checkTitles(layers []layerRef) {
	names := layer.NewNames(layer.PortableNames, nil, 0)
	for _, l := range layers {
		if layer.CheckTitle(l.title) != nil {
			continue // an error already
		}
		p := names.Add(l.title)
		if p == nil || (l.tar && p.Other == "") {
			continue
		}
		c.add(portabilityCode(p), Warning, l.loc, ptr(ptr(l.ptr, "annotations"), ocispec.AnnotationTitle), "%s: %s", l.title, p.Reason)
	}
}

// hasError reports whether ps has an error.
func hasError(ps []problem) bool {
	for _, p := range ps {
		if p.sev == Error {
			return true
		}
	}
	return false
}

// checkLayer compares one layer reference with its decompressed content.
func (c *checker) checkLayer(l layerRef) {
	b := c.blobs[l.desc.Digest]
	if b == nil || !b.hashed {
		return
	}
	codec, err := compress.ForMediaType(l.desc.MediaType)
	switch {
	case err != nil && l.tar:
		c.add(UnknownLayerType, Warning, l.loc, ptr(l.ptr, "mediaType"), "%s is not a layer type verify can decompress", l.desc.MediaType)
		return
	case err != nil:
		return // an artifact's file: nothing to unpack
	case !l.tar:
		c.add(LayerNotChecked, Info, l.loc, l.ptr, "an artifact file with a tar media type and no unpack annotation: not read as a tar")
		return
	}
	r := b.deep
	if r == nil {
		c.add(LayerCorrupt, Error, b.loc, "", "a JSON document, not a %s layer", codec)
		return
	}
	if r.codec != codec {
		c.add(LayerCorrupt, Error, b.loc, "", "%s#%s says %s, but the content is %s", l.loc, l.ptr, codec, codecName(r.codec))
		return
	}
	if !b.deepReported {
		b.deepReported = true
		for _, p := range append(r.problems, r.judged(l.image, l.title)...) {
			c.add(p.code, p.sev, b.loc, "", "%s", p.message)
		}
	}
	if !r.complete {
		return
	}
	ann := l.desc.Annotations
	for _, key := range []string{profile.AnnotationContentDigest, profile.AnnotationORASDigest} {
		if v, ok := ann[key]; ok {
			p := ptr(ptr(l.ptr, "annotations"), key)
			if code, msg := digestProblem(v); code != "" {
				c.add(BadAnnotation, Error, l.loc, p, "%s", msg)
			} else if digest.Digest(v) != r.diffID {
				c.add(ContentDigestMismatch, Error, l.loc, p, "%s says %s, the uncompressed %s is %s", key, v, b.loc, r.diffID)
			}
		}
	}
	if v, ok := ann[profile.AnnotationContentSize]; ok {
		p := ptr(ptr(l.ptr, "annotations"), profile.AnnotationContentSize)
		if n, ok := parseSizeAnnotation(v); !ok {
			c.add(BadAnnotation, Error, l.loc, p, "%q is not a size", v)
		} else if n != r.size {
			c.add(ContentSizeMismatch, Error, l.loc, p, "%s says %d, the uncompressed %s has %d bytes", profile.AnnotationContentSize, n, b.loc, r.size)
		}
	}
	if l.diffID != "" && l.diffID != r.diffID {
		c.add(DiffIDMismatch, Error, l.loc, l.ptr, "the config's diff_id is %s, the uncompressed %s is %s", l.diffID, b.loc, r.diffID)
	}
}

func codecName(c compress.Codec) string {
	if c == compress.None {
		return "not zstd or gzip"
	}
	return strconv.Quote(string(c))
}
