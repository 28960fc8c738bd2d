package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/display"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
	"github.com/ocibundle/ocibundle/verify"
)

// ImportOptions are the knobs of Import.
type ImportOptions struct {
	// Force moves a tag that already names another manifest in the layout.
	Force bool
	// Size is the archive's size when known (for progress), or 0.
	Size     int64
	Progress progress.Progress
}

// ImportResult describes an import. Warnings are filled even when Import
// fails, for the caller to show.
type ImportResult struct {
	Layout string `json:"layout"`
	// Archive is the archive as read: its sha256 and bytes (Path is set by
	// the caller, who named it).
	Archive Archive         `json:"archive"`
	Blobs   int             `json:"blobs"`   // blob members in the archive
	Written int             `json:"written"` // blobs newly written to the layout
	Entries []ImportedEntry `json:"bundles"`
	// Moved lists the tags Force moved from another manifest (the tag rule).
	Moved []layout.TagMove `json:"moved"`
	// Delta is the base digest a delta archive names (the blobs it left
	// out were found in the layout and re-hashed), or "".
	Delta    string   `json:"delta,omitempty"`
	Warnings []string `json:"warnings"`
}

// ImportedEntry is one index.json entry of the archive (or of a pull) and
// what the merge did with it: "added", "unchanged" or "moved" (a tag
// moved by Force).
type ImportedEntry = layout.MergedEntry

// Import reads the archive r (hostile) into the layout at dir, created when
// missing. Members are judged by layout.ArchiveReader's rules; every blob is
// hashed while it is written under dir/ingest and committed only when its
// name, digest and size agree (a blob already in the layout is hashed from
// the archive and not written again). After the stream, the graph the
// archive's index.json names must be whole (in the archive or already in
// the layout) and pass verify's checks; only then is index.json merged,
// atomically, under the layout lock: a new tag is added, the same tag with
// the same digest is unchanged, the same tag with another digest fails with
// layout.ErrTagConflict unless opts.Force (the tag rule, layout.Merge), untagged entries merge by digest. The
// layout's blob lock is held shared (layout.Store.HoldBlobs) from the start
// to the merge, so a concurrent gc waits instead of collecting blobs that
// are committed but not yet named.
//
// A tag the archive gives to several manifests (docker save 25+ names every
// image "latest") is not set unless opts.Force, which gives it to the last
// of them and says so in a warning; either way every manifest is merged
// (untagged but the one forced), and unforced Import then returns
// layout.ErrDuplicateTag naming the digests.
//
// On success Import has read r to its end (only zero bytes may follow the
// tar). On failure it stops reading. When dir was missing (or an empty
// directory), the archive is refused (any error but the system's, such as
// disk full, and ctx's cancellation, which a re-run resumes) and nothing
// was merged, what Import created is removed: a refused archive leaves no
// layout behind. Otherwise index.json is unchanged (but for
// ErrDuplicateTag); blobs already committed stay, verified and
// unreferenced (gc removes them, a re-run reuses them). Errors: layout.ErrUnsafeArchive, ErrBadArchive or
// ErrTooLarge for a refused archive, layout.ErrDigestMismatch or
// ErrSizeMismatch for a blob whose bytes do not match its name,
// layout.ErrBlobNotFound for an incomplete graph, ErrDeltaBase for a delta
// whose left-out blobs the layout does not hold sound (each named; this is
// checked before the graph's other rules), verify.ErrFailed for a
// graph verify rejects, layout.ErrTagConflict; anything else is operational.
func Import(ctx context.Context, dir string, r io.Reader, opts ImportOptions) (res ImportResult, err error) {
	res = ImportResult{Layout: dir, Entries: []ImportedEntry{}, Moved: []layout.TagMove{}, Warnings: []string{}}
	im := &importer{dir: dir}
	defer im.close()
	if missing, empty := freshTarget(dir); missing || empty {
		defer func() {
			if err != nil && len(res.Entries) == 0 && !resumable(err) {
				im.close() // the blob lock, before what holds it goes
				err = im.removeCreated(err, missing)
			}
		}()
	}
	// A directory that exists must be a layout (or empty) before anything
	// is read; a missing one is created at the first blob.
	if _, serr := os.Stat(dir); serr == nil {
		if err := im.open(ctx); err != nil {
			return res, err
		}
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return res, layout.PathErr(dir, serr)
	}
	progress := progress.Or(opts.Progress)
	total := opts.Size
	if total <= 0 {
		total = -1
	}
	progress.Start("import", total)
	defer progress.Finish()
	h := newBackgroundHash(digest.SHA256)
	defer h.finish()
	counted := countio.NewReader(r, countio.WithContext(ctx), countio.WithProgress(progress), countio.WithTee(h))
	ar := layout.NewArchiveReader(counted)

	layoutDoc, indexDoc, err := im.readStream(ctx, ar, &res)
	if err != nil {
		return res, err
	}
	res.Archive.Digest, res.Archive.Size = h.Digest(), counted.N()

	idx, err := checkArchiveDocs(layoutDoc, indexDoc)
	if err != nil {
		return res, err
	}
	if err := im.open(ctx); err != nil {
		return res, err
	}
	if err := im.verifyReceived(ctx, &idx, indexDoc, &res); err != nil {
		return res, err
	}
	entries, err := mergeIndex(ctx, im.store, idx, opts.Force)
	if entries != nil {
		res.Entries, res.Moved = entries, layout.Moves(entries)
	}
	for _, e := range entries {
		for _, other := range e.Others {
			res.Warnings = append(res.Warnings, fmt.Sprintf("tag %q: --force gave it to %s, the last entry of the archive naming it; %s was imported untagged", e.Tags[0], e.Digest, other))
		}
	}
	return res, err
}

// verifyReceived verifies what the archive brought into im.store before
// idx is merged: for a delta (index.json naming a base), first that the
// blobs it leaves out are here and sound (ErrDeltaBase, each named), and
// removes the delta mark from idx so that the layout is what a full archive
// gives; then the graph's whole-index rules and verify's verdict, whose
// warnings go to res.Warnings.
func (im *importer) verifyReceived(ctx context.Context, idx *ocispec.Index, indexDoc []byte, res *ImportResult) error {
	var graph *verify.Report // the delta's graph, verified once
	if base := idx.Annotations[profile.AnnotationDeltaBase]; base != "" {
		res.Delta = base
		var err error
		if graph, err = checkDeltaBase(ctx, im.store, indexDoc, im.received, im.written, base); err != nil {
			return err
		}
		delete(idx.Annotations, profile.AnnotationDeltaBase)
		if len(idx.Annotations) == 0 {
			idx.Annotations = nil
		}
	}
	if err := checkGraphWhole(ctx, im.store, *idx); err != nil {
		return err
	}
	var warnings []string
	var err error
	if graph != nil {
		warnings, err = judgeGraph(graph)
	} else {
		warnings, err = verifyGraph(ctx, im.store, indexDoc, im.written)
	}
	res.Warnings = append(res.Warnings, warnings...)
	return err
}

// readStream reads the archive stream ar to its end: it stores every blob
// member (im.blob), counts them in res.Blobs and res.Written, adds a
// warning to res.Warnings for each skipped member with a note, and returns
// the oci-layout and index.json members' bytes (nil when absent; each
// capped at layout.MaxDocumentSize), then drains what follows the tar.
// It stops at the first error: ctx's cause, ar's (layout.ErrUnsafeArchive,
// ErrBadArchive, ErrTooLarge), or a blob's (layout.ErrDigestMismatch,
// ErrSizeMismatch, operational). Blobs committed before it are left in
// the layout, verified and unreferenced; index.json is not touched.
func (im *importer) readStream(ctx context.Context, ar *layout.ArchiveReader, res *ImportResult) (layoutDoc, indexDoc []byte, err error) {
	for {
		if err := context.Cause(ctx); err != nil {
			return nil, nil, err
		}
		m, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch m.Kind {
		case layout.MemberSkipped:
			if m.Note != "" {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s: skipped: %s", m.Name, m.Note))
			}
		case layout.MemberLayoutFile, layout.MemberIndex:
			data, err := layout.ReadCapped(ar, layout.MaxDocumentSize)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", m.Name, err)
			}
			if m.Kind == layout.MemberLayoutFile {
				layoutDoc = data
			} else {
				indexDoc = data
			}
		case layout.MemberBlob:
			res.Blobs++
			written, err := im.blob(ctx, ar, m)
			if err != nil {
				return nil, nil, err
			}
			if written {
				res.Written++
			}
		}
	}
	if _, err := ar.Drain(); err != nil {
		return nil, nil, err
	}
	return layoutDoc, indexDoc, nil
}

// checkArchiveDocs checks the archive's oci-layout and index.json members
// (nil when the archive had none) and returns the parsed index. A missing
// member fails with layout.ErrBadArchive; a bad one with its checker's
// error (layout.ErrBadDocument and the like), prefixed by the file name.
// It reads and writes nothing on disk.
func checkArchiveDocs(layoutDoc, indexDoc []byte) (ocispec.Index, error) {
	if layoutDoc == nil {
		return ocispec.Index{}, fmt.Errorf("%w: no %s member: not an OCI layout archive", layout.ErrBadArchive, layout.LayoutFile)
	}
	if err := layout.CheckLayoutFile(layoutDoc); err != nil {
		return ocispec.Index{}, fmt.Errorf("%s: %w", layout.LayoutFile, err)
	}
	if indexDoc == nil {
		return ocispec.Index{}, fmt.Errorf("%w: no %s member", layout.ErrBadArchive, layout.IndexFile)
	}
	idx, err := parseArchiveIndex(indexDoc)
	if err != nil {
		return idx, fmt.Errorf("%s: %w", layout.IndexFile, err)
	}
	return idx, nil
}

// checkGraphWhole walks, in store, the whole graph idx's entries name and
// returns nil when every blob is present with its size. Otherwise it
// returns the walk's error (e.g. layout.ErrBlobNotFound) wrapped as "the
// graph is incomplete or invalid"; it only reads the layout.
func checkGraphWhole(ctx context.Context, store *layout.Store, idx ocispec.Index) error {
	g := newGraphWalk(store)
	for _, e := range idx.Manifests {
		if err := g.walk(ctx, e); err != nil {
			return fmt.Errorf("%s: the graph is incomplete or invalid: %w", layout.IndexFile, err)
		}
	}
	return nil
}

// checkDeltaBase checks, before anything is merged, that every blob of the
// graph index (the delta's index.json) the archive did not carry (not in
// received) is in store, a regular file of its size that hashes to its
// digest: verify.VerifyGraph re-hashes them (blobs in written were hashed
// as they were committed). Otherwise it fails with ErrDeltaBase naming the
// base and each blob that is missing or damaged. It returns the report,
// which is verifyGraph's (judgeGraph). It only reads.
func checkDeltaBase(ctx context.Context, store *layout.Store, index []byte, received, written map[digest.Digest]bool, base string) (*verify.Report, error) {
	rep, err := verify.VerifyGraph(ctx, store.Root(), index, "graph", verify.Options{Hashed: written})
	if err != nil {
		return nil, err
	}
	carried := map[string]bool{}
	for d := range received {
		p, _ := layout.BlobPath(d) // validated by the archive reader
		carried[p] = true
	}
	var bad []string
	for _, f := range rep.Findings {
		if f.Severity != verify.Error || carried[f.Location] {
			continue
		}
		switch f.Code {
		case verify.BlobMissing:
			bad = append(bad, f.Location+": missing")
		case verify.SizeMismatch, verify.DigestMismatch, verify.NotRegularFile:
			bad = append(bad, fmt.Sprintf("%s: %s", f.Location, f.Message))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: a delta of the base %s, which this layout does not hold whole: %s", ErrDeltaBase, base, strings.Join(bad, "; "))
	}
	return rep, nil
}

// importer holds the layout an import writes to, opened or created on
// first need, and the blob lock that keeps gc off its blobs.
type importer struct {
	dir     string
	store   *layout.Store
	release func()
	written map[digest.Digest]bool // blobs this import hashed and committed
	// received are the blobs the archive held (hashed as they passed).
	received map[digest.Digest]bool
}

func (im *importer) open(ctx context.Context) error {
	if im.store != nil {
		return nil
	}
	store, err := layout.Create(ctx, im.dir)
	if err != nil {
		return err
	}
	// From the first blob to the index.json merge, a concurrent gc must
	// not judge the new blobs unreferenced (see layout.Store.HoldBlobs).
	release, err := store.HoldBlobs(ctx)
	if err != nil {
		return err
	}
	im.store, im.release = store, release
	return nil
}

func (im *importer) close() {
	if im.release != nil {
		im.release()
		im.release = nil
	}
}

// resumable reports whether err stopped an import for a reason outside the
// archive (the system's: disk full, I/O, permission; or ctx's
// cancellation), after which a re-run reuses the blobs written.
func resumable(err error) bool {
	var errno syscall.Errno
	return errors.Is(err, context.Canceled) || errors.As(err, &errno)
}

// freshTarget reports whether dir is missing, or an empty directory: a
// layout Import would create.
func freshTarget(dir string) (missing, empty bool) {
	names, err := os.ReadDir(dir)
	return errors.Is(err, fs.ErrNotExist), err == nil && len(names) == 0
}

// removeCreated removes the layout a failed Import created in dir (dir
// itself when it was missing, else what it holds), unless its index.json
// names a manifest (another writer's, since this import merged nothing).
// A removal that fails is added to err.
func (im *importer) removeCreated(err error, missing bool) error {
	if im.store == nil {
		return err // nothing was created
	}
	if idx, rerr := im.store.ReadIndex(context.Background()); rerr != nil || len(idx.Manifests) > 0 {
		return err
	}
	var rerr error
	if missing {
		rerr = os.RemoveAll(im.dir)
	} else if names, derr := os.ReadDir(im.dir); derr != nil {
		rerr = derr
	} else {
		for _, n := range names {
			rerr = errors.Join(rerr, os.RemoveAll(filepath.Join(im.dir, n.Name())))
		}
	}
	if rerr != nil {
		return fmt.Errorf("%w (removing the layout it created: %v)", err, rerr)
	}
	return err
}

// blob stores one blob member, or, when the layout has it already, hashes
// the member against its name without writing it. It reports whether it
// wrote the blob.
func (im *importer) blob(ctx context.Context, ar *layout.ArchiveReader, m layout.ArchiveMember) (bool, error) {
	if err := im.open(ctx); err != nil {
		return false, err
	}
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: m.Digest, Size: m.Size}
	if im.received == nil {
		im.received = map[digest.Digest]bool{}
	}
	im.received[m.Digest] = true
	ok, err := im.store.Exists(ctx, desc)
	if err != nil {
		return false, fmt.Errorf("%s: in the layout: %w", m.Name, err)
	}
	if ok {
		if _, err := io.Copy(io.Discard, layout.NewVerifier(ar, desc)); err != nil {
			return false, fmt.Errorf("%s: %w", m.Name, err)
		}
		return false, nil
	}
	if err := im.store.Put(ctx, desc, ar); err != nil {
		return false, fmt.Errorf("%s: %w", m.Name, err)
	}
	if im.written == nil {
		im.written = map[digest.Digest]bool{}
	}
	im.written[m.Digest] = true
	return true, nil
}

// parseArchiveIndex parses the archive's index.json and checks every entry
// before anything is merged: a valid digest, a media type, a valid tag.
func parseArchiveIndex(data []byte) (ocispec.Index, error) {
	doc, err := layout.ParseDocument(data, ocispec.MediaTypeImageIndex)
	idx := doc.Index()
	if err != nil {
		return idx, err
	}
	for i, e := range idx.Manifests {
		if err := layout.ValidateDigest(e.Digest); err != nil {
			return idx, fmt.Errorf("/manifests/%d: %w", i, err)
		}
		if e.MediaType == "" {
			return idx, fmt.Errorf("/manifests/%d: %w: no mediaType", i, layout.ErrBadDocument)
		}
		if tag, ok := e.Annotations[ocispec.AnnotationRefName]; ok {
			if err := layout.ValidateTag(tag); err != nil {
				return idx, fmt.Errorf("/manifests/%d: %w", i, err)
			}
		}
	}
	return idx, nil
}

// mergeIndex merges the archive's entries and index annotations into the
// layout's index.json under the lock, with layout.Merge: Import receives, so
// a tag moves only when forced. Conflicts are found before anything changes,
// but for a tag the archive gives to several manifests (docker save 25+):
// unforced, the manifests are merged untagged, and the error
// (layout.ErrDuplicateTag) comes after index.json is written.
func mergeIndex(ctx context.Context, store *layout.Store, idx ocispec.Index, force bool) ([]ImportedEntry, error) {
	var entries []ImportedEntry
	var dup error
	err := store.UpdateIndex(ctx, func(cur *ocispec.Index) (err error) {
		entries, err = layout.Merge(cur, idx, force)
		if errors.Is(err, layout.ErrDuplicateTag) {
			dup, err = err, nil
		}
		return err
	})
	if err == nil {
		err = dup
	}
	return entries, err
}

// WriteImportText writes res for people.
func WriteImportText(w io.Writer, res ImportResult) error {
	var b bytes.Buffer
	writeEntries(&b, res.Entries)
	fmt.Fprintf(&b, "imported %s: %d blobs (%d written), archive %s, %d bytes\n", res.Layout, res.Blobs, res.Written, res.Archive.Digest, res.Archive.Size)
	if res.Delta != "" {
		fmt.Fprintf(&b, "delta of the base %s: every blob it left out is in the layout and verified\n", res.Delta)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteExportText writes res for people: what a sender publishes.
func WriteExportText(w io.Writer, res ExportResult) error {
	var b strings.Builder
	for _, p := range res.Archive.Parts {
		fmt.Fprintf(&b, "part      %s %d %s\n", p.Digest, p.Size, p.Name)
	}
	if res.Archive.ChecksumFile != "" {
		fmt.Fprintf(&b, "checksums %s\n", res.Archive.ChecksumFile)
	}
	name := res.Archive.Path
	if name == "" {
		name = "-"
	}
	fmt.Fprintf(&b, "archive   %s %d %s\n", res.Archive.Digest, res.Archive.Size, name)
	if res.Delta != nil {
		fmt.Fprintf(&b, "delta     base %s: %d blobs (%d bytes) left out\n", res.Delta.Base, res.Delta.LeftOut, res.Delta.LeftOutSize)
	}
	for _, e := range res.Bundles {
		kind := "bundle"
		if e.Referrer {
			kind = "referrer"
		}
		fmt.Fprintf(&b, "%-9s %s %s\n", kind, e.Digest, orDash(strings.Join(display.Strings(e.Tags), ",")))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeEntries writes one line per index.json entry an import or pull
// merged: status, digest, tag.
func writeEntries(w io.Writer, entries []ImportedEntry) {
	for _, e := range entries {
		fmt.Fprintf(w, "%-9s %s %s\n", e.Status, e.Digest, orDash(strings.Join(display.Strings(e.Tags), ",")))
	}
}
