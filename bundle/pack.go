package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/glob"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
)

// reservedLayerKeys are the layer annotations pack computes; a user value
// would make them lie.
var reservedLayerKeys = map[string]bool{
	ocispec.AnnotationTitle: true, profile.AnnotationContentDigest: true, profile.AnnotationContentSize: true,
	profile.AnnotationContentFiles: true, profile.AnnotationORASDigest: true, profile.AnnotationORASUnpack: true,
}

// PackOptions are the knobs of Pack. The zero value packs with zstd at the
// default level, no tags and no annotations.
type PackOptions struct {
	Tags []string
	// Annotations on the manifest, on the index, and per layer title.
	ManifestAnnotations map[string]string
	IndexAnnotations    map[string]string
	ConfigAnnotations   map[string]string
	LayerAnnotations    map[string]map[string]string
	ArtifactType        string // profile.DefaultArtifactType when empty
	Compression         compress.Codec
	Level               compress.Level
	// Created, when set, is written as org.opencontainers.image.created.
	Created *time.Time
	// SourceDateEpoch, when set, clamps file mtimes and is the created time
	// unless Created is set.
	SourceDateEpoch *time.Time
	// Jobs bounds the layers compressed at once (1 when < 1). It never
	// changes the output bytes.
	Jobs     int
	Progress progress.Progress
	// Dereference stores the file or directory a symlink points to instead
	// of the link (tar -h); KeepLinks stores a symlink whose target leaves
	// its PATH as it is (extract then needs AllowOutsideLinks). Without
	// either, such a link is ErrBadInput. With Dereference no symlink is
	// stored, so KeepLinks changes nothing (the command line refuses both).
	Dereference, KeepLinks bool
	// RawFiles stores each PATH that is a regular file (or, with
	// Dereference, a symlink to one) as its own bytes, a layer of media type
	// profile.MediaTypeFile titled with its base name, as `oras push FILE`
	// does, instead of a tar of it: `oras pull` then writes the file byte
	// for byte. Its mode and mtime are not kept. Directories are tar
	// layers either way; Compression does not apply to raw layers.
	RawFiles bool
	// Exclude leaves out the entries below each PATH that these
	// .gitignore-style globs match (package glob: relative to the PATH, a
	// pattern without a "/" at any depth, "dir/" directories only, "!"
	// re-includes, the last match decides). An excluded directory is not
	// read; an excluded name leaves no trace in the bundle. A PATH itself is
	// never excluded. A malformed pattern is glob.ErrBadPattern, before
	// anything is read or written.
	Exclude []string
}

// PackResult describes the manifest Pack wrote.
type PackResult struct {
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	MediaType string        `json:"mediaType"`
	Tags      []string      `json:"tags"`
	// Moved lists the tags pack moved from another manifest to this one.
	Moved  []layout.TagMove `json:"moved"`
	Layers []PackedLayer    `json:"layers"`
}

// PackedLayer describes one layer of a packed bundle.
type PackedLayer struct {
	Title         string        `json:"title"`
	Digest        digest.Digest `json:"digest"`
	Size          int64         `json:"size"`
	ContentDigest digest.Digest `json:"contentDigest"`
	ContentSize   int64         `json:"contentSize"`
	Files         int           `json:"files"`
}

// Pack packs each of paths into one tar layer of a new bundle manifest in the
// layout at dir (created if missing), then points tags at it.
//
// Every input is checked before the layout is touched; bad input fails with
// ErrBadInput naming the path. Every tar header pack will write is held to
// the layer rules (layer.Judge) that extract applies, so that what Pack
// writes verifies (--deep) and extracts by default: a symlink leaving its
// PATH is refused unless Dereference or KeepLinks, a name extract cannot
// write unless Exclude leaves it out. index.json is changed only at the very end, in
// one atomic update, so a pack that fails or is killed half-way leaves no
// reference to partial content (blobs it committed are valid and gc removes
// them). The same inputs and options give byte-identical blobs and manifest.
func Pack(ctx context.Context, dir string, paths []string, opts PackOptions) (PackResult, error) {
	if len(paths) == 0 {
		return PackResult{}, fmt.Errorf("%w: nothing to pack", ErrBadInput)
	}
	for _, tag := range opts.Tags {
		if err := layout.ValidateTag(tag); err != nil {
			return PackResult{}, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
	}
	if opts.Compression == "" {
		opts.Compression = compress.Zstd
	}
	if opts.ArtifactType == "" {
		opts.ArtifactType = profile.DefaultArtifactType
	}
	progress := progress.Or(opts.Progress)
	trees, total, err := scanInputs(ctx, paths, opts)
	if err != nil {
		return PackResult{}, err
	}

	store, err := layout.Create(ctx, dir)
	if err != nil {
		return PackResult{}, err
	}
	// From the first blob to the index.json update, a concurrent gc must
	// not judge the new blobs unreferenced (see layout.Store.HoldBlobs).
	release, err := store.HoldBlobs(ctx)
	if err != nil {
		return PackResult{}, err
	}
	defer release()
	var clamp time.Time
	if opts.SourceDateEpoch != nil {
		clamp = opts.SourceDateEpoch.UTC()
	}

	progress.Start("pack", total)
	layers, packed, err := packLayers(ctx, store, trees, clamp, opts, progress)
	progress.Finish()
	if err != nil {
		return PackResult{}, err
	}

	desc, err := putManifest(ctx, store, layers, opts)
	if err != nil {
		return PackResult{}, err
	}
	desc.ArtifactType = opts.ArtifactType

	// Pack authors: its tags move (the tag rule, layout.Merge).
	in := ocispec.Index{Annotations: opts.IndexAnnotations, Manifests: layout.Entries(desc, opts.Tags)}
	var merged []layout.MergedEntry
	err = store.UpdateIndex(ctx, func(idx *ocispec.Index) (err error) {
		merged, err = layout.Merge(idx, in, true)
		return err
	})
	if err != nil {
		return PackResult{}, err
	}
	tags := append([]string{}, opts.Tags...)
	return PackResult{Digest: desc.Digest, Size: desc.Size, MediaType: desc.MediaType, Tags: tags, Moved: layout.Moves(merged), Layers: packed}, nil
}

// scanInputs scans every PATH (scanTree, the layer rules) and checks what
// depends on all of them: --exclude patterns, base names (layer titles)
// that must differ, layer annotations that must name a title and not a key
// pack computes. It returns the trees in argument order and their regular
// file bytes. Errors wrap ErrBadInput (glob.ErrBadPattern for a bad
// pattern); nothing is written.
func scanInputs(ctx context.Context, paths []string, opts PackOptions) ([]*tree, int64, error) {
	exclude, err := glob.ParseExcludes(opts.Exclude)
	if err != nil {
		return nil, 0, fmt.Errorf("--exclude %w", err) // glob.ErrBadPattern: a usage error
	}
	scan := scanOptions{dereference: opts.Dereference, keepLinks: opts.KeepLinks, exclude: exclude}

	trees := make([]*tree, len(paths))
	titles := make(map[string]string)
	var total int64
	for i, p := range paths {
		t, err := scanTree(ctx, p, scan)
		if err != nil {
			return nil, 0, err
		}
		if prev, dup := titles[t.title]; dup {
			return nil, 0, fmt.Errorf("%s: %w: same base name %q as %s", p, ErrBadInput, t.title, prev)
		}
		titles[t.title] = p
		trees[i], total = t, total+t.bytes
	}
	for title, ann := range opts.LayerAnnotations {
		if _, ok := titles[title]; !ok {
			return nil, 0, fmt.Errorf("layer annotation for %q: %w: no input has that base name", title, ErrBadInput)
		}
		for k := range ann {
			if reservedLayerKeys[k] {
				return nil, 0, fmt.Errorf("layer annotation %s for %q: %w: pack computes it", k, title, ErrBadInput)
			}
		}
	}
	return trees, total, nil
}

// putManifest stores the empty config (with opts.ConfigAnnotations) and the
// image manifest of layers (artifactType, the user's annotations and
// org.opencontainers.image.created when asked), and returns the manifest's
// descriptor. Both are committed blobs; index.json is not touched.
func putManifest(ctx context.Context, store *layout.Store, layers []ocispec.Descriptor, opts PackOptions) (ocispec.Descriptor, error) {
	config := ocispec.DescriptorEmptyJSON
	config.Annotations = copyMap(opts.ConfigAnnotations)
	if err := store.Put(ctx, config, bytes.NewReader(config.Data)); err != nil {
		return ocispec.Descriptor{}, err
	}
	annotations := copyMap(opts.ManifestAnnotations)
	created := opts.Created
	if created == nil {
		created = opts.SourceDateEpoch
	}
	if created != nil {
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[ocispec.AnnotationCreated] = created.UTC().Format(time.RFC3339)
	}
	manifest := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: opts.ArtifactType,
		Config:       config,
		Layers:       layers,
		Annotations:  annotations,
	}
	data, err := json.Marshal(manifest)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := store.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// packLayers writes one layer per tree, up to opts.Jobs at once, and returns
// them in argument order.
func packLayers(ctx context.Context, store *layout.Store, trees []*tree, clamp time.Time, opts PackOptions, progress progress.Progress) ([]ocispec.Descriptor, []PackedLayer, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := max(opts.Jobs, 1)
	descs := make([]ocispec.Descriptor, len(trees))
	packed := make([]PackedLayer, len(trees))
	errs := make([]error, len(trees))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, t := range trees {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if context.Cause(ctx) != nil {
				return
			}
			descs[i], packed[i], errs[i] = packLayer(ctx, store, t, clamp, opts, progress)
			if errs[i] != nil {
				cancel(errs[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs { // the first failing argument, not the first to fail
		if err != nil {
			return nil, nil, err
		}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	return descs, packed, nil
}

// compressTar runs write (files → tar → enc) and closes enc (a failure of
// which names arg), on a goroutine
// of its own, so that a cancellation of ctx returns at once: a zstd Write or
// Close can block for seconds on a job of several MiB that is being
// compressed, and checks no context. On cancellation enc is aborted (nothing
// more reaches the blob writer, which the caller then discards) and the
// goroutine is left to finish on its own: its next write fails.
func compressTar(ctx context.Context, arg string, enc *compress.Encoder, write func() (tarStats, error)) (tarStats, error) {
	type result struct {
		st  tarStats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := write()
		if cerr := enc.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("%s: compress: %w", arg, cerr)
		}
		done <- result{st, err}
	}()
	select {
	case r := <-done:
		return r.st, r.err
	case <-ctx.Done():
		enc.Abort()
		return tarStats{}, context.Cause(ctx)
	}
}

// packLayer streams files → tar → compressor → blob writer, hashing the
// uncompressed tar on the way; or, with opts.RawFiles and a tree of one
// regular file, packs it raw (packRawLayer).
func packLayer(ctx context.Context, store *layout.Store, t *tree, clamp time.Time, opts PackOptions, progress progress.Progress) (ocispec.Descriptor, PackedLayer, error) {
	if opts.RawFiles && len(t.entries) == 1 && t.entries[0].stat.mode.IsRegular() {
		return packRawLayer(ctx, store, t.entries[0], t.title, opts.LayerAnnotations[t.title], progress)
	}
	w, err := store.NewWriter(ctx)
	if err != nil {
		return ocispec.Descriptor{}, PackedLayer{}, err
	}
	defer w.Abort()
	enc, err := compress.NewWriter(w, opts.Compression, opts.Level)
	if err != nil {
		return ocispec.Descriptor{}, PackedLayer{}, err
	}
	content := digest.SHA256.Digester()
	counter := countio.NewWriter(io.MultiWriter(enc, content.Hash()))
	st, err := compressTar(ctx, t.arg, enc, func() (tarStats, error) { return writeTar(ctx, counter, t, clamp, progress) })
	if err != nil {
		return ocispec.Descriptor{}, PackedLayer{}, err
	}
	desc, err := w.Commit(ctx, opts.Compression.LayerMediaType())
	if err != nil {
		return ocispec.Descriptor{}, PackedLayer{}, err
	}
	ann := map[string]string{
		ocispec.AnnotationTitle:         t.title,
		profile.AnnotationContentDigest: content.Digest().String(),
		profile.AnnotationContentSize:   strconv.FormatInt(counter.N(), 10),
		profile.AnnotationContentFiles:  strconv.Itoa(st.files),
	}
	// ORAS's unpack annotations go on gzip layers of directories only:
	// `oras pull` makes DIR/TITLE a directory before it unpacks, so a file
	// layer carrying them cannot be pulled at all. A file layer arrives as
	// the file TITLE holding the layer blob, as zstd layers do.
	if opts.Compression == compress.Gzip && t.entries[0].stat.mode.IsDir() {
		ann[profile.AnnotationORASDigest] = content.Digest().String()
		ann[profile.AnnotationORASUnpack] = "true"
	}
	for k, v := range opts.LayerAnnotations[t.title] {
		ann[k] = v
	}
	desc.Annotations = ann
	return desc, PackedLayer{
		Title: t.title, Digest: desc.Digest, Size: desc.Size,
		ContentDigest: content.Digest(), ContentSize: counter.N(), Files: st.files,
	}, nil
}

// packRawLayer stores the regular file e as a blob of its own bytes, of
// media type profile.MediaTypeFile, annotated with title and the user's
// annotations ann. Its content is the blob: ContentDigest and ContentSize
// are the blob's, Files is 1. A file changed since it was scanned fails
// with ErrBadInput; the blob is committed only when complete.
func packRawLayer(ctx context.Context, store *layout.Store, e entry, title string, ann map[string]string, progress progress.Progress) (ocispec.Descriptor, PackedLayer, error) {
	f, err := openForPack(e)
	if err != nil {
		return ocispec.Descriptor{}, PackedLayer{}, err
	}
	defer f.Close()
	w, err := store.NewWriter(ctx)
	if err != nil {
		return ocispec.Descriptor{}, PackedLayer{}, err
	}
	defer w.Abort()
	cw := countio.NewWriter(w, countio.WithContext(ctx), countio.WithProgress(progress))
	n, err := io.CopyBuffer(cw, io.LimitReader(f, e.stat.size), make([]byte, 1<<20))
	if err != nil {
		return ocispec.Descriptor{}, PackedLayer{}, fmt.Errorf("%s: %w", e.path, err)
	}
	if n != e.stat.size {
		return ocispec.Descriptor{}, PackedLayer{}, fmt.Errorf("%s: %w: file shrank while packing (%d of %d bytes)", e.path, ErrBadInput, n, e.stat.size)
	}
	desc, err := w.Commit(ctx, profile.MediaTypeFile)
	if err != nil {
		return ocispec.Descriptor{}, PackedLayer{}, err
	}
	desc.Annotations = map[string]string{ocispec.AnnotationTitle: title}
	for k, v := range ann {
		desc.Annotations[k] = v
	}
	return desc, PackedLayer{Title: title, Digest: desc.Digest, Size: desc.Size, ContentDigest: desc.Digest, ContentSize: desc.Size, Files: 1}, nil
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// AnnotationFile is the content of --annotation-file: ORAS's format,
// {"$manifest":{…},"$config":{…},"TITLE":{…}}, plus "$index".
type AnnotationFile struct {
	Manifest map[string]string
	Index    map[string]string
	Config   map[string]string
	Layers   map[string]map[string]string
}

// ReadAnnotationFile reads and strictly decodes an annotation file.
// Errors wrap ErrBadInput and name the file.
func ReadAnnotationFile(path string) (AnnotationFile, error) {
	var af AnnotationFile
	f, err := os.Open(path)
	if err != nil {
		return af, badInput(path, err)
	}
	defer f.Close()
	data, err := layout.ReadCapped(f, layout.MaxDocumentSize)
	if err != nil {
		return af, fmt.Errorf("%s: %w: %w", path, ErrBadInput, err)
	}
	var raw map[string]map[string]string
	if err := layout.DecodeStrict(data, &raw); err != nil {
		return af, fmt.Errorf("%s: %w: %w", path, ErrBadInput, err)
	}
	for k, m := range raw {
		switch k {
		case "$manifest":
			af.Manifest = m
		case "$index":
			af.Index = m
		case "$config":
			af.Config = m
		default:
			if af.Layers == nil {
				af.Layers = map[string]map[string]string{}
			}
			af.Layers[k] = m
		}
	}
	return af, nil
}
