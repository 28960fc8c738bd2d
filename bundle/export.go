package bundle

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/atomicfile"
	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
)

// ExportOptions are the knobs of Export. The zero value exports the
// selected bundles with their referrers and mtime 0.
type ExportOptions struct {
	// NoReferrers leaves out the manifests whose subject is in the export.
	NoReferrers bool
	// ModTime is every member's mtime (SOURCE_DATE_EPOCH); the zero value
	// means 1970-01-01T00:00:00Z.
	ModTime time.Time
	// Split, when above zero, cuts the archive ExportFile writes into parts
	// of at most Split bytes (FILE.000, FILE.001, …) plus FILE.sha256.
	Split int64
	// Since, when set, makes the archive a delta of that base (export
	// --since): blobs the base's inventory lists with their digest and
	// size are left out, but for indexes, manifests and configs, which
	// always travel; index.json names the base's digest
	// (profile.AnnotationDeltaBase).
	Since    *Base
	Progress progress.Progress
}

// ExportResult is what a sender publishes out of band.
type ExportResult struct {
	Archive Archive          `json:"archive"`
	Blobs   int              `json:"blobs"`
	Bundles []ExportedBundle `json:"bundles"`
	// Referrers are the manifests that travel because their subject does
	// (those of Bundles marked Referrer), described as push and pull
	// describe theirs.
	Referrers []Referrer `json:"referrers"`
	Warnings  []string   `json:"warnings"` // verify's warnings about what was exported
	// Delta is set for a delta archive (ExportOptions.Since).
	Delta *Delta `json:"delta,omitempty"`
}

// Delta describes what a delta archive leaves out.
type Delta struct {
	Base        digest.Digest `json:"base"`        // the base inventory's digest
	LeftOut     int           `json:"leftOut"`     // blobs left out
	LeftOutSize int64         `json:"leftOutSize"` // their bytes
}

// Archive describes an archive written or read (docs/json.md).
type Archive struct {
	// Path is the file ("-" for standard output or input).
	Path   string        `json:"path"`
	Digest digest.Digest `json:"digest"` // sha256 of the whole archive
	Size   int64         `json:"size"`   // bytes
	// Parts and ChecksumFile are set for a split archive.
	Parts        []Part `json:"parts,omitempty"`
	ChecksumFile string `json:"checksumFile,omitempty"`
}

// ExportedBundle is one entry of the archive's index.json.
type ExportedBundle struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Tags      []string      `json:"tags"` // the entry's tag, if any
	// Referrer is set for a manifest that travels because its subject does.
	Referrer bool `json:"referrer,omitempty"`
}

// layoutVersionDoc is the oci-layout file every archive starts with.
var layoutVersionDoc = []byte(`{"imageLayoutVersion":"1.0.0"}`)

// exportPlan is what an export writes: the index.json document and every
// blob once, parents before children.
type exportPlan struct {
	store     *layout.Store
	index     []byte
	blobs     []ocispec.Descriptor
	bundles   []ExportedBundle
	referrers []Referrer
	delta     *Delta
	warnings  []string // verifyGraph's
	total     int64    // the archive's size in bytes
	release   func()   // releases the blob lock
}

// Export writes an archive of the bundles refs name to w and returns its
// digest and size. All refs must name the same layout (otherwise
// layout.ErrBadReference); a bare LAYOUT
// exports every entry of its index.json, LAYOUT:TAG and LAYOUT@DIGEST
// select entries (each as index.json holds it, its annotations included);
// index.json's own annotations go along either way. Manifests listed in the
// layout's index.json whose subject is in the exported graph go along unless
// opts.NoReferrers.
//
// The archive is deterministic: the same layout and selection give the same
// bytes. Before the first byte is written, what the archive will hold
// passes the check import and pull make of what they receive
// (verifyGraph: verify's rules): an error finding, such as a descriptor
// whose data is not its blob, fails the export with verify.ErrFailed
// naming it, and w receives nothing; verify's warnings are in the result.
// Every blob is hashed while it is copied (that is the check of its
// bytes, so a blob is read once); a blob that does not match its digest
// or size fails the export with ErrDigestMismatch or ErrSizeMismatch
// naming it, after w has received part of the archive but never its
// end-of-archive marker. Export does not close w.
func Export(ctx context.Context, w io.Writer, refs []string, opts ExportOptions) (ExportResult, error) {
	plan, err := planExport(ctx, refs, opts.NoReferrers, opts.Since)
	if err != nil {
		return ExportResult{}, err
	}
	defer plan.release()
	progress := progress.Or(opts.Progress)
	progress.Start("export", plan.total)
	defer progress.Finish()
	h := newBackgroundHash(digest.SHA256)
	defer h.finish()
	cw := countio.NewWriter(io.MultiWriter(w, h), countio.WithContext(ctx), countio.WithProgress(progress))
	if err := writeArchive(ctx, cw, plan.store, plan.index, plan.blobs, opts.ModTime); err != nil {
		return ExportResult{}, err
	}
	return ExportResult{
		Archive:   Archive{Digest: h.Digest(), Size: cw.N()},
		Blobs:     len(plan.blobs),
		Bundles:   plan.bundles,
		Referrers: plan.referrers,
		Warnings:  plan.warnings,
		Delta:     plan.delta,
	}, nil
}

// ExportFile writes the archive to file, mode 0644, atomically
// (atomicfile: a temporary file next to it, renamed into place when
// complete), so that a failed or cancelled export leaves no file and an
// earlier file is untouched. With opts.Split it writes the parts and
// FILE.sha256 instead (see SplitWriter), each committed the same way once
// the whole archive is written, then removes the parts of an earlier split
// export to FILE that the new set does not have (RemoveStaleParts); on
// failure or cancellation no new part and no new FILE.sha256 is left.
func ExportFile(ctx context.Context, file string, refs []string, opts ExportOptions) (res ExportResult, err error) {
	if opts.Split > 0 {
		sw := NewSplitWriter(file, opts.Split)
		listed := false
		defer func() {
			if err != nil && !listed {
				sw.Remove()
			}
		}()
		if res, err = Export(ctx, sw, refs, opts); err != nil {
			return res, err
		}
		if err = sw.Commit(ctx); err != nil {
			return res, err
		}
		res.Archive.Path, res.Archive.Parts = file, sw.Parts()
		if res.Archive.ChecksumFile, err = WriteChecksumFile(ctx, file, res.Archive.Parts, res.Archive.Digest); err != nil {
			return res, err
		}
		listed = true // the new set is complete: stale parts go, whatever happens
		return res, RemoveStaleParts(file, res.Archive.Parts)
	}
	f, err := atomicfile.NextTo(file, 0o644)
	if err != nil {
		return ExportResult{}, layout.PathErr(file, err)
	}
	defer f.Abort()
	if res, err = Export(ctx, f, refs, opts); err != nil {
		return res, err
	}
	if err = f.Commit(ctx, file); err != nil {
		return res, err
	}
	res.Archive.Path = file
	return res, nil
}

// planExport resolves refs, selects the index.json entries and the
// referrers, walks the graph, and leaves out what since has (when not nil).
func planExport(ctx context.Context, refs []string, noReferrers bool, since *Base) (_ *exportPlan, err error) {
	parsed, err := parseExportRefs(refs)
	if err != nil {
		return nil, err
	}
	store, err := layout.Open(parsed[0].Path)
	if err != nil {
		return nil, err
	}
	// Held shared from the plan to the last blob, so that a gc cannot
	// remove what the export is about to read (it waits; packs and imports
	// go on). The caller releases it.
	release, err := store.HoldBlobs(ctx)
	if err != nil {
		return nil, err
	}
	plan := &exportPlan{store: store, release: release, referrers: []Referrer{}, warnings: []string{}}
	defer func() {
		if err != nil {
			release()
		}
	}()
	idx, err := store.ReadIndex(ctx)
	if err != nil {
		return nil, err
	}
	out, whole, err := selectBundles(ctx, store, idx, parsed)
	if err != nil {
		return nil, err
	}
	for _, e := range out.Manifests {
		plan.bundles = append(plan.bundles, ExportedBundle{Tags: entryTags(e), Digest: e.Digest, MediaType: e.MediaType})
	}
	g := newGraphWalk(store)
	for _, e := range out.Manifests {
		if err := g.walk(ctx, e); err != nil {
			return nil, err
		}
	}
	if !noReferrers {
		if err := plan.addReferrers(ctx, g, idx.Manifests, &out, whole); err != nil {
			return nil, err
		}
	}
	plan.blobs = g.order
	if since != nil {
		plan.leaveOut(&out, since, g.configs)
	}
	if plan.index, err = json.Marshal(out); err != nil {
		return nil, err
	}
	// What goes out is checked as what comes in; writeArchive hashes
	// every blob as it copies it and fails on a mismatch. A blob a delta
	// leaves out is the importer's to hash, in its own layout.
	hashed := map[digest.Digest]bool{}
	for _, d := range g.order {
		hashed[d.Digest] = true
	}
	warnings, err := verifyGraph(ctx, store, plan.index, hashed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", parsed[0].Path, err)
	}
	plan.warnings = append(plan.warnings, warnings...)
	plan.total = archiveSize(int64(len(plan.index)), plan.blobs)
	return plan, nil
}

// leaveOut makes the plan a delta of base: it drops from plan.blobs every
// blob base has (digest and size) but indexes, manifests and configs (the
// manifests' configs), and names base's digest in out's annotations (a
// copy: the layout's map is not changed). The documents and configs are
// small, and with them the delta alone can be listed, inspected and
// verified (diff_ids included) where its base is not.
func (plan *exportPlan) leaveOut(out *ocispec.Index, base *Base, configs map[digest.Digest]bool) {
	plan.delta = &Delta{Base: base.Digest}
	kept := plan.blobs[:0:0]
	for _, d := range plan.blobs {
		if !profile.IsDocument(d.MediaType) && !configs[d.Digest] && base.Inventory.Has(d) {
			plan.delta.LeftOut++
			plan.delta.LeftOutSize += d.Size
			continue
		}
		kept = append(kept, d)
	}
	plan.blobs = kept
	annotations := maps.Clone(out.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[profile.AnnotationDeltaBase] = base.Digest.String()
	out.Annotations = annotations
}

// parseExportRefs parses refs, which must be at least one and all name the
// same layout (compared as absolute, cleaned paths). It returns them parsed, in
// order; errors are ErrBadInput for no refs, ParseReference's own,
// fs.ErrNotExist for a second path that does not exist ("PATH: no such file
// or directory", as any missing layout), or layout.ErrBadReference for a
// second layout. Nothing is opened.
func parseExportRefs(refs []string) ([]layout.Reference, error) {
	if len(refs) == 0 {
		return nil, fmt.Errorf("%w: nothing to export", ErrBadInput)
	}
	var parsed []layout.Reference
	for _, s := range refs {
		ref, err := layout.ParseReference(s)
		if err != nil {
			return nil, err
		}
		if len(parsed) > 0 && !samePath(ref.Path, parsed[0].Path) {
			if _, err := os.Lstat(ref.Path); errors.Is(err, fs.ErrNotExist) {
				return nil, layout.PathErr(ref.Path, err)
			}
			return nil, fmt.Errorf("%s: %w: an archive holds one layout, and %s is another", s, layout.ErrBadReference, parsed[0].Path)
		}
		parsed = append(parsed, ref)
	}
	return parsed, nil
}

// samePath reports whether a and b name one path once made absolute and
// cleaned ("L", "./L/" and "/cwd/L" are one layout); symlinks are not
// followed, since nothing is opened.
func samePath(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return absA == absB
}

// selectBundles builds the archive's index.json from the layout's idx: all
// its entries when any ref names the whole layout (no tag, no digest; whole
// is then true), else each ref resolved in store, in order, duplicates
// (same digest and tag) dropped. The layout's index annotations are kept
// either way. Errors are store.Resolve's (e.g. layout.ErrTagNotFound);
// nothing is written.
func selectBundles(ctx context.Context, store *layout.Store, idx ocispec.Index, parsed []layout.Reference) (out ocispec.Index, whole bool, err error) {
	out = ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{},
	}
	for _, ref := range parsed {
		whole = whole || (ref.Tag == "" && ref.Digest == "")
	}
	// index.json's own annotations ($index, --index-annotation) describe
	// the layout's content: they travel with a selection too.
	out.Annotations = idx.Annotations
	if whole {
		out.Manifests = append(out.Manifests, idx.Manifests...)
		return out, whole, nil
	}
	for _, ref := range parsed {
		desc, err := store.Resolve(ctx, ref)
		if err != nil {
			return out, whole, err
		}
		if !hasEntry(out.Manifests, desc) {
			out.Manifests = append(out.Manifests, desc)
		}
	}
	return out, whole, nil
}

// archiveSize returns the archive's exact size in bytes, as writeArchive
// writes it: a header (with its PAX records, if any) and padded data per
// member (oci-layout, an index.json of indexSize bytes, the directories,
// each blob), and the end-of-archive marker. (The mtime does not change a
// header's size before the year 2242.)
func archiveSize(indexSize int64, blobs []ocispec.Descriptor) int64 {
	epoch := time.Unix(0, 0)
	member := func(name string, n int64, dir bool) int64 {
		cw := countio.NewWriter(nil)
		// Only the header blocks are written: the counter has them all.
		_ = tar.NewWriter(cw).WriteHeader(memberHeader(name, n, dir, epoch))
		return cw.N() + (n+511)/512*512
	}
	total := member(layout.LayoutFile, int64(len(layoutVersionDoc)), false) + member(layout.IndexFile, indexSize, false) + 1024
	for _, dir := range archiveDirs(blobs) {
		total += member(dir, 0, true)
	}
	for _, d := range blobs {
		name, _ := layout.BlobPath(d.Digest) // validated by the walk
		total += member(name, d.Size, false)
	}
	return total
}

// archiveDirs returns the directory members: blobs/, blobs/sha256/ (always:
// the archives of sha256 layouts are what they always were), and
// blobs/<alg>/ for each other algorithm a blob uses.
func archiveDirs(blobs []ocispec.Descriptor) []string {
	dirs := []string{layout.BlobsDir + "/", layout.BlobsDir + "/" + digest.SHA256.String() + "/"}
	for _, alg := range layout.Algorithms {
		if alg != digest.SHA256 && slices.ContainsFunc(blobs, func(d ocispec.Descriptor) bool { return d.Digest.Algorithm() == alg }) {
			dirs = append(dirs, layout.BlobsDir+"/"+alg.String()+"/")
		}
	}
	return dirs
}

// memberHeader is the header of every archive member: mode 0644
// (directories 0755), uid/gid 0, no user or group names, mtime modTime. It
// names no format: archive/tar writes plain USTAR whenever USTAR can hold
// the header, as for every archive of blobs under 8 GiB with sha256 names
// (byte for byte what earlier versions wrote), and PAX records only for
// what USTAR cannot hold: a size of 8 GiB or more, a name longer than
// USTAR's 100 bytes (+155 of prefix), as blobs/sha512/<128 hex>.
func memberHeader(name string, size int64, dir bool, modTime time.Time) *tar.Header {
	h := &tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: modTime, Typeflag: tar.TypeReg}
	if dir {
		h.Mode, h.Typeflag = 0o755, tar.TypeDir
	}
	return h
}

// addReferrers adds to the plan, and to out (the archive's index.json),
// the referrers that entries (index.json's) name of every document walked
// so far, and theirs in turn, with their graphs; each is listed under
// Referrers and marked Referrer among the bundles. Cosign's tag-form
// companions of those documents (graphWalk.companions) go along too, with
// their tags, marked Referrer (they travel because their subject does).
func (plan *exportPlan) addReferrers(ctx context.Context, g *graphWalk, entries []ocispec.Descriptor, out *ocispec.Index, whole bool) error {
	referrers, err := g.referrers(ctx, entries)
	if err != nil {
		return err
	}
	if whole {
		// Every entry, referrers included, is in a whole export and was
		// walked as one, so none is new; they travel all the same and are
		// listed as a selection lists them.
		referrers = g.walkedReferrers(ctx)
		isReferrer := map[digest.Digest]bool{}
		for _, r := range referrers {
			isReferrer[r.Digest] = true
		}
		for i, b := range plan.bundles {
			plan.bundles[i].Referrer = isReferrer[b.Digest]
		}
	}
	if plan.referrers, err = describeReferrers(ctx, plan.store, referrers); err != nil {
		return err
	}
	if whole {
		return nil
	}
	// cosign's tag-form companions of what travels, with their tags.
	companions, err := g.companions(ctx, entries)
	if err != nil {
		return err
	}
	for _, e := range referrers {
		plan.addEntry(out, e)
	}
	for _, e := range companions {
		if !hasEntry(out.Manifests, e) {
			plan.addEntry(out, e)
		}
	}
	return nil
}

// addEntry adds e, an entry that travels because its subject does, to out
// and the plan's bundles.
func (plan *exportPlan) addEntry(out *ocispec.Index, e ocispec.Descriptor) {
	out.Manifests = append(out.Manifests, e)
	plan.bundles = append(plan.bundles, ExportedBundle{Tags: entryTags(e), Digest: e.Digest, MediaType: e.MediaType, Referrer: true})
}

func hasEntry(entries []ocispec.Descriptor, d ocispec.Descriptor) bool {
	for _, e := range entries {
		if e.Digest == d.Digest && e.Annotations[ocispec.AnnotationRefName] == d.Annotations[ocispec.AnnotationRefName] {
			return true
		}
	}
	return false
}

// writeArchive writes the archive members: oci-layout, index.json, the blobs
// directories (archiveDirs), then each blob, copied through the store's
// verifying reader. Headers: memberHeader, mtime modTime (the epoch when
// zero).
func writeArchive(ctx context.Context, w io.Writer, store *layout.Store, index []byte, blobs []ocispec.Descriptor, modTime time.Time) error {
	if modTime.IsZero() {
		modTime = time.Unix(0, 0)
	}
	modTime = modTime.UTC().Truncate(time.Second)
	tw := tar.NewWriter(w)
	header := func(name string, size int64, dir bool) error {
		if err := tw.WriteHeader(memberHeader(name, size, dir, modTime)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	for _, doc := range []struct {
		name string
		data []byte
	}{{layout.LayoutFile, layoutVersionDoc}, {layout.IndexFile, index}} {
		if err := header(doc.name, int64(len(doc.data)), false); err != nil {
			return err
		}
		if _, err := tw.Write(doc.data); err != nil {
			return err
		}
	}
	for _, dir := range archiveDirs(blobs) {
		if err := header(dir, 0, true); err != nil {
			return err
		}
	}
	for _, desc := range blobs {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		name, err := layout.BlobPath(desc.Digest)
		if err != nil {
			return err
		}
		rc, err := store.Fetch(ctx, desc)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := header(name, desc.Size, false); err != nil {
			rc.Close()
			return err
		}
		_, err = io.Copy(tw, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return tw.Close()
}
