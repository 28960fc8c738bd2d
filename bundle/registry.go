package bundle

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
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
// on a registry without the API). Its lists are what the registry says:
// wrap it in layout.CheckedFinder (see checkedReferrers). The list of the
// subject of ahead, when set, is the one ahead asked for.
type registryReferrers struct {
	repo  *remote.Repository
	ahead *referrersAhead
}

func (r registryReferrers) Referrers(ctx context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	if a := r.ahead; a != nil && subject.Digest == a.subject.Digest && subject.Size == a.subject.Size {
		select {
		case <-a.done:
			return a.list, a.err
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	var out []ocispec.Descriptor
	err := r.repo.Referrers(ctx, subject, "", func(refs []ocispec.Descriptor) error {
		out = append(out, refs...)
		return nil
	})
	return out, err
}

// referrersAhead is the registry's referrers list of one subject, asked
// for on a goroutine before it is needed (pull asks for its root's while
// it copies the graph); done is closed when list and err are set.
type referrersAhead struct {
	subject ocispec.Descriptor
	done    chan struct{}
	list    []ocispec.Descriptor
	err     error
}

// askReferrersAhead starts asking repo for subject's referrers.
func askReferrersAhead(ctx context.Context, repo *remote.Repository, subject ocispec.Descriptor) *referrersAhead {
	a := &referrersAhead{subject: subject, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.list, a.err = registryReferrers{repo: repo}.Referrers(ctx, subject)
	}()
	return a
}

// checkedReferrers is the registry's referrers of a subject that are its
// referrers by layout's definition (layout.CheckedFinder): each candidate's
// manifest is fetched, verified, and kept only when its subject is the
// subject asked about. Each candidate left out is described in *ignored,
// naming it, the subject and the reason. Errors of the registry other than
// a candidate it does not have are registryError's, with src. ahead, when
// set, holds the list of one subject already asked for.
func checkedReferrers(src string, repo *remote.Repository, ahead *referrersAhead, ignored *[]string) layout.CheckedFinder {
	return layout.CheckedFinder{
		Find: registryReferrers{repo, ahead},
		Read: func(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
			data, err := content.FetchAll(ctx, repo, desc)
			if errors.Is(err, errdef.ErrNotFound) {
				return nil, fmt.Errorf("%w: the registry does not have it", layout.ErrBlobNotFound)
			}
			if err != nil {
				return nil, registryError(src, err)
			}
			return data, nil
		},
		Ignored: func(candidate, subject ocispec.Descriptor, reason error) {
			*ignored = append(*ignored, fmt.Sprintf("%s: the registry lists %s as a referrer of %s; ignored: %v", src, candidate.Digest, subject.Digest, reason))
		},
	}
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
