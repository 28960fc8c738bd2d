package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
)

// PullResult describes a pull.
type PullResult struct {
	Reference string          `json:"reference"`
	Layout    string          `json:"layout"`
	Digest    digest.Digest   `json:"digest"`
	MediaType string          `json:"mediaType"`
	Size      int64           `json:"size"`
	Entries   []ImportedEntry `json:"bundles"` // what index.json gained
	// Moved lists the tags Force moved from another manifest (the tag rule).
	Moved     []layout.TagMove `json:"moved"`
	Blobs     int              `json:"blobs"`   // blobs in the graph, manifests included
	Written   int              `json:"written"` // newly committed to the layout
	Bytes     int64            `json:"bytes"`   // bytes received
	Referrers []Referrer       `json:"referrers"`
	Warnings  []string         `json:"warnings"`
}

// Pull copies the manifest src names (REGISTRY/REPO:TAG or
// REGISTRY/REPO@DIGEST) and its graph into the layout at dir (created when
// missing) with oras.CopyGraph, then, unless opts.NoReferrers, the
// registry's referrers of every manifest of the graph, and theirs in turn
// (the referrers API, or the sha256-<hex> tag schema), each only when its
// subject is that manifest (layout.CheckedFinder: other entries of the
// registry's list are left out, each with a line in res.Warnings), and
// cosign's tag-form companions of every manifest of the graph (the
// manifests the registry has under layout.CosignTags, kept under their
// tags). Every
// blob goes through layout.Store.Put: hashed while written under dir/ingest and
// committed only when its digest and size match the descriptor (otherwise
// layout.ErrDigestMismatch or ErrSizeMismatch). After the copy the graph
// must be whole and pass verify's checks (as Import's); only then is
// index.json updated, atomically, with layout.Merge: each of tags (default:
// the tag of src; none for a digest) is set on the manifest, and each
// referrer gets an untagged entry. Pull receives: a tag that names another
// manifest fails with layout.ErrTagConflict naming both digests unless
// opts.Force, checked before the first blob is fetched, and nothing is
// merged; an entry already there stays as it is, its annotations included.
// The blob lock is held shared from the first blob to that update.
//
// An interrupted pull leaves index.json as it was and the blobs it
// committed verified and unreferenced; running it again skips them (its
// manifests are fetched again, to find what lies below them). Errors as
// Push's.
func Pull(ctx context.Context, src, dir string, tags []string, opts RegistryOptions) (res PullResult, err error) {
	defer func() { err = redact(err, opts.Password) }()
	ref, err := parseRegistryReference(src)
	if err != nil {
		return res, err
	}
	if ref.Reference == "" {
		return res, fmt.Errorf("%s: %w: name a tag (REGISTRY/REPO:TAG) or a digest (REGISTRY/REPO@DIGEST)", src, layout.ErrBadReference)
	}
	if tags, err = pullTags(ref, tags); err != nil {
		return res, err
	}
	// A directory that exists must be a layout (or empty) before the
	// registry is asked anything; a missing one is created once the
	// manifest is found.
	var store *layout.Store
	if _, serr := os.Stat(dir); serr == nil {
		if store, err = layout.Create(ctx, dir); err != nil {
			return res, err
		}
	}
	repo, err := newRepository(ref, opts)
	if err != nil {
		return res, err
	}
	res = PullResult{Reference: src, Layout: dir, Entries: []ImportedEntry{}, Moved: []layout.TagMove{}, Referrers: []Referrer{}, Warnings: []string{}}
	root, rootData, err := pullRoot(ctx, src, repo, ref)
	if err != nil {
		return res, err
	}
	res.Digest, res.MediaType, res.Size = root.Digest, root.MediaType, root.Size
	look := startLookups(ctx, repo, root, opts.NoReferrers)
	if store, err = pullDestination(ctx, dir, store, root, tags, opts.Force); err != nil {
		return res, err
	}
	release, err := store.HoldBlobs(ctx)
	if err != nil {
		return res, err
	}
	defer release()

	dst, g, referrers, companions, err := pullCopy(ctx, src, store, pullSource{repo, root, rootData}, root, look, opts, &res.Warnings)
	res.Written, res.Bytes = int(dst.written.Load()), dst.received.Load()
	if err != nil {
		return res, err
	}

	// verify's rules, as for an import.
	res.Blobs = len(g.order)
	idx, referrerEntries, err := pulledIndex(ctx, store, root, referrers, companions, tags)
	if err != nil {
		return res, err
	}
	if res.Referrers, err = describeReferrers(ctx, store, referrerEntries); err != nil {
		return res, err
	}
	indexDoc, err := json.Marshal(idx)
	if err != nil {
		return res, err
	}
	warnings, err := verifyGraph(ctx, store, indexDoc, dst.hashed())
	res.Warnings = append(res.Warnings, warnings...)
	if err != nil {
		return res, err
	}
	if res.Entries, err = mergeIndex(ctx, store, idx, opts.Force); err != nil {
		return res, err
	}
	res.Moved = layout.Moves(res.Entries)
	return res, nil
}

// pullRoot returns the descriptor the registry resolves ref (src parsed,
// naming a tag or a digest) to, and the document's bytes, checked against
// it: one GET of the manifest, which the copy then reads from memory
// (pullSource). Errors: the registry's, through registryError
// (ErrNotInRegistry, ErrUnauthorized, ...); ErrUnsupported when it is not a
// manifest or an index; layout.ErrTooLarge past layout.MaxDocumentSize;
// layout.ValidateDigest's, wrapped with src, when its digest is not one a
// layout takes; layout.ErrDigestMismatch when the bytes are not the
// digest's. It writes nothing.
func pullRoot(ctx context.Context, src string, repo *remote.Repository, ref registry.Reference) (ocispec.Descriptor, []byte, error) {
	root, rc, err := repo.FetchReference(ctx, ref.Reference)
	if err != nil {
		return root, nil, registryError(src, err)
	}
	defer rc.Close()
	if !profile.IsDocument(root.MediaType) {
		return root, nil, fmt.Errorf("%s: %w: %s is a %q, not a manifest or index", src, ErrUnsupported, root.Digest, root.MediaType)
	}
	if err := layout.ValidateDigest(root.Digest); err != nil {
		return root, nil, fmt.Errorf("%s: %w", src, err)
	}
	if root.Size > layout.MaxDocumentSize {
		return root, nil, fmt.Errorf("%s: %s: %w: %d bytes, at most %d allowed", src, root.Digest, layout.ErrTooLarge, root.Size, layout.MaxDocumentSize)
	}
	data, err := content.ReadAll(rc, root)
	if err != nil {
		return root, nil, registryError(src, err)
	}
	return root, data, nil
}

// pullSource is the registry as the source of a pull's copy: the root
// document, fetched once by pullRoot, is read from memory.
type pullSource struct {
	*remote.Repository
	root ocispec.Descriptor
	data []byte
}

func (s pullSource) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if desc.Digest == s.root.Digest && desc.Size == s.root.Size {
		return io.NopCloser(bytes.NewReader(s.data)), nil
	}
	return s.Repository.Fetch(ctx, desc)
}

// pullDestination returns the layout a pull of root under tags writes to.
// With store (dir existed, opened as a layout) it checks, before any blob
// is fetched, that root's entries merge into its index.json: a tag that
// would move fails with layout.ErrTagConflict, wrapped with dir, unless
// force, and the layout is left as it was (the merge checks again, under
// the lock). With store nil it creates the layout at dir (layout.Create's
// errors); the new layout stays on disk if the pull then fails.
func pullDestination(ctx context.Context, dir string, store *layout.Store, root ocispec.Descriptor, tags []string, force bool) (*layout.Store, error) {
	if store == nil {
		return layout.Create(ctx, dir)
	}
	cur, err := store.ReadIndex(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := layout.Merge(&cur, ocispec.Index{Manifests: layout.Entries(root, tags)}, force); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return store, nil
}

// pullCopy fetches root's graph from the registry (from: the root read from
// memory) into store with oras.CopyGraph while look's lookups run;
// checks the graph is whole there, then, unless opts.NoReferrers, copies the
// registry's referrers of each of its documents, and theirs in turn
// (pullReferrers), reporting progress to opts.Progress; a referrer the
// registry lists that is not one is left out, described in *warnings;
// then cosign's tag-form companions of every document walked
// (pullCompanions). It returns the copy's target, always, for its counts
// (written, received, hashed); the walk (g.order: the blobs walked); the
// referrers, each after its subject; and the companions' entries, tagged. Errors: the registry's, through registryError; an incomplete or invalid graph; a ReferrersError. Blobs
// committed stay in store, verified and unreferenced; index.json is not
// touched. The caller holds the blob lock.
func pullCopy(ctx context.Context, src string, store *layout.Store, from pullSource, root ocispec.Descriptor, look pullLookups, opts RegistryOptions, warnings *[]string) (*pullTarget, *graphWalk, []ocispec.Descriptor, []ocispec.Descriptor, error) {
	repo := from.Repository
	progress := progress.Or(opts.Progress)
	dst := &pullTarget{orasStore: orasStore{store: store, progress: progress, recheckManifests: true}}
	copyOpts := oras.CopyGraphOptions{Concurrency: opts.Concurrency, FindSuccessors: successors}
	progress.Start("pull", pullTotal(root, from.data))
	err := oras.CopyGraph(ctx, from, dst, root, copyOpts)
	// The graph, whole in the layout; then, unless opts.NoReferrers, the
	// registry's referrers of each of its documents, copied and walked in
	// turn.
	g := newGraphWalk(store)
	if err == nil {
		if err = g.walk(ctx, root); err != nil {
			err = fmt.Errorf("%s: the pulled graph is incomplete or invalid: %w", src, err)
		}
	} else {
		err = registryError(src, err)
	}
	var referrers, companions []ocispec.Descriptor
	if err == nil && !opts.NoReferrers {
		referrers, err = pullReferrers(ctx, src, repo, dst, g, look.ahead, copyOpts, warnings)
	}
	if err == nil && !opts.NoReferrers {
		companions, err = pullCompanions(ctx, src, repo, dst, g, <-look.tags, copyOpts, warnings)
	}
	progress.Finish()
	return dst, g, referrers, companions, err
}

// pullLookups are the registry's answers a pull needs beside the graph,
// asked for on goroutines as soon as the root is known, so that their
// round trips overlap the layout's creation and the copy.
type pullLookups struct {
	tags  chan map[string]bool // the tag list (registryTags), sent once
	ahead *referrersAhead      // root's referrers
}

// startLookups starts asking repo for its tag list and root's referrers;
// with noReferrers it asks nothing (neither is used).
func startLookups(ctx context.Context, repo *remote.Repository, root ocispec.Descriptor, noReferrers bool) pullLookups {
	look := pullLookups{tags: make(chan map[string]bool, 1)}
	if !noReferrers {
		go func() { look.tags <- registryTags(ctx, repo) }()
		look.ahead = askReferrersAhead(ctx, repo, root)
	}
	return look
}

// pullTags returns the tags a pull of ref sets: tags, or the registry tag
// when none are given (none for a pull by digest), each checked
// (layout.ErrBadTag).
func pullTags(ref registry.Reference, tags []string) ([]string, error) {
	if len(tags) == 0 {
		if _, derr := ref.Digest(); derr != nil {
			tags = []string{ref.Reference}
		}
	}
	for _, t := range tags {
		if err := layout.ValidateTag(t); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// pullReferrers copies the registry's referrers of every document g has
// walked, and theirs in turn (layout.CollectReferrers, the one referrer
// walk), each with its graph into dst, and returns them. Only referrers by
// layout's definition are taken (checkedReferrers): what the registry
// lists besides them is never fetched beyond its manifest, and is
// described in *warnings. ahead, when set, holds the list of one subject
// asked for already. A failure is a ReferrersError.
func pullReferrers(ctx context.Context, src string, repo *remote.Repository, dst *pullTarget, g *graphWalk, ahead *referrersAhead, copyOpts oras.CopyGraphOptions, warnings *[]string) ([]ocispec.Descriptor, error) {
	referrers, err := layout.CollectReferrers(ctx, g.docs, checkedReferrers(src, repo, ahead, warnings), func(ctx context.Context, r ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		if err := oras.CopyGraph(ctx, repo, dst, referrerDescriptor(r), copyOpts); err != nil {
			return nil, registryError(src, err)
		}
		return g.take(ctx, r)
	})
	if err != nil {
		return nil, &ReferrersError{Where: "the registry", Err: err}
	}
	return referrers, nil
}

// pullTotal is the progress bar's total for a pull of root (data, its
// bytes): the bytes of a manifest, its config and its layers, or -1
// (unknown) for an index.
func pullTotal(root ocispec.Descriptor, data []byte) int64 {
	if !profile.IsManifest(root.MediaType) {
		return -1
	}
	var m ocispec.Manifest
	if json.Unmarshal(data, &m) != nil {
		return -1
	}
	total := root.Size + m.Config.Size
	for _, l := range m.Layers {
		total += l.Size
	}
	return total
}

// pulledIndex is the index of what a pull adds to index.json: root's entry
// under each of tags (one untagged entry when there are none), then one
// entry per referrer, then the companions' entries (tagged); it also
// returns the referrers' entries. Each entry carries its document's
// artifactType, read from the layout.
func pulledIndex(ctx context.Context, store *layout.Store, root ocispec.Descriptor, referrers, companions []ocispec.Descriptor, tags []string) (ocispec.Index, []ocispec.Descriptor, error) {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	entries := []ocispec.Descriptor{}
	for _, d := range append([]ocispec.Descriptor{root}, referrers...) {
		e, err := indexEntry(ctx, store, d)
		if err != nil {
			return idx, nil, err
		}
		entries = append(entries, e)
	}
	idx.Manifests = append(idx.Manifests, layout.Entries(entries[0], tags)...)
	idx.Manifests = append(idx.Manifests, entries[1:]...)
	for _, c := range companions {
		e, err := indexEntry(ctx, store, c)
		if err != nil {
			return idx, nil, err
		}
		idx.Manifests = append(idx.Manifests, layout.Entry(e, c.Annotations[ocispec.AnnotationRefName], nil))
	}
	return idx, entries[1:], nil
}

// pullTarget is the layout as the destination of a pull: it counts the
// blobs it commits and the bytes it receives.
type pullTarget struct {
	orasStore
	written  atomic.Int64
	received atomic.Int64
	mu       sync.Mutex
	fresh    map[digest.Digest]bool // blobs committed (so hashed) by this pull
}

// hashed returns the blobs this pull committed; call it when the copy is
// over.
func (p *pullTarget) hashed() map[digest.Digest]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fresh
}

func (p *pullTarget) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	had, err := p.store.Exists(ctx, desc)
	if err != nil {
		return err
	}
	cr := countio.NewReader(r, countio.WithProgress(p.progress))
	err = p.store.Put(ctx, desc, cr)
	p.received.Add(cr.N())
	if err == nil && !had {
		p.written.Add(1)
		p.mu.Lock()
		if p.fresh == nil {
			p.fresh = map[digest.Digest]bool{}
		}
		p.fresh[desc.Digest] = true
		p.mu.Unlock()
	}
	return err
}

// indexEntry is the index.json entry for the manifest or index d names in
// the layout: media type, digest, size, and the document's artifactType.
func indexEntry(ctx context.Context, store *layout.Store, d ocispec.Descriptor) (ocispec.Descriptor, error) {
	data, err := store.FetchAll(ctx, d, layout.MaxDocumentSize)
	if err != nil {
		return d, err
	}
	var probe struct {
		ArtifactType string `json:"artifactType"`
	}
	if err := layout.DecodeStrict(data, &probe); err != nil {
		return d, fmt.Errorf("%s: %w", d.Digest, err)
	}
	return ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, ArtifactType: probe.ArtifactType}, nil
}

// WritePullText writes res for people: what index.json gained, then one
// summary line.
func WritePullText(w io.Writer, res PullResult) error {
	var b bytes.Buffer
	writeEntries(&b, res.Entries)
	fmt.Fprintf(&b, "pulled %s into %s: %d blobs (%d written), %d bytes received\n", res.Reference, res.Layout, res.Blobs, res.Written, res.Bytes)
	_, err := w.Write(b.Bytes())
	return err
}
