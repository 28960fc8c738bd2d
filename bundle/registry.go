package bundle

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
)

// RegistryOptions say how Push and Pull reach a registry and what they copy.
type RegistryOptions struct {
	// PlainHTTP speaks HTTP instead of HTTPS (registries on loopback).
	PlainHTTP bool
	// Insecure accepts any TLS certificate (self-signed test registries).
	Insecure bool
	// CAFile is a PEM file of certificates trusted besides the system's.
	CAFile string
	// Username and Password, when Username is set, are the only
	// credentials used; otherwise the Docker config file is read
	// (DOCKER_CONFIG/config.json, else ~/.docker/config.json, with its
	// credential helpers). The password never appears in an error.
	Username string
	Password string
	// Concurrency is the number of blobs copied at once (oras-go's default
	// when 0).
	Concurrency int
	// NoReferrers leaves out the referrers (signatures, SBOMs) of the
	// manifests of the graph. By default they are copied, and theirs in
	// turn (layout.CollectReferrers), as Export takes them.
	NoReferrers bool
	// Force lets Pull move a layout tag that names another manifest; without
	// it Pull fails with layout.ErrTagConflict (the tag rule).
	Force    bool
	Progress progress.Progress
}

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
}

// Referrer describes a manifest whose subject is another (a signature, an
// SBOM): one inspect lists, or one copied because its subject was.
type Referrer struct {
	ArtifactType string        `json:"artifactType,omitempty"`
	Digest       digest.Digest `json:"digest"`
	MediaType    string        `json:"mediaType"`
	Size         int64         `json:"size"` // bytes of the referrer's manifest
	// Created is its org.opencontainers.image.created annotation, when set.
	Created string `json:"created,omitempty"`
}

// describeReferrers describes the referrers descs name, each read from
// store (verified): its artifact type as profile.ArtifactType says, its
// created annotation. inspect, export, push and pull report referrers
// with it, so that their JSON names them alike; the result is never nil.
func describeReferrers(ctx context.Context, store *layout.Store, descs []ocispec.Descriptor) ([]Referrer, error) {
	out := []Referrer{}
	for _, d := range descs {
		doc, err := store.ReadDocument(ctx, d)
		if err != nil {
			return nil, err
		}
		var config string
		if doc.Config != nil {
			config = doc.Config.MediaType
		}
		out = append(out, Referrer{
			ArtifactType: profile.ArtifactType(doc.ArtifactType, config),
			Digest:       d.Digest, MediaType: d.MediaType, Size: d.Size,
			Created: doc.Annotations[ocispec.AnnotationCreated],
		})
	}
	return out, nil
}

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

// parseRegistryReference parses REGISTRY/REPO[:TAG|@DIGEST]; an error wraps
// layout.ErrBadReference and names s and the reason once (oras-go's
// message repeats "invalid reference").
func parseRegistryReference(s string) (registry.Reference, error) {
	ref, err := registry.ParseReference(s)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), errdef.ErrInvalidReference.Error()+": ")
		return ref, fmt.Errorf("%s: %w: %s", s, layout.ErrBadReference, reason)
	}
	return ref, nil
}

// Push copies the bundle src names (LAYOUT:TAG, LAYOUT@DIGEST, or a LAYOUT
// holding one bundle) with oras.Copy to dst, REGISTRY/REPO[:TAG], then,
// unless opts.NoReferrers, each referrer index.json names of any manifest of
// the bundle's graph, and theirs in turn (the referrers Export takes), after
// its subject. The tag defaults to the layout tag (src's, or the entry's
// only one); an untagged bundle is pushed by digest. The whole graph must be
// in the layout before anything is sent; every blob is read through the
// layout's verifying reader, so a damaged blob stops the push with
// layout.ErrDigestMismatch or ErrSizeMismatch. Blobs the registry has are
// not sent again, so a push that failed half-way resumes where it stopped.
// The layout's blob lock is held shared throughout, so a gc waits.
//
// Errors: ErrUnauthorized (401, 403), ErrNotInRegistry (404),
// layout.ErrDigestMismatch (content that does not match its digest),
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
	tag := ref.Reference
	if tag == "" {
		if r, perr := layout.ParseReference(src); perr == nil && r.Tag != "" {
			tag = r.Tag
		} else {
			tag = root.Annotations[ocispec.AnnotationRefName]
		}
		// A layout tag may be a path ("release/1.0"); a registry tag may not.
		ref.Reference = tag
		if err := ref.ValidateReferenceAsTag(); tag != "" && err != nil {
			return res, fmt.Errorf("%s: %w: the layout tag %q is not a registry tag; name one as REGISTRY/REPO:TAG", dst, layout.ErrBadReference, tag)
		}
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

	progress := progress.Or(opts.Progress)
	srcStore := &orasStore{store: store, progress: progress}
	// Everything that will be sent, present and of the right size, before
	// the first byte goes out; the total for the progress bar.
	g := newGraphWalk(store)
	if err := g.walk(ctx, root); err != nil {
		return res, err
	}
	var referrers []ocispec.Descriptor
	if !opts.NoReferrers {
		idx, err := store.ReadIndex(ctx)
		if err != nil {
			return res, err
		}
		if referrers, err = g.referrers(ctx, idx.Manifests); err != nil {
			return res, err
		}
	}
	var total int64
	for _, d := range g.order {
		total += d.Size
	}
	res = PushResult{
		Source: src, Digest: root.Digest, MediaType: root.MediaType, Size: root.Size, Tags: []string{},
		Blobs: len(g.order),
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
	if _, err = oras.Copy(ctx, srcStore, root.Digest.String(), pushTarget{repo}, dstRef, oras.CopyOptions{CopyGraphOptions: copyOpts}); err != nil {
		return res, registryError(res.Reference, err)
	}
	// Each referrer after its subject; the registry indexes it by its
	// subject (the referrers API, or the sha256-<hex> tag schema).
	for _, r := range referrers {
		if err := oras.CopyGraph(ctx, srcStore, pushTarget{repo}, referrerDescriptor(r), copyOpts); err != nil {
			return res, registryError(res.Reference, err)
		}
	}
	res.Sent, res.Bytes = int(sent.Load()), sentBytes.Load()
	res.Skipped = res.Blobs - res.Sent
	return res, nil
}

// successors returns the children of a document (layout.Document: its
// leaves, then its manifests), the graph layout.Walker walks, for oras-go's
// copy. oras-go's own content.Successors adds a manifest's subject, so that
// push and pull of a referrer sent or fetched its subject's graph too: a
// graph that was neither checked before the first byte nor counted.
// Referrers travel the other way, each after its subject.
func successors(ctx context.Context, f content.Fetcher, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	if !profile.IsDocument(desc.MediaType) {
		return nil, nil
	}
	data, err := content.FetchAll(ctx, f, desc)
	if err != nil {
		return nil, err
	}
	doc, err := layout.ParseDocument(data, desc.MediaType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", desc.Digest, err)
	}
	return append(doc.Leaves(), doc.Manifests...), nil
}

// referrerDescriptor is the descriptor of a referrer as an index.json
// entry holds it, without the layout's tag: that names the entry in this
// layout, not the manifest.
func referrerDescriptor(e ocispec.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: e.MediaType, Digest: e.Digest, Size: e.Size, ArtifactType: e.ArtifactType}
}

// registryReferrers is a repository's referrers API as a
// layout.ReferrerFinder (oras-go falls back to the sha256-<hex> tag schema
// on a registry without the API).
type registryReferrers struct{ repo *remote.Repository }

func (r registryReferrers) Referrers(ctx context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	var out []ocispec.Descriptor
	err := r.repo.Referrers(ctx, subject, "", func(refs []ocispec.Descriptor) error {
		out = append(out, refs...)
		return nil
	})
	return out, err
}

// Pull copies the manifest src names (REGISTRY/REPO:TAG or
// REGISTRY/REPO@DIGEST) and its graph into the layout at dir (created when
// missing) with oras.CopyGraph, then, unless opts.NoReferrers, the
// registry's referrers of every manifest of the graph, and theirs in turn
// (the referrers API, or the sha256-<hex> tag schema). Every blob goes
// through layout.Store.Put: hashed while written under dir/ingest and
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
	if len(tags) == 0 {
		if _, derr := ref.Digest(); derr != nil {
			tags = []string{ref.Reference}
		}
	}
	for _, t := range tags {
		if err := layout.ValidateTag(t); err != nil {
			return res, err
		}
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
	root, err := repo.Resolve(ctx, ref.Reference)
	if err != nil {
		return res, registryError(src, err)
	}
	if !profile.IsDocument(root.MediaType) {
		return res, fmt.Errorf("%s: %w: %s is a %q, not a manifest or index", src, ErrUnsupported, root.Digest, root.MediaType)
	}
	if err := layout.ValidateDigest(root.Digest); err != nil {
		return res, fmt.Errorf("%s: %w", src, err)
	}
	res.Digest, res.MediaType, res.Size = root.Digest, root.MediaType, root.Size

	if store != nil {
		// Pull receives: a tag that would move without opts.Force fails
		// before any blob is fetched (and again, under the lock, at the
		// merge).
		cur, err := store.ReadIndex(ctx)
		if err != nil {
			return res, err
		}
		if _, err := layout.Merge(&cur, ocispec.Index{Manifests: layout.Entries(root, tags)}, opts.Force); err != nil {
			return res, fmt.Errorf("%s: %w", dir, err)
		}
	} else if store, err = layout.Create(ctx, dir); err != nil {
		return res, err
	}
	release, err := store.HoldBlobs(ctx)
	if err != nil {
		return res, err
	}
	defer release()

	progress := progress.Or(opts.Progress)
	total := int64(-1)
	if profile.IsManifest(root.MediaType) {
		// The manifest names every blob with its size: the bar's total.
		// (oras-go fetches it again for the copy; it is small.)
		if data, err := content.FetchAll(ctx, repo, root); err == nil {
			var m ocispec.Manifest
			if json.Unmarshal(data, &m) == nil {
				total = root.Size + m.Config.Size
				for _, l := range m.Layers {
					total += l.Size
				}
			}
		}
	}
	dst := &pullTarget{orasStore: orasStore{store: store, progress: progress, recheckManifests: true}}
	copyOpts := oras.CopyGraphOptions{Concurrency: opts.Concurrency, FindSuccessors: successors}
	progress.Start("pull", total)
	err = oras.CopyGraph(ctx, repo, dst, root, copyOpts)
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
	var referrers []ocispec.Descriptor
	if err == nil && !opts.NoReferrers {
		referrers, err = layout.CollectReferrers(ctx, g.docs, registryReferrers{repo}, func(ctx context.Context, r ocispec.Descriptor) ([]ocispec.Descriptor, error) {
			if err := oras.CopyGraph(ctx, repo, dst, referrerDescriptor(r), copyOpts); err != nil {
				return nil, registryError(src, err)
			}
			return g.take(ctx, r)
		})
		if err != nil {
			err = fmt.Errorf("looking for referrers in the registry (--no-referrers skips it): %w", err)
		}
	}
	progress.Finish()
	res.Written, res.Bytes = int(dst.written.Load()), dst.received.Load()
	if err != nil {
		return res, err
	}

	// verify's rules, as for an import.
	entries := []ocispec.Descriptor{}
	for _, d := range append([]ocispec.Descriptor{root}, referrers...) {
		e, err := indexEntry(ctx, store, d)
		if err != nil {
			return res, err
		}
		entries = append(entries, e)
	}
	res.Blobs = len(g.order)
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	idx.Manifests = append(idx.Manifests, layout.Entries(entries[0], tags)...)
	idx.Manifests = append(idx.Manifests, entries[1:]...)
	if res.Referrers, err = describeReferrers(ctx, store, entries[1:]); err != nil {
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

// newRepository returns the oras-go client for ref: TLS as opts say,
// oras-go's retrying transport (429 and 5xx answers, timeouts), and the
// credentials of opts or the Docker config.
func newRepository(ref registry.Reference, opts RegistryOptions) (*remote.Repository, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if opts.CAFile != "" || opts.Insecure {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: opts.Insecure}
		if opts.CAFile != "" {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			pem, err := os.ReadFile(opts.CAFile)
			if err != nil {
				return nil, fmt.Errorf("--ca-file: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--ca-file %s: %w: no PEM certificate in it", opts.CAFile, ErrBadInput)
			}
			cfg.RootCAs = pool
		}
		transport.TLSClientConfig = cfg
	}
	client := &auth.Client{
		Client: &http.Client{Transport: retry.NewTransport(transport)},
		Cache:  auth.NewCache(),
		Header: http.Header{"User-Agent": {"ocibundle"}},
	}
	if opts.Username != "" {
		client.Credential = auth.StaticCredential(ref.Registry, auth.Credential{Username: opts.Username, Password: opts.Password})
	} else {
		store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("docker config: %w", err)
		}
		client.Credential = credentials.Credential(store)
	}
	repo := &remote.Repository{Reference: ref, PlainHTTP: opts.PlainHTTP, Client: client}
	return repo, nil
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

// registryError turns an error of oras-go into one line that names ref and
// wraps the sentinel that decides the exit code.
func registryError(ref string, err error) error {
	var ce *oras.CopyError
	if errors.As(err, &ce) {
		err = ce.Err // "failed to perform …" adds nothing to the cause
	}
	var er *errcode.ErrorResponse
	var dns *net.DNSError
	var ue *url.Error
	var cve *tls.CertificateVerificationError
	switch {
	case errors.As(err, &er) && (er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden):
		return fmt.Errorf("%s: %w: %s %q: %s (check --username/--password-stdin or the Docker config)", ref, ErrUnauthorized, er.Method, withoutQuery(er.URL), statusDetail(er))
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		return fmt.Errorf("%s: %w: the registry wants a user name and password (--username/--password-stdin or the Docker config)", ref, ErrUnauthorized)
	case errors.As(err, &er) && er.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w: %s %q: %s", ref, ErrNotInRegistry, er.Method, withoutQuery(er.URL), statusDetail(er))
	case errors.Is(err, errdef.ErrNotFound) && !errors.Is(err, layout.ErrBlobNotFound):
		return fmt.Errorf("%s: %w: %v", ref, ErrNotInRegistry, err)
	case errors.Is(err, content.ErrMismatchedDigest), errors.Is(err, content.ErrTrailingData), errors.Is(err, content.ErrInvalidDescriptorSize):
		return fmt.Errorf("%s: %w: %v", ref, layout.ErrDigestMismatch, err)
	case errors.As(err, &cve):
		return fmt.Errorf("%s: %w (--ca-file FILE trusts another certificate authority; --insecure skips the check)", ref, err)
	case errors.As(err, &dns):
		return fmt.Errorf("%s: unknown host %s: %w", ref, dns.Name, err)
	case errors.As(err, &ue):
		// An upload URL carries the registry's state (and, on some
		// registries, a signature) in its query: not for a log line.
		u, perr := url.Parse(ue.URL)
		if perr != nil {
			return fmt.Errorf("%s: %s: %w", ref, ue.Op, ue.Err)
		}
		return fmt.Errorf("%s: %s %q: %w", ref, ue.Op, withoutQuery(u), ue.Err)
	}
	return fmt.Errorf("%s: %w", ref, err)
}

// withoutQuery is u without its query and user information.
func withoutQuery(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.RawQuery, c.User, c.Fragment = "", nil, ""
	return c.String()
}

func statusDetail(er *errcode.ErrorResponse) string {
	s := fmt.Sprintf("%d %s", er.StatusCode, http.StatusText(er.StatusCode))
	if len(er.Errors) > 0 {
		s += ": " + er.Errors[0].Message
	}
	return s
}

// redact hides password in err's message, keeping what it wraps.
func redact(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return &redacted{err: err, msg: strings.ReplaceAll(err.Error(), password, "***")}
}

type redacted struct {
	err error
	msg string
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// WritePushText writes res for people: the referrers sent along, then one
// summary line.
func WritePushText(w io.Writer, res PushResult) error {
	var b bytes.Buffer
	for _, r := range res.Referrers {
		fmt.Fprintf(&b, "referrer %s %s\n", r.Digest, r.ArtifactType)
	}
	fmt.Fprintf(&b, "pushed %s %s: %d blobs, %d sent (%d bytes), %d already there\n", res.Reference, res.Digest, res.Blobs, res.Sent, res.Bytes, res.Skipped)
	_, err := w.Write(b.Bytes())
	return err
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
