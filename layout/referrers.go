package layout

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/profile"
)

// A referrer of a manifest or index is a manifest or index whose subject
// is that document's descriptor (image-spec v1.1.1 manifest.md, "subject";
// distribution-spec v1.1 "Listing Referrers"): a signature, an SBOM, an
// attestation. Store.Referrers is the one definition every command uses:
// export, push and pull collect referrers with CollectReferrers, inspect
// lists them, gc keeps a referrer's subject (WalkOptions.Subjects).
//
// An image layout has no referrers API: a referrer belongs to a layout when
// index.json names it (an untagged entry is enough); one that index.json
// does not name is unreachable, and gc removes it.

// MaxReferrerDepth bounds a chain of referrers (a signature of an SBOM of a
// manifest is a chain of two), so that a hostile chain cannot run on.
const MaxReferrerDepth = 8

// ReferrerFinder lists the referrers of a manifest or index: a layout's
// Referrers, or a registry's referrers API.
type ReferrerFinder interface {
	Referrers(ctx context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error)
}

// ReferrerSet holds referrers grouped by subject: those a layout's
// index.json names (Store.Referrers), or those a reader of a layout has
// found otherwise (verify peeks at index.json's entries). The zero value is
// empty and ready to use.
type ReferrerSet struct {
	bySubject map[digest.Digest][]ocispec.Descriptor
}

// Add records ref, a descriptor of a document whose subject is subject.
func (r *ReferrerSet) Add(subject digest.Digest, ref ocispec.Descriptor) {
	if r.bySubject == nil {
		r.bySubject = map[digest.Digest][]ocispec.Descriptor{}
	}
	r.bySubject[subject] = append(r.bySubject[subject], ref)
}

// Len is the number of referrers in r.
func (r *ReferrerSet) Len() int {
	n := 0
	for _, refs := range r.bySubject {
		n += len(refs)
	}
	return n
}

// Referrers reads every entry of entries (normally index.json's) that is a
// manifest or index (IsDocument) and groups the referrers among them by
// subject. A document that cannot be read fails it (ErrBlobNotFound,
// ErrBadDocument, … wrapped with the entry's digest). Reads only.
func (s *Store) Referrers(ctx context.Context, entries []ocispec.Descriptor) (*ReferrerSet, error) {
	r := &ReferrerSet{}
	seen := map[digest.Digest]bool{}
	for _, e := range entries {
		if seen[e.Digest] || !profile.IsDocument(e.MediaType) {
			continue
		}
		seen[e.Digest] = true
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		doc, err := s.ReadDocument(ctx, e)
		if err != nil {
			return nil, err
		}
		if doc.Subject != nil { // a referrer of its subject (IsReferrer)
			r.Add(doc.Subject.Digest, e)
		}
	}
	return r, nil
}

// IsReferrer reports whether doc, a manifest or index, is a referrer of the
// document subject names: its subject names subject's digest. (Store's
// Referrers groups index.json's entries by that digest.)
func IsReferrer(doc Document, subject digest.Digest) bool {
	return doc.Subject != nil && doc.Subject.Digest == subject
}

// CheckedFinder is a ReferrerFinder over a list that is not to be trusted:
// a registry's. Its referrers API answers with what clients pushed, and on
// a registry without the API the list is the index under the tag
// sha256-<hex> (distribution-spec v1.1 "Referrers Tag Schema"), which is
// whatever was last pushed under that tag. Of what Find lists for a
// subject, it keeps only the referrers by the definition above: a
// candidate with a valid digest, a manifest or index media type and a size
// of at most MaxDocumentSize, whose document, read with Read (verified
// against the candidate's digest and size), parses as that media type
// (ParseDocument) and IsReferrer of the subject. Every other candidate is
// left out and handed to Ignored with the reason, so that a foreign entry
// costs neither the subject nor its true referrers. A reason wraps
// ErrNotReferrer, ErrBadDigest, ErrTooLarge, or the content error Read or
// ParseDocument returned (ErrBlobNotFound, ErrDigestMismatch,
// ErrSizeMismatch, ErrBadJSON, ErrBadDocument); any other error of Read or
// Find is returned as it is.
type CheckedFinder struct {
	Find ReferrerFinder
	// Read returns the bytes of the document desc names, checked against
	// desc's digest and size.
	Read func(ctx context.Context, desc ocispec.Descriptor) ([]byte, error)
	// Ignored is told of each candidate left out (nil: nobody is told).
	Ignored func(candidate, subject ocispec.Descriptor, reason error)
}

// Referrers returns the candidates Find lists for subject that are its
// referrers, in Find's order.
func (f CheckedFinder) Referrers(ctx context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	candidates, err := f.Find.Referrers(ctx, subject)
	if err != nil {
		return nil, err
	}
	var out []ocispec.Descriptor
	for _, c := range candidates {
		reason, err := f.check(ctx, c, subject.Digest)
		if err != nil {
			return nil, err
		}
		if reason == nil {
			out = append(out, c)
		} else if f.Ignored != nil {
			f.Ignored(c, subject, reason)
		}
	}
	return out, nil
}

// check returns why c is not a referrer of subject (nil when it is), or
// an error of Read that is not about c's content.
func (f CheckedFinder) check(ctx context.Context, c ocispec.Descriptor, subject digest.Digest) (reason, err error) {
	switch {
	case ValidateDigest(c.Digest) != nil:
		return ValidateDigest(c.Digest), nil
	case !profile.IsDocument(c.MediaType):
		return fmt.Errorf("%w: media type %q is not a manifest's or an index's", ErrNotReferrer, c.MediaType), nil
	case c.Size < 0 || c.Size > MaxDocumentSize:
		return fmt.Errorf("%w: %d bytes, more than a document may have (%d)", ErrTooLarge, c.Size, MaxDocumentSize), nil
	}
	data, err := f.Read(ctx, c)
	if err != nil {
		if isContentError(err) {
			return err, nil
		}
		return nil, err
	}
	doc, err := ParseDocument(data, c.MediaType)
	switch {
	case err != nil:
		return err, nil
	case doc.Subject == nil:
		return fmt.Errorf("%w: it has no subject", ErrNotReferrer), nil
	case !IsReferrer(doc, subject):
		return fmt.Errorf("%w: its subject is %s", ErrNotReferrer, doc.Subject.Digest), nil
	}
	return nil, nil
}

// isContentError reports whether err is about the bytes read (missing,
// not matching, not a document) rather than about reading them.
func isContentError(err error) bool {
	for _, s := range []error{ErrBlobNotFound, ErrDigestMismatch, ErrSizeMismatch, ErrBadDigest, ErrBadJSON, ErrTooLarge, ErrBadDocument} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Referrers returns the referrers of subject in the order added, as added
// (for Store.Referrers: as index.json holds them, annotations included).
func (r *ReferrerSet) Referrers(_ context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	return r.bySubject[subject.Digest], nil
}

// CollectReferrers returns the referrers of every document in docs, found
// with find, and the referrers of every document of their graphs in turn,
// each digest once, in the order found. take is called once for each new
// referrer before its own referrers are asked for; it returns the documents
// of that referrer's graph, the referrer first (a caller walks the graph,
// or copies it and walks it). A chain longer than MaxReferrerDepth fails
// with ErrBadDocument; errors of find and take are returned as they are.
func CollectReferrers(ctx context.Context, docs []ocispec.Descriptor, find ReferrerFinder,
	take func(context.Context, ocispec.Descriptor) ([]ocispec.Descriptor, error)) ([]ocispec.Descriptor, error) {
	seen := map[digest.Digest]bool{}
	var level []ocispec.Descriptor
	for _, d := range docs {
		if !seen[d.Digest] {
			seen[d.Digest] = true
			level = append(level, d)
		}
	}
	var out []ocispec.Descriptor
	for depth := 0; len(level) > 0; depth++ {
		var next []ocispec.Descriptor
		for _, d := range level {
			if err := context.Cause(ctx); err != nil {
				return nil, err
			}
			refs, err := find.Referrers(ctx, d)
			if err != nil {
				return nil, err
			}
			for _, r := range refs {
				if seen[r.Digest] {
					continue
				}
				if depth == MaxReferrerDepth {
					return nil, fmt.Errorf("%s: %w: referrers chained deeper than %d", r.Digest, ErrBadDocument, MaxReferrerDepth)
				}
				seen[r.Digest] = true
				out = append(out, r)
				graph, err := take(ctx, r)
				if err != nil {
					return nil, err
				}
				next = append(next, r)
				for _, g := range graph {
					if !seen[g.Digest] {
						seen[g.Digest] = true
						next = append(next, g)
					}
				}
			}
		}
		level = next
	}
	return out, nil
}
