package bundle

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
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
	Progress  progress.Progress
	// Stdin is read when the reference is "-" (an archive on standard input).
	Stdin io.Reader
}

// ExtractResult describes what Extract wrote.
type ExtractResult struct {
	Reference string           `json:"reference"`
	Digest    digest.Digest    `json:"digest"`
	Dir       string           `json:"dir"`
	Layers    []ExtractedLayer `json:"layers"`
	// Entries is the extracted tree, sorted by path (relative to Dir).
	Entries []ExtractedEntry `json:"entries"`
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
// layer and entry): everything is written through an os.Root on a private
// staging directory created next to dir; names must be local, canonical,
// without "..", backslashes or NUL; an artifact's tar entries must stay
// below its title; an entry may not appear twice in a layer (nor twice in
// an artifact); a symlink is created only if its target, resolved from the
// link's directory through the links already extracted, stays inside (an
// absolute target never does), and every link is checked again against the
// finished tree; a hard link must name a regular file already extracted;
// devices, FIFOs and other special entries are refused. Permission bits
// are masked by the umask, and setuid, setgid and sticky bits dropped,
// unless PreservePermissions; owners are set only with SameOwner (as root).
//
// Every blob's digest and size, every layer's uncompressed digest (and size,
// when annotated, which also bounds the bytes decompressed) are checked
// before anything is published: on any failure the staging directory is
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
	if opts.SameOwner && os.Geteuid() != 0 {
		return ExtractResult{}, fmt.Errorf("%w: --same-owner needs root", ErrBadInput)
	}
	if file, selector, ok := archiveRef(ref); ok {
		return extractArchive(ctx, ref, file, selector, dir, opts.Stdin, opts)
	}
	store, desc, err := resolve(ctx, ref)
	if err != nil {
		return ExtractResult{}, err
	}
	if desc.MediaType == ocispec.MediaTypeImageIndex {
		ix, err := store.ReadIndexBlob(ctx, desc)
		if err != nil {
			return ExtractResult{}, err
		}
		if desc, err = pickManifest(ix); err != nil {
			return ExtractResult{}, fmt.Errorf("%s: %w", ref, err)
		}
	}
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return ExtractResult{}, fmt.Errorf("%s: %w: media type %q is not an OCI image manifest", desc.Digest, ErrUnsupported, desc.MediaType)
	}
	m, err := store.ReadManifest(ctx, desc)
	if err != nil {
		return ExtractResult{}, err
	}
	plans, err := planLayers(ctx, store, m, opts)
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

	x := &extractor{
		root: root, opts: opts, umask: processUmask(),
		image: profile.IsImage(m.Config.MediaType, m.ArtifactType),
		dirs:  map[string]dirMeta{}, entries: map[string]bool{},
	}
	progress := progress.Or(opts.Progress)
	var total int64
	for _, p := range plans {
		if p.as == asTar || p.as == asFile {
			total += p.desc.Size
		}
	}
	progress.Start("extract", total)
	res := ExtractResult{Reference: ref, Digest: desc.Digest, Dir: dir, Layers: []ExtractedLayer{}}
	for _, p := range plans {
		res.Layers = append(res.Layers, ExtractedLayer{Title: p.title, Digest: p.desc.Digest, MediaType: p.desc.MediaType, As: p.as})
		if err := x.layer(ctx, store, p, progress); err != nil {
			progress.Finish()
			x.dropParent()
			return ExtractResult{}, err
		}
	}
	progress.Finish()
	x.dropParent()
	if err := x.checkLinks(ctx); err != nil {
		return ExtractResult{}, err
	}
	if err := x.completeDirs(ctx); err != nil {
		return ExtractResult{}, err
	}
	if res.Entries, err = x.listTree(ctx); err != nil {
		return ExtractResult{}, err
	}
	if err := x.publish(staging, target); err != nil {
		return ExtractResult{}, err
	}
	published = true
	return res, nil
}

// pickManifest chooses the manifest of an index to extract: its only one,
// or else the only one for this machine's OS and architecture (so that an
// image copied with all its platforms extracts as the local one).
func pickManifest(ix ocispec.Index) (ocispec.Descriptor, error) {
	if len(ix.Manifests) == 1 {
		return ix.Manifests[0], nil
	}
	var match []ocispec.Descriptor
	for _, m := range ix.Manifests {
		if p := m.Platform; p != nil && p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH {
			match = append(match, m)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	return ocispec.Descriptor{}, fmt.Errorf("%w: an index of %d manifests, %d for %s/%s; name one as LAYOUT@DIGEST",
		ErrAmbiguous, len(ix.Manifests), len(match), runtime.GOOS, runtime.GOARCH)
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
		p := layerPlan{desc: l, title: l.Annotations[ocispec.AnnotationTitle], contentSize: -1}
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
		if err := checkName(p.title); err != nil {
			return fmt.Errorf("title %q: %w: %v", p.title, ErrUnsafe, err)
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

// extractor writes layers into the staging root.
type extractor struct {
	root  *os.Root
	opts  ExtractOptions
	umask fs.FileMode
	image bool
	// dirs holds the metadata of explicit directory entries, applied when
	// everything else is written (a read-only directory would stop its
	// children).
	dirs map[string]dirMeta
	// entries holds the names written: in an image, by the current layer
	// (for duplicates and whiteouts); in an artifact, by every layer.
	entries map[string]bool
	// touched holds, in an image, the current layer's names and their
	// parents: an opaque directory keeps them.
	touched map[string]bool
	// parentDir and parentRoot cache an os.Root on the directory of the
	// last entry (entries come sorted, so siblings share it): operations on
	// a base name cost one system call instead of a walk of the whole
	// path. Any removal drops the cache, since it may remove or replace
	// that directory or one above it.
	parentDir  string
	parentRoot *os.Root
}

// at returns an os.Root on the directory that holds name (made, 0700, if
// missing) and name's base name.
func (x *extractor) at(name string) (*os.Root, string, error) {
	dir, base := path.Dir(name), path.Base(name)
	if dir == "." {
		return x.root, base, nil
	}
	if x.parentRoot != nil && x.parentDir == dir {
		return x.parentRoot, base, nil
	}
	x.dropParent()
	if err := x.root.MkdirAll(dir, 0o700); err != nil {
		return nil, "", entryErr(name, err)
	}
	r, err := x.root.OpenRoot(dir)
	if err != nil {
		return nil, "", entryErr(name, err)
	}
	x.parentDir, x.parentRoot = dir, r
	return r, base, nil
}

// dropParent closes the cached parent directory, if any.
func (x *extractor) dropParent() {
	if x.parentRoot != nil {
		x.parentRoot.Close()
		x.parentDir, x.parentRoot = "", nil
	}
}

type dirMeta struct {
	mode     fs.FileMode
	mtime    time.Time // zero: leave as it is
	uid, gid int
	implicit bool // made as a parent, not described by an entry
}

// layer extracts one planned layer.
func (x *extractor) layer(ctx context.Context, store *layout.Store, p layerPlan, progress progress.Progress) error {
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
		err = x.blobFile(ctx, p.title, blob)
	} else {
		err = x.tarLayer(ctx, p, blob)
	}
	if err != nil {
		return fmt.Errorf("layer %s: %w", name, err)
	}
	// The decoders may stop before the end of the blob; reading it to the
	// end is what makes the verifying reader check size and digest.
	if _, err := io.Copy(io.Discard, blob); err != nil {
		return fmt.Errorf("layer %s: %w", name, err)
	}
	return nil
}

// blobFile writes the whole blob as the file name (an ORAS file layer).
func (x *extractor) blobFile(ctx context.Context, name string, r io.Reader) error {
	if x.entries[name] {
		return fmt.Errorf("%s: %w: written twice", name, ErrUnsafe)
	}
	x.entries[name] = true
	at, base, err := x.at(name)
	if err != nil {
		return err
	}
	f, err := at.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return entryErr(name, err)
	}
	_, err = io.Copy(f, countio.NewReader(r, countio.WithContext(ctx)))
	if err == nil {
		err = f.Chmod(0o666 &^ x.umask)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// tarLayer decompresses and applies one tar layer, checking the
// uncompressed digest and size at its end.
func (x *extractor) tarLayer(ctx context.Context, p layerPlan, blob io.Reader) error {
	zr, err := compress.NewReader(blob, p.codec)
	if err != nil {
		return corrupt(err)
	}
	defer zr.Close()
	// content counts and hashes (when the digest is annotated) the
	// uncompressed stream, and stops with ErrSizeMismatch as soon as it
	// passes the annotated size: a decompression bomb is cut off there.
	opts := []countio.Option{countio.WithLimit(p.contentSize, fmt.Errorf("%w: uncompressed content is more than the annotated %d bytes", layout.ErrSizeMismatch, p.contentSize))}
	var h *backgroundHash
	if p.contentDigest != "" {
		h = newBackgroundHash(p.contentDigest.Algorithm())
		defer h.finish() // after ahead.Close: nothing writes to it then
		opts = append(opts, countio.WithTee(h))
	}
	content := countio.NewReader(zr, opts...)
	if x.image {
		x.entries, x.touched = map[string]bool{}, map[string]bool{}
	}
	// Reading, hashing and decompressing the layer run on one goroutine,
	// the tar entries and file writes on this one.
	ahead := newReadAhead(content)
	defer ahead.Close()
	tr := tar.NewReader(ahead)
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("tar: %w", corrupt(err))
		}
		if p.contentSize >= 0 && hdr.Size > p.contentSize {
			return fmt.Errorf("%s: %w: declares %d bytes in a layer of %d", hdr.Name, ErrUnsafe, hdr.Size, p.contentSize)
		}
		if err := x.entry(hdr, tr, p.scope); err != nil {
			return err
		}
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

// entry applies one tar entry.
func (x *extractor) entry(hdr *tar.Header, r io.Reader, scope string) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return fmt.Errorf("%q: %w: %v", hdr.Name, ErrUnsafe, err)
	}
	if name == "" {
		return nil // the root directory itself ("./")
	}
	base := path.Base(name)
	if strings.HasPrefix(base, ".wh.") {
		if !x.image {
			return fmt.Errorf("%s: %w: whiteout in a layer that is not an image layer", name, ErrUnsafe)
		}
		return x.whiteout(name)
	}
	if scope != "" && name != scope && !strings.HasPrefix(name, scope+"/") {
		return fmt.Errorf("%s: %w: outside the layer's title %q", name, ErrUnsafe, scope)
	}
	if x.entries[name] {
		return fmt.Errorf("%s: %w: duplicate entry", name, ErrUnsafe)
	}
	// Only an image layer may replace what is there, and only what lower
	// layers wrote; anything this extract wrote stays.
	if !x.image || x.touched[name] {
		at, base, err := x.at(name)
		if err != nil {
			return err
		}
		fi, err := at.Lstat(base)
		if err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			return fmt.Errorf("%s: %w: conflicts with an earlier entry", name, ErrUnsafe)
		}
	}
	x.entries[name] = true
	if x.touched != nil {
		for p := name; p != "."; p = path.Dir(p) {
			x.touched[p] = true
		}
	}
	if layout.IsSparse(hdr) {
		// archive/tar expands holes itself: a few bytes could declare a
		// file of any size, bounded by nothing but the disk.
		return fmt.Errorf("%s: %w: sparse file", name, ErrUnsafe)
	}
	mode := x.mode(hdr.Mode)
	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(name, hdr, mode)
	case tar.TypeReg:
		return x.file(name, hdr, mode, r)
	case tar.TypeSymlink:
		return x.symlink(name, hdr)
	case tar.TypeLink:
		return x.hardlink(name, hdr, scope)
	case tar.TypeChar, tar.TypeBlock:
		return fmt.Errorf("%s: %w: device node", name, ErrUnsafe)
	case tar.TypeFifo:
		return fmt.Errorf("%s: %w: FIFO", name, ErrUnsafe)
	}
	return fmt.Errorf("%s: %w: tar entry type %q", name, ErrUnsafe, hdr.Typeflag)
}

// mode turns tar mode bits into the permission to set.
func (x *extractor) mode(tarMode int64) fs.FileMode {
	m := fs.FileMode(tarMode) & fs.ModePerm
	if !x.opts.PreservePermissions {
		return m &^ x.umask
	}
	if tarMode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if tarMode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if tarMode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func (x *extractor) dir(name string, hdr *tar.Header, mode fs.FileMode) error {
	at, base, err := x.at(name)
	if err != nil {
		return err
	}
	fi, err := at.Lstat(base)
	switch {
	case err == nil && fi.IsDir():
	case err == nil:
		if err := x.remove(name); err != nil { // an image replaces a file with a directory
			return err
		}
		fallthrough
	case errors.Is(err, fs.ErrNotExist):
		if at, base, err = x.at(name); err != nil {
			return err
		}
		if err := at.Mkdir(base, 0o700); err != nil {
			return entryErr(name, err)
		}
	default:
		return entryErr(name, err)
	}
	x.dirs[name] = dirMeta{mode: mode, mtime: hdr.ModTime, uid: hdr.Uid, gid: hdr.Gid}
	return nil
}

func (x *extractor) file(name string, hdr *tar.Header, mode fs.FileMode, r io.Reader) error {
	if err := x.replace(name); err != nil {
		return err
	}
	at, base, err := x.at(name)
	if err != nil {
		return err
	}
	f, err := at.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return entryErr(name, err)
	}
	n, err := io.Copy(f, readErrors{r})
	if err == nil && n != hdr.Size {
		err = fmt.Errorf("%w: %d of %d bytes", io.ErrUnexpectedEOF, n, hdr.Size)
	}
	if err == nil && x.opts.SameOwner {
		err = f.Chown(hdr.Uid, hdr.Gid)
	}
	if err == nil {
		err = f.Chmod(mode) // after Chown, which clears setuid and setgid
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = at.Chtimes(base, hdr.ModTime, hdr.ModTime)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (x *extractor) symlink(name string, hdr *tar.Header) error {
	if err := x.linkInside(name, hdr.Linkname); err != nil {
		return fmt.Errorf("%s -> %s: %w: %v", name, hdr.Linkname, ErrUnsafe, err)
	}
	if err := x.replace(name); err != nil {
		return err
	}
	at, base, err := x.at(name)
	if err != nil {
		return err
	}
	if err := at.Symlink(hdr.Linkname, base); err != nil {
		return entryErr(name, err)
	}
	if x.opts.SameOwner {
		if err := at.Lchown(base, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return x.lchtimes(name, hdr.ModTime)
}

func (x *extractor) hardlink(name string, hdr *tar.Header, scope string) error {
	target, err := cleanName(hdr.Linkname)
	if err == nil && target == "" {
		err = errors.New("empty target")
	}
	if err == nil && scope != "" && target != scope && !strings.HasPrefix(target, scope+"/") {
		err = fmt.Errorf("target outside the layer's title %q", scope)
	}
	if err == nil && target == name {
		err = errors.New("link to itself")
	}
	if err != nil {
		return fmt.Errorf("%s => %s: %w: %v", name, hdr.Linkname, ErrUnsafe, err)
	}
	fi, err := x.root.Lstat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s => %s: %w: the target is not a regular file already extracted", name, hdr.Linkname, ErrUnsafe)
	}
	if err := x.replace(name); err != nil {
		return err
	}
	if err := x.root.Link(target, name); err != nil {
		return entryErr(name, err)
	}
	return nil
}

// whiteout applies an image whiteout entry: ".wh..wh..opq" hides what lower
// layers put in its directory, ".wh.NAME" removes NAME. What the current
// layer wrote stays, whatever the order of the entries.
func (x *extractor) whiteout(name string) error {
	dir, base := path.Dir(name), path.Base(name)
	if base == ".wh..wh..opq" {
		if dir == "." {
			dir = ""
		}
		return x.opaque(dir)
	}
	if strings.HasPrefix(base, ".wh..wh.") {
		return nil // other AUFS metadata: nothing to apply
	}
	hidden := strings.TrimPrefix(base, ".wh.")
	if hidden == "" || hidden == "." || hidden == ".." {
		return fmt.Errorf("%s: %w: whiteout of %q", name, ErrUnsafe, hidden)
	}
	victim := path.Join(dir, hidden)
	if x.touched[victim] {
		return nil
	}
	return x.remove(victim)
}

// opaque removes, below dir, everything the current layer did not write.
func (x *extractor) opaque(dir string) error {
	d := dir
	if d == "" {
		d = "."
	}
	// Only a real directory: hiding the content of what a symlink names
	// would reach into another directory.
	if fi, err := x.root.Lstat(d); err != nil || !fi.IsDir() {
		return nil
	}
	f, err := x.root.Open(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return entryErr(d, err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return entryErr(d, err)
	}
	for _, n := range names {
		child := path.Join(dir, n)
		if !x.touched[child] {
			if err := x.remove(child); err != nil {
				return err
			}
			continue
		}
		if fi, err := x.root.Lstat(child); err == nil && fi.IsDir() {
			if err := x.opaque(child); err != nil {
				return err
			}
		}
	}
	return nil
}

// replace makes room for a non-directory at name: parents made, and
// whatever is there removed (only an image layer gets here with something
// there: within a layer, and in an artifact, duplicates are refused).
func (x *extractor) replace(name string) error {
	at, base, err := x.at(name)
	if err != nil {
		return err
	}
	if _, err := at.Lstat(base); err == nil {
		return x.remove(name)
	}
	return nil
}

// remove deletes name (a symlink itself, a directory with its content),
// and forgets the metadata of directories that went with it.
func (x *extractor) remove(name string) error {
	x.dropParent()
	if err := x.root.RemoveAll(name); err != nil {
		return entryErr(name, err)
	}
	for d := range x.dirs {
		if d == name || strings.HasPrefix(d, name+"/") {
			delete(x.dirs, d)
		}
	}
	return nil
}

// cleanName checks a tar entry name and returns it without a leading "./"
// or a trailing "/" ("" for the root itself). It refuses what is not a
// plain relative path: absolute, "..", backslash, NUL, empty or repeated
// separators, "." components.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.ContainsRune(name, 0) {
		return "", errors.New("NUL in name")
	}
	if strings.ContainsRune(name, '\\') {
		return "", errors.New("backslash in name")
	}
	if strings.HasPrefix(name, "/") {
		return "", errors.New("absolute name")
	}
	for strings.HasPrefix(name, "./") {
		name = name[2:]
	}
	name = strings.TrimSuffix(name, "/")
	if name == "" || name == "." {
		return "", nil
	}
	if err := checkName(name); err != nil {
		return "", err
	}
	return name, nil
}

// checkName checks a relative slash-separated name: local, canonical, no
// "..", backslash or NUL.
func checkName(name string) error {
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "..":
			return errors.New(`".." in name`)
		case "", ".":
			return errors.New("not a canonical name")
		}
	}
	if strings.ContainsAny(name, "\\\x00") {
		return errors.New("backslash or NUL in name")
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return errors.New("not a local name")
	}
	return nil
}

// maxLinkHops bounds the symlinks followed while resolving one target.
const maxLinkHops = 40

// linkInside reports whether a symlink at name with the given target would
// resolve inside the root, following the links already in the tree. A
// target that is absolute, goes above the root, loops, or applies ".." to
// a component that does not exist yet (which a later entry could make a
// link) is refused.
func (x *extractor) linkInside(name, target string) error {
	if target == "" || strings.ContainsRune(target, 0) {
		return errors.New("empty target or NUL in target")
	}
	if path.IsAbs(target) {
		return errors.New("absolute target")
	}
	dir := path.Dir(name)
	if dir == "." {
		dir = ""
	}
	at, err := x.resolve(nil, dir)
	if err != nil {
		return err
	}
	_, err = x.resolve(at, target)
	return err
}

// resolve walks rel from the directory at (a list of real components
// below the root) and returns where it ends.
func (x *extractor) resolve(at []string, rel string) ([]string, error) {
	todo := splitPath(rel)
	hops, unknown := 0, false
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if unknown {
				return nil, errors.New(`".." after a component that does not exist yet`)
			}
			if len(at) == 0 {
				return nil, errors.New("target escapes the output directory")
			}
			at = at[:len(at)-1]
			continue
		}
		if unknown {
			at = append(at, c)
			continue
		}
		p := path.Join(append(slices.Clone(at), c)...)
		fi, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			unknown = true
			at = append(at, c)
		case err != nil:
			return nil, err
		case fi.Mode()&fs.ModeSymlink != 0:
			if hops++; hops > maxLinkHops {
				return nil, errors.New("too many levels of symbolic links")
			}
			t, err := x.root.Readlink(p)
			if err != nil {
				return nil, err
			}
			if path.IsAbs(t) {
				return nil, fmt.Errorf("goes through %s, a link to an absolute path", p)
			}
			todo = append(splitPath(t), todo...)
		default:
			at = append(at, c)
		}
	}
	return at, nil
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// checkLinks checks every symlink of the finished tree again: in an image,
// a later layer may have replaced a directory a link went through.
func (x *extractor) checkLinks(ctx context.Context) error {
	return fs.WalkDir(x.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		t, err := x.root.Readlink(p)
		if err != nil {
			return err
		}
		if err := x.linkInside(p, t); err != nil {
			return fmt.Errorf("%s -> %s: %w: %v", p, t, ErrUnsafe, err)
		}
		return nil
	})
}

// entryErr wraps an error from writing name into the staging root. Errors
// of the environment (disk full, permissions, I/O) pass through; anything
// else means the layer asked for something impossible or unsafe (a path
// through a file, a link out of the root), which is ErrUnsafe.
func entryErr(name string, err error) error {
	for _, env := range []error{fs.ErrPermission, errNoSpace, errQuota, errIO, errReadOnly, errTooManyFiles} {
		if errors.Is(err, env) {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return fmt.Errorf("%s: %w: %v", name, ErrUnsafe, err)
}

// corrupt marks an error met while reading a layer as bad content
// (ErrCorrupt: a malformed compressed stream or tar), unless it is already a
// verdict on the content (a digest or size mismatch), or an error of the
// system (a *fs.PathError or errno from reading the blob file), or the
// context's.
func corrupt(err error) error {
	var pe *fs.PathError
	var errno syscall.Errno
	switch {
	case err == nil, errors.Is(err, io.EOF),
		errors.Is(err, ErrCorrupt), errors.Is(err, layout.ErrDigestMismatch), errors.Is(err, layout.ErrSizeMismatch),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &pe), errors.As(err, &errno):
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// readErrors passes corrupt over the errors of a layer's reader, so that an
// io.Copy from it into a file tells bad content from a failed write.
type readErrors struct{ r io.Reader }

func (re readErrors) Read(p []byte) (int, error) {
	n, err := re.r.Read(p)
	return n, corrupt(err)
}

// WriteExtractText writes a one-line summary of res for people.
func WriteExtractText(w io.Writer, res ExtractResult) error {
	var files, dirs, links int
	var size int64
	for _, e := range res.Entries {
		switch e.Type {
		case "file":
			files++
			size += e.Size
		case "dir":
			dirs++
		case "symlink":
			links++
		}
	}
	_, err := fmt.Fprintf(w, "extracted %s into %s: %d %s (%s), %d %s, %d %s\n", res.Digest, res.Dir,
		files, plural(files, "file", "files"), HumanBytes(size), dirs, plural(dirs, "directory", "directories"),
		links, plural(links, "symlink", "symlinks"))
	return err
}
