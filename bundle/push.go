package bundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/ocibundle/ocibundle/display"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/progress"
)

// PushResult describes a push.
type PushResult struct {
	Source    string        `json:"source"`
	Reference string        `json:"reference"` // REGISTRY/REPO:TAG, or @DIGEST when untagged
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
	Tags      []string      `json:"tags"`    // the registry tag pushed, if any
	Blobs     int           `json:"blobs"`   // blobs in the graph, manifests included
	Sent      int           `json:"sent"`    // blobs sent (manifests included)
	Skipped   int           `json:"skipped"` // blobs the registry had (sent: no)
	Bytes     int64         `json:"bytes"`   // bytes sent
	Referrers []Referrer    `json:"referrers"`
	Warnings  []string      `json:"warnings"` // verify's warnings about what was sent
}

// Push copies the bundle src names (LAYOUT:TAG, LAYOUT@DIGEST, or a LAYOUT
// holding one bundle) with oras.Copy to dst, REGISTRY/REPO[:TAG], then,
// unless opts.NoReferrers, each referrer index.json names of any manifest of
// the bundle's graph, and theirs in turn (the referrers Export takes), after
// its subject. The tag defaults to the layout tag (src's, or the entry's
// only one); an untagged bundle is pushed by digest. Before anything is
// sent, what would be sent (the bundle's graph and the referrers') passes
// the check import and pull make of what they receive (verifyGraph:
// verify's rules, every blob hashed): an error finding, such as a
// descriptor whose data is not its blob or a damaged blob, fails the push
// with verify.ErrFailed naming it, and the registry is sent nothing;
// verify's warnings are in res.Warnings. The blobs are then sent without
// being hashed again (layout.Store.FetchHashed: their sizes are checked;
// the registry checks each digest as it receives it). Blobs the
// registry has are not sent again, so a push that failed half-way resumes
// where it stopped.
// The layout's blob lock is held shared throughout, so a gc waits.
//
// Errors: ErrUnauthorized (401, 403), ErrNotInRegistry (404),
// verify.ErrFailed (a graph verify rejects), layout.ErrDigestMismatch
// (content that does not match its digest),
// layout.ErrBadReference (dst), and otherwise operational (an unknown
// host, a registry that stops answering).
func Push(ctx context.Context, src, dst string, opts RegistryOptions) (res PushResult, err error) {
	defer func() { err = redact(err, opts.Password) }()
	ref, err := parseRegistryReference(dst)
	if err != nil {
		return res, err
	}
	if _, derr := ref.Digest(); derr == nil {
		return res, fmt.Errorf("%s: %w: push to REGISTRY/REPO[:TAG]; the registry names the manifest by its own digest", dst, layout.ErrBadReference)
	}
	store, root, err := resolve(ctx, src)
	if err != nil {
		return res, err
	}
	tag, err := pushTag(src, dst, &ref, root)
	if err != nil {
		return res, err
	}
	repo, err := newRepository(ref, opts)
	if err != nil {
		return res, err
	}
	release, err := store.HoldBlobs(ctx)
	if err != nil {
		return res, err
	}
	defer release()

	g, referrers, companions, total, err := pushGraph(ctx, store, root, opts.NoReferrers)
	if err != nil {
		return res, err
	}
	res = PushResult{
		Source: src, Digest: root.Digest, MediaType: root.MediaType, Size: root.Size, Tags: []string{},
		Blobs: len(g.order), Referrers: []Referrer{}, Warnings: []string{},
	}
	// What goes out is checked as what comes in.
	index, err := graphIndex(slices.Concat([]ocispec.Descriptor{root}, referrers, companions))
	if err != nil {
		return res, err
	}
	warnings, err := verifyGraph(ctx, store, index, nil)
	res.Warnings = append(res.Warnings, warnings...)
	if err != nil {
		return res, fmt.Errorf("%s: %w", src, err)
	}
	if res.Referrers, err = describeReferrers(ctx, store, referrers); err != nil {
		return res, err
	}
	if tag != "" {
		res.Tags = append(res.Tags, tag)
	}
	dstRef := tag
	if dstRef == "" {
		dstRef = root.Digest.String()
		ref.Reference = dstRef
	}
	res.Reference = ref.String()

	// verifyGraph hashed every blob of g: it goes out without being hashed
	// again (the registry checks each digest as it receives it).
	from := &orasStore{store: store, progress: progress.Or(opts.Progress), hashed: map[digest.Digest]bool{}}
	for _, d := range g.order {
		from.hashed[d.Digest] = true
	}
	sent, sentBytes, err := pushCopy(ctx, from, repo, root, dstRef, referrers, companions, res.Reference, total, opts)
	if err != nil {
		return res, err
	}
	res.Sent, res.Bytes = sent, sentBytes
	res.Skipped = res.Blobs - res.Sent
	return res, nil
}

// pushTag returns the registry tag a push of src (whose bundle is root) to
// dst sets, and sets ref.Reference (ref is dst parsed) to it: dst's own tag
// if it names one; otherwise the layout tag, src's or root's
// org.opencontainers.image.ref.name annotation; "" (a push by digest) when
// there is none. A layout tag that is not a valid registry tag is
// layout.ErrBadReference. It reads nothing and writes nothing.
func pushTag(src, dst string, ref *registry.Reference, root ocispec.Descriptor) (string, error) {
	tag := ref.Reference
	if tag != "" {
		return tag, nil
	}
	if r, perr := layout.ParseReference(src); perr == nil && r.Tag != "" {
		tag = r.Tag
	} else {
		tag = root.Annotations[ocispec.AnnotationRefName]
	}
	// A layout tag may be a path ("release/1.0"); a registry tag may not.
	ref.Reference = tag
	if err := ref.ValidateReferenceAsTag(); tag != "" && err != nil {
		return "", fmt.Errorf("%s: %w: the layout tag %q is not a registry tag; name one as REGISTRY/REPO:TAG", dst, layout.ErrBadReference, tag)
	}
	return tag, nil
}

// pushGraph checks, before the first byte goes out, that everything a push
// of root will send is in store, present and of the right size: root's
// graph, then, unless noReferrers, the referrers index.json names of any
// manifest of it, and theirs in turn, and cosign's tag-form companions of
// all of these (graphWalk.companions). It returns the walk (g.order: the
// blobs walked), the referrers, each after its subject, the companions'
// index.json entries (tagged), and the bytes of the blobs walked (the
// progress bar's total). Errors are the walk's and reading index.json's;
// it only reads. The caller holds the blob lock.
func pushGraph(ctx context.Context, store *layout.Store, root ocispec.Descriptor, noReferrers bool) (*graphWalk, []ocispec.Descriptor, []ocispec.Descriptor, int64, error) {
	g := newGraphWalk(store)
	if err := g.walk(ctx, root); err != nil {
		return nil, nil, nil, 0, err
	}
	var referrers, companions []ocispec.Descriptor
	if !noReferrers {
		idx, err := store.ReadIndex(ctx)
		if err != nil {
			return nil, nil, nil, 0, err
		}
		if referrers, err = g.referrers(ctx, idx.Manifests); err != nil {
			return nil, nil, nil, 0, err
		}
		if companions, err = g.companions(ctx, idx.Manifests); err != nil {
			return nil, nil, nil, 0, err
		}
	}
	var total int64
	for _, d := range g.order {
		total += d.Size
	}
	return g, referrers, companions, total, nil
}

// pushCopy sends root's graph from srcStore to repo with oras.Copy,
// tagging the root dstRef (a tag, or root's digest), then each of
// referrers' graphs with oras.CopyGraph, in order, then each of
// companions with oras.Copy under its tag (cosign's tag form), reporting progress
// against total to srcStore's progress. It returns the blobs it sent (manifests included) and
// their bytes; a failure is registryError with reference (and 0, 0), the
// registry left holding what was sent, so a push run again resumes there.
func pushCopy(ctx context.Context, srcStore *orasStore, repo *remote.Repository, root ocispec.Descriptor, dstRef string, referrers, companions []ocispec.Descriptor, reference string, total int64, opts RegistryOptions) (int, int64, error) {
	progress := srcStore.progress
	// A node the registry has is skipped with all that lies below it (the
	// registry accepted it only with its children); the root is put again
	// to set the tag, which sends no blob.
	var sent, sentBytes atomic.Int64
	copyOpts := oras.CopyGraphOptions{
		Concurrency:    opts.Concurrency,
		FindSuccessors: successors,
		PostCopy: func(ctx context.Context, d ocispec.Descriptor) error {
			sent.Add(1)
			sentBytes.Add(d.Size)
			return nil
		},
	}
	progress.Start("push", total)
	defer progress.Finish()
	if _, err := oras.Copy(ctx, srcStore, root.Digest.String(), pushTarget{repo}, dstRef, oras.CopyOptions{CopyGraphOptions: copyOpts}); err != nil {
		return 0, 0, registryError(reference, err)
	}
	// Each referrer after its subject; the registry indexes it by its
	// subject (the referrers API, or the sha256-<hex> tag schema).
	for _, r := range referrers {
		if err := oras.CopyGraph(ctx, srcStore, pushTarget{repo}, referrerDescriptor(r), copyOpts); err != nil {
			return 0, 0, registryError(reference, err)
		}
	}
	for _, c := range companions {
		tag := c.Annotations[ocispec.AnnotationRefName]
		if _, err := oras.Copy(ctx, srcStore, c.Digest.String(), pushTarget{repo}, tag, oras.CopyOptions{CopyGraphOptions: copyOpts}); err != nil {
			return 0, 0, registryError(reference, err)
		}
	}
	return int(sent.Load()), sentBytes.Load(), nil
}

// pushTarget is the registry as push's destination. A registry killed in
// the middle of an upload can answer HEAD for that blob with a server error
// once it runs again, for good (distribution 2.8 writes the repository's
// link in place, so a kill inside that write leaves it empty: a 500,
// "invalid checksum digest format"; e2e TestRegistryHalfLinkedBlob). Once
// the retrying transport gives up, push sends the blob again, which the
// registry links afresh, rather than failing on a blob it would send
// anyway. Every other error stays one.
type pushTarget struct{ *remote.Repository }

func (t pushTarget) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	ok, err := t.Repository.Exists(ctx, desc)
	var er *errcode.ErrorResponse
	if errors.As(err, &er) && er.StatusCode >= http.StatusInternalServerError {
		return false, nil
	}
	return ok, err
}

// WritePushText writes res for people: the referrers sent along, then one
// summary line.
func WritePushText(w io.Writer, res PushResult) error {
	var b bytes.Buffer
	for _, r := range res.Referrers {
		fmt.Fprintf(&b, "referrer %s %s\n", r.Digest, display.String(r.ArtifactType))
	}
	fmt.Fprintf(&b, "pushed %s %s: %d blobs, %d sent (%d bytes), %d already there\n", res.Reference, res.Digest, res.Blobs, res.Sent, res.Bytes, res.Skipped)
	_, err := w.Write(b.Bytes())
	return err
}
