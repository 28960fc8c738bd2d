package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/glob"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
	"github.com/ocibundle/ocibundle/units"
)

// ExtractOptions are the knobs of Extract. The zero value extracts every
// layer into a DIR that must be empty or missing.
type ExtractOptions struct {
	// Overwrite merges into a DIR that is not empty: files of the bundle
	// replace files of the same name; DIR's other files stay.
	Overwrite bool
	// Layers, when set, selects layers by title (or digest); naming a layer
	// the manifest does not have is ErrBadInput.
	Layers []string
	// SkipUnknown skips layers of a kind extract cannot handle instead of
	// failing with ErrUnsupported.
	SkipUnknown bool
	// PreservePermissions keeps setuid, setgid and sticky bits and ignores
	// the umask.
	PreservePermissions bool
	// SameOwner sets the owner recorded in the tar entries; it needs root.
	SameOwner bool
	// AllowOutsideLinks writes symlinks whose targets leave DIR (absolute,
	// in an artifact, or climbing above it), as pack --keep-links stores
	// them. Nothing is ever written through them.
	AllowOutsideLinks bool
	// MaxLayerSize caps, in bytes, the uncompressed tar of a layer without
	// io.ocibundle.content.size (0: the default cap, layer.ContentLimit); a
	// layer that expands past it fails with layer.ErrTooLarge.
	MaxLayerSize int64
	// Names are the name rules of the file system DIR is on: an entry it
	// cannot hold, or one that is the same file there as another entry, is
	// refused (layer.ErrUnportable). Zero: the rules of this OS
	// (layer.NameRulesFor(runtime.GOOS): Windows and macOS have some).
	Names    layer.NameRules
	Progress progress.Progress
	// Stdin is read when the reference is "-" (an archive on standard input).
	Stdin io.Reader
	// Platform chooses the image of an index, os/arch[/variant]
	// (ParsePlatform); "" is this machine's platform.
	Platform string
	// Patterns, when set, select what is written (package glob: a path,
	// or a glob as docs/** or *.txt, matching the entry or a directory
	// above it): every entry is still judged, but only the selected ones
	// (and the directories above them) are written; a file layer not
	// selected is not read. A pattern that selects nothing is ErrNoMatch;
	// a malformed one glob.ErrBadPattern.
	Patterns []string
	// Hash reports the sha256 of each written file (ExtractedEntry.SHA256),
	// read back from the staged tree before it is published.
	Hash bool
	// SummaryOnly leaves ExtractResult.Entries empty (Summary is filled
	// either way): the entries of a tree of 300,000 files hold about
	// 40 MB. Hash overrides it.
	SummaryOnly bool
}

// ExtractResult describes what Extract wrote.
type ExtractResult struct {
	Reference string           `json:"reference"`
	Digest    digest.Digest    `json:"digest"`
	Dir       string           `json:"dir"`
	Layers    []ExtractedLayer `json:"layers"`
	// Entries is the extracted tree, sorted by path (relative to Dir);
	// empty with ExtractOptions.SummaryOnly.
	Entries []ExtractedEntry `json:"entries"`
	// Summary counts the extracted tree.
	Summary ExtractSummary `json:"-"`
}

// ExtractSummary counts the entries of an extracted tree by type.
type ExtractSummary struct {
	Files, Dirs, Symlinks int
	Bytes                 int64 // of the files
}

// ExtractedLayer says how one layer was handled.
type ExtractedLayer struct {
	Title     string        `json:"title,omitempty"`
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	// As is "tar" (unpacked), "file" (the blob written as the file
	// Title), "skipped" (--skip-unknown) or "unselected" (--layer).
	As string `json:"as"`
}

// ExtractedEntry is one file, directory or symlink of the extracted tree.
type ExtractedEntry struct {
	Path string `json:"path"`
	Type string `json:"type"` // file, dir or symlink
	Mode string `json:"mode"`
	Size int64  `json:"size,omitempty"`
	Link string `json:"link,omitempty"`
	// SHA256 is the hex sha256 of a file's bytes (ExtractOptions.Hash).
	SHA256 string `json:"sha256,omitempty"`
}

// Ways a layer is extracted.
const (
	asTar        = "tar"
	asFile       = "file"
	asSkipped    = "skipped"
	asUnselected = "unselected"
)

// layerPlan is one layer and how to extract it, decided before the
// filesystem is touched.
type layerPlan struct {
	desc  ocispec.Descriptor
	title string
	as    string
	codec compress.Codec
	// scope: every entry of a tar must be the title or below it ("" in an
	// image, whose layers share the root).
	scope string
	// The uncompressed tar's digest, and its size when known (-1 if not).
	contentDigest digest.Digest
	contentSize   int64
	// maxSize caps the uncompressed tar without a contentSize
	// (ExtractOptions.MaxLayerSize).
	maxSize int64
}

// Extract writes the files of the bundle ref names into dir.
//
// Kinds of bundle: an ocibundle bundle's tar layers unpack in layer order,
// so that dir holds the packed inputs again (bytes, permission bits,
// directories, symlinks, hard links, mtimes). Of other artifacts, an ORAS
// directory layer (a tar with io.deis.oras.content.unpack) unpacks into
// dir/TITLE, and any other titled layer becomes the file dir/TITLE holding
// the blob. An OCI or Docker image (an image config, no artifactType)
// applies its layers as a root filesystem, whiteouts and opaque directories
// included. A layer of another kind fails with ErrUnsupported naming it,
// unless SkipUnknown.
//
// Safety, whatever the content (all refusals wrap ErrUnsafe and name the
// layer and entry): layers are applied by layer.Applier through an os.Root
// on a private staging directory created next to dir, and every entry must
// pass the layer rules (layer.Judge: local canonical names, an artifact's
// entries below its title, no name twice, symlinks that stay inside (an
// image's absolute targets resolved from its root; others only with
// AllowOutsideLinks), never an entry reached through a symlink, hard links
// to regular files earlier in the layer, no devices, FIFOs or sparse files;
// on Windows and macOS, no name that system cannot hold or holds as the
// same file as another: Names, layer.ErrUnportable).
// Permission bits are masked by the umask, and setuid, setgid and sticky
// bits dropped, unless PreservePermissions; owners are set only with
// SameOwner (as root).
//
// Every blob's digest and size, every layer's uncompressed digest (and size,
// when annotated) are checked before anything is published. A layer stops
// decompressing as soon as it passes its annotated size
// (layout.ErrSizeMismatch) or, without one, opts.MaxLayerSize
// (layer.ErrTooLarge), so a decompression bomb writes no more than that: on any failure the staging directory is
// removed and dir is as it was. dir must be empty or missing
// (ErrTargetNotEmpty) unless Overwrite. Without Overwrite, publishing is one
// rename. With Overwrite, the staged tree is merged into dir by renames that
// never follow a symlink already in dir; conflicts (a directory in dir where
// the bundle has a file) are found before the first rename, but an I/O
// error during the merge can leave it half done.
func Extract(ctx context.Context, ref, dir string, opts ExtractOptions) (ExtractResult, error) {
	if dir == "" {
		return ExtractResult{}, fmt.Errorf("%w: no output directory", ErrBadInput)
	}
	src, err := Open(ctx, ref, opts.Stdin)
	if err != nil {
		return ExtractResult{}, err
	}
	defer src.Close()
	return ExtractFrom(ctx, src, dir, opts)
}

// ExtractFrom is Extract of an open source (Open, OpenStream); a stream is
// judged to its end (Source.Finish) before anything is published. A delta
// archive whose left-out blobs are needed fails with ErrDeltaBase naming
// its base.
func ExtractFrom(ctx context.Context, src *Source, dir string, opts ExtractOptions) (ExtractResult, error) {
	res, err := extractFrom(ctx, src, dir, opts)
	return res, src.explainDelta(ctx, err)
}

func extractFrom(ctx context.Context, src *Source, dir string, opts ExtractOptions) (ExtractResult, error) {
	if dir == "" {
		return ExtractResult{}, fmt.Errorf("%w: no output directory", ErrBadInput)
	}
	if opts.SameOwner && os.Geteuid() != 0 {
		return ExtractResult{}, fmt.Errorf("%w: --same-owner needs root", ErrBadInput)
	}
	if opts.Names.IsZero() {
		opts.Names = layer.NameRulesFor(runtime.GOOS)
	}
	platform, err := ParsePlatform(opts.Platform)
	if err != nil {
		return ExtractResult{}, fmt.Errorf("--platform %w", err)
	}
	ref := src.Name
	store, desc, m, err := resolveManifest(ctx, src, platform)
	if err != nil {
		return ExtractResult{}, err
	}
	plans, err := planLayers(ctx, store, m, opts)
	if err != nil {
		return ExtractResult{}, err
	}
	selection, err := glob.ParseSelection(opts.Patterns)
	if err != nil {
		return ExtractResult{}, err
	}

	target, err := prepareTarget(dir, opts.Overwrite)
	if err != nil {
		return ExtractResult{}, err
	}
	staging, err := os.MkdirTemp(filepath.Dir(target.path), "."+filepath.Base(target.path)+".extract-*")
	if err != nil {
		return ExtractResult{}, err
	}
	published := false
	defer func() {
		if !published {
			removeStaging(staging)
		}
	}()
	root, err := os.OpenRoot(staging)
	if err != nil {
		return ExtractResult{}, err
	}
	defer root.Close()

	app := layer.NewApplier(root, layer.ApplyOptions{
		Image:             profile.IsImage(m.Config.MediaType, m.ArtifactType),
		AllowOutsideLinks: opts.AllowOutsideLinks, PreservePermissions: opts.PreservePermissions,
		SameOwner: opts.SameOwner, Umask: layer.Umask(), Names: opts.Names,
		Select: selection.Func(),
	})
	defer app.Close()
	res := ExtractResult{Reference: ref, Digest: desc.Digest, Dir: dir}
	if res.Layers, err = applyLayers(ctx, app, store, plans, selection, progress.Or(opts.Progress)); err != nil {
		return ExtractResult{}, err
	}
	if unused := selection.Unused(); len(unused) > 0 {
		return ExtractResult{}, fmt.Errorf("%s: %w: %s", ref, ErrNoMatch, strings.Join(unused, ", "))
	}
	// Nothing is published from a stream that fails past what was read.
	if err := src.Finish(ctx); err != nil {
		return ExtractResult{}, err
	}
	app.Close()
	if res.Entries, res.Summary, err = describeTree(ctx, root, app, opts); err != nil {
		return ExtractResult{}, err
	}
	if err := publish(app, staging, target); err != nil {
		return ExtractResult{}, err
	}
	published = true
	return res, nil
}

// resolveManifest finds the image manifest ref names in its layout: the
// manifest itself, or the one selectManifest chooses for platform from an
// index. It returns the store, the manifest's descriptor and the manifest;
// selectManifest's errors name ref. Reads only.
func resolveManifest(ctx context.Context, src *Source, platform ocispec.Platform) (*layout.Store, ocispec.Descriptor, ocispec.Manifest, error) {
	store, ref := src.Store, src.Name
	desc, err := src.resolve(ctx)
	if err != nil {
		return nil, desc, ocispec.Manifest{}, err
	}
	if desc, err = selectManifest(ctx, store, desc, platform); err != nil {
		return nil, desc, ocispec.Manifest{}, fmt.Errorf("%s: %w", ref, err)
	}
	m, err := store.ReadManifest(ctx, desc)
	if err != nil {
		return nil, desc, ocispec.Manifest{}, err
	}
	return store, desc, m, nil
}

// applyLayers applies every planned layer in order through app (into the
// staging root), reporting the bytes of the blobs it reads to progress, and
// returns how each layer was handled. On error the staging root holds a
// partial tree, which the caller removes.
func applyLayers(ctx context.Context, app layerSink, store *layout.Store, plans []layerPlan, selection *glob.Selection, progress progress.Progress) ([]ExtractedLayer, error) {
	var total int64
	for i := range plans {
		p := &plans[i]
		if p.as == asFile && selection != nil && !selection.Match(p.title, false) {
			p.as = asUnselected // not read at all
		}
		if p.as == asTar || p.as == asFile {
			total += p.desc.Size
		}
	}
	progress.Start("extract", total)
	defer progress.Finish()
	layers := []ExtractedLayer{}
	for _, p := range plans {
		layers = append(layers, ExtractedLayer{Title: p.title, Digest: p.desc.Digest, MediaType: p.desc.MediaType, As: p.as})
		if err := extractLayer(ctx, app, store, p, progress); err != nil {
			return nil, err
		}
	}
	return layers, nil
}

// planLayers decides how each layer is extracted, and checks the
// selection, before anything is written.
func planLayers(ctx context.Context, store *layout.Store, m ocispec.Manifest, opts ExtractOptions) ([]layerPlan, error) {
	image := profile.IsImage(m.Config.MediaType, m.ArtifactType)
	var diffIDs []digest.Digest
	if image {
		data, err := store.FetchAll(ctx, m.Config, layout.MaxDocumentSize)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
		}
		var cfg struct {
			RootFS struct {
				DiffIDs []digest.Digest `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if err := layout.DecodeStrict(data, &cfg); err != nil {
			return nil, fmt.Errorf("config %s: %w", m.Config.Digest, err)
		}
		if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
			return nil, fmt.Errorf("config %s: %w: %d diff_ids for %d layers", m.Config.Digest, layout.ErrBadDocument, len(cfg.RootFS.DiffIDs), len(m.Layers))
		}
		diffIDs = cfg.RootFS.DiffIDs
	}
	selected := map[string]bool{}
	for _, l := range opts.Layers {
		selected[l] = false
	}
	var plans []layerPlan
	for i, l := range m.Layers {
		if err := layout.ValidateDigest(l.Digest); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		p := layerPlan{desc: l, title: l.Annotations[ocispec.AnnotationTitle], contentSize: -1, maxSize: opts.MaxLayerSize}
		name := p.title
		if name == "" {
			name = l.Digest.String()
		}
		if len(selected) > 0 {
			_, byTitle := selected[p.title]
			_, byDigest := selected[l.Digest.String()]
			if !byTitle && !byDigest {
				p.as = asUnselected
				plans = append(plans, p)
				continue
			}
			if byTitle {
				selected[p.title] = true
			}
			if byDigest {
				selected[l.Digest.String()] = true
			}
		}
		if err := p.decide(image, diffIDs, i); err != nil {
			if !errors.Is(err, ErrUnsupported) || !opts.SkipUnknown {
				return nil, fmt.Errorf("layer %s: %w", name, err)
			}
			p.as = asSkipped
		}
		plans = append(plans, p)
	}
	for _, l := range opts.Layers {
		if !selected[l] {
			return nil, fmt.Errorf("--layer %q: %w: the manifest has no layer with that title or digest", l, ErrBadInput)
		}
	}
	return plans, nil
}

// decide sets how p is extracted. Errors wrap ErrUnsupported (a kind of
// layer extract does not handle) or ErrUnsafe / layout errors (a layer that
// is bad whatever the options).
func (p *layerPlan) decide(image bool, diffIDs []digest.Digest, i int) error {
	ann := p.desc.Annotations
	codec, codecErr := compress.ForMediaType(p.desc.MediaType)
	if image {
		if codecErr != nil {
			return fmt.Errorf("%w: media type %q is not a tar layer", ErrUnsupported, p.desc.MediaType)
		}
		p.as, p.codec, p.contentDigest = asTar, codec, diffIDs[i]
		return layout.ValidateDigest(p.contentDigest)
	}
	if p.title != "" {
		if r := layer.CheckTitle(p.title); r != nil {
			return r
		}
	}
	switch {
	case codecErr == nil && p.title != "" && profile.SaysTar(ann):
		p.as, p.codec, p.scope = asTar, codec, p.title
		p.contentDigest = digest.Digest(ann[profile.AnnotationContentDigest])
		if p.contentDigest == "" {
			p.contentDigest = digest.Digest(ann[profile.AnnotationORASDigest])
		}
		if s, ok := ann[profile.AnnotationContentSize]; ok {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("%w: %s %q is not a size", layout.ErrBadDocument, profile.AnnotationContentSize, s)
			}
			p.contentSize = n
		}
	case p.title != "":
		p.as = asFile
		return nil
	default:
		return fmt.Errorf("%w: media type %q without a title", ErrUnsupported, p.desc.MediaType)
	}
	if p.contentDigest == "" {
		return nil // ORAS without a digest: the blob digest still holds
	}
	return layout.ValidateDigest(p.contentDigest)
}

// layerSink is what a layer is applied to: a directory (layer.Applier)
// or a tree in memory (layer.Tree), with the same rules.
type layerSink interface {
	Apply(ctx context.Context, r io.Reader, scope string, maxSize int64) error
	WriteFile(ctx context.Context, name string, r io.Reader) error
}

// extractLayer extracts one planned layer.
func extractLayer(ctx context.Context, app layerSink, store *layout.Store, p layerPlan, progress progress.Progress) error {
	name := p.title
	if name == "" {
		name = p.desc.Digest.String()
	}
	if p.as != asTar && p.as != asFile {
		return nil
	}
	rc, err := store.Fetch(ctx, p.desc)
	if err != nil {
		return fmt.Errorf("layer %s: %w", name, err)
	}
	defer rc.Close()
	blob := io.Reader(countio.NewReader(rc, countio.WithProgress(progress)))
	if p.as == asFile {
		err = app.WriteFile(ctx, p.title, blob)
	} else {
		err = tarLayer(ctx, app, p, blob)
	}
	if err != nil {
		return fmt.Errorf("layer %s: %w", name, blobVerdict(ctx, blob, err))
	}
	// The decoders may stop before the end of the blob; reading it to the
	// end is what makes the verifying reader check size and digest.
	if _, err := io.Copy(io.Discard, blob); err != nil {
		return fmt.Errorf("layer %s: %w", name, err)
	}
	return nil
}

// blobVerdict returns what explains err, the failure of a decoder reading
// blob (a verifying reader, layout.Store.Fetch): the blob's own digest or
// size mismatch when reading it to its end finds one (a tampered blob makes
// the decoder fail first, with a symptom: a CRC or a size cap), else err.
// An error that is not about the content (notContent: the system's, the
// context's) is returned as it is, without reading on. The decoders are
// done with blob when it is called.
func blobVerdict(ctx context.Context, blob io.Reader, err error) error {
	if ctx.Err() != nil || notContent(err) {
		return err
	}
	if _, derr := io.Copy(io.Discard, blob); errors.Is(derr, layout.ErrDigestMismatch) || errors.Is(derr, layout.ErrSizeMismatch) {
		return derr
	}
	return err
}

// tarLayer decompresses and applies one tar layer, checking the
// uncompressed digest and size at its end.
func tarLayer(ctx context.Context, app layerSink, p layerPlan, blob io.Reader) error {
	zr, err := compress.NewReader(blob, p.codec)
	if err != nil {
		return corrupt(err)
	}
	defer zr.Close()
	// content counts and hashes (when the digest is annotated) the
	// uncompressed stream, and stops as soon as it passes the annotated
	// size or the cap: a decompression bomb is cut off there.
	limit, why := layer.ContentLimit(p.contentSize, p.maxSize, p.desc.Size)
	over := fmt.Errorf("%w: uncompressed content is more than %d bytes, %s", layer.ErrTooLarge, limit, why)
	if p.contentSize >= 0 {
		over = fmt.Errorf("%w: uncompressed content is more than the annotated %d bytes", layout.ErrSizeMismatch, limit)
	}
	opts := []countio.Option{countio.WithLimit(limit, over)}
	var h *backgroundHash
	if p.contentDigest != "" {
		h = newBackgroundHash(p.contentDigest.Algorithm())
		defer h.finish() // after ahead.Close: nothing writes to it then
		opts = append(opts, countio.WithTee(h))
	}
	content := countio.NewReader(zr, opts...)
	// Reading, hashing and decompressing the layer run on one goroutine,
	// the tar entries and file writes on this one.
	ahead := newReadAhead(content)
	defer ahead.Close()
	if err := app.Apply(ctx, ahead, p.scope, limit); err != nil {
		var re *layer.ReadError
		if errors.As(err, &re) {
			if re.Name == "" {
				return fmt.Errorf("tar: %w", corrupt(re.Err))
			}
			return fmt.Errorf("%s: %w", re.Name, corrupt(re.Err))
		}
		return err
	}
	// The bytes after the end-of-archive marker belong to the digest too;
	// at their end the goroutine is done with content.
	if _, err := io.Copy(io.Discard, ahead); err != nil {
		return corrupt(err)
	}
	if p.contentSize >= 0 && content.N() != p.contentSize {
		return fmt.Errorf("%w: uncompressed size %d, annotated %d", layout.ErrSizeMismatch, content.N(), p.contentSize)
	}
	if h != nil {
		if got := h.Digest(); got != p.contentDigest {
			return fmt.Errorf("%w: uncompressed content is %s, want %s", layout.ErrDigestMismatch, got, p.contentDigest)
		}
	}
	return nil
}

// corrupt marks an error met while reading a layer as bad content
// (ErrCorrupt: a malformed compressed stream or tar), unless it is already a
// verdict on the content (a digest or size mismatch), or an error of the
// system (a *fs.PathError or errno from reading the blob file), or the
// context's.
func corrupt(err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, ErrCorrupt) || notContent(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// notContent reports whether err, met while reading a layer, is not the
// decoder's complaint about the content: a verdict on the blob already (a
// digest or size mismatch), an error of the system (a *fs.PathError or
// errno), or the context's.
func notContent(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.Is(err, layout.ErrDigestMismatch) || errors.Is(err, layout.ErrSizeMismatch) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &pe) || errors.As(err, &errno)
}

// WriteExtractText writes a one-line summary of res for people.
func WriteExtractText(w io.Writer, res ExtractResult) error {
	files, dirs, links, size := res.Summary.Files, res.Summary.Dirs, res.Summary.Symlinks, res.Summary.Bytes
	_, err := fmt.Fprintf(w, "extracted %s into %s: %d %s (%s), %d %s, %d %s\n", res.Digest, res.Dir,
		files, plural(files, "file", "files"), units.FormatBytes(size), dirs, plural(dirs, "directory", "directories"),
		links, plural(links, "symlink", "symlinks"))
	return err
}
