package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/signature"
)

// maxArchiveSignatureBlob caps, in bytes, a blob of an archive that is not
// a JSON document and is kept, when trust was given, for the signature
// checks: an envelope (JWS, COSE) or a Sigstore bundle is a few KiB. An
// archive is read once, and a signature manifest's blobs may come before
// or after it, so every small blob is kept (within the documents' budget);
// a bigger one is hashed and let go, and a signature that needs it is
// SIGNATURE_INVALID ("not kept").
const maxArchiveSignatureBlob = 256 << 10

// checkSignatures reports the signatures of each selected bundle
// (signature.Check over what the target holds) once the graph is walked
// and hashed: SIGNATURE_SEEN without trust for a format, SIGNATURE_VALID or
// an error with it, and SIGNATURE_MISSING for a bundle no signature of which
// the given trust accepts. A bundle is an index.json entry the target
// selects that is a manifest or index and not itself a referrer. An error
// is operational, or a trust option that cannot be used (signature's
// ErrBadTrust, wrapped in ErrBadOption).
func (c *checker) checkSignatures(ctx context.Context, root string) error {
	blobs := &signatureBlobs{c: c}
	if root != "" {
		blobs.store, blobs.storeErr = layout.Open(root)
	}
	set := &layout.ReferrerSet{}
	var entries []ocispec.Descriptor
	referrer := map[digest.Digest]bool{}
	for _, e := range c.entries {
		if !e.usable || !profile.IsDocument(e.desc.MediaType) {
			continue
		}
		entries = append(entries, e.desc)
		if s := c.subjectOf(e.desc.Digest); s != "" {
			set.Add(s, e.desc)
			referrer[e.desc.Digest] = true
		}
	}
	src := signature.NewIndexSource(set, entries, blobs.fetch)
	seen := map[digest.Digest]bool{}
	for _, e := range c.roots {
		if seen[e.desc.Digest] || !profile.IsDocument(e.desc.MediaType) || referrer[e.desc.Digest] {
			continue
		}
		seen[e.desc.Digest] = true
		results, err := signature.Check(ctx, src, e.desc, c.opts.Trust)
		if errors.Is(err, signature.ErrBadTrust) {
			return fmt.Errorf("%w: %w", ErrBadOption, err)
		}
		if err != nil {
			return err
		}
		c.reportSignatures(e.desc, results)
	}
	return nil
}

// reportSignatures turns the results of one subject into findings.
func (c *checker) reportSignatures(subject ocispec.Descriptor, results []signature.Result) {
	trusted := false
	for _, r := range results {
		loc, _ := layout.BlobPath(r.Signature.Digest)
		what := fmt.Sprintf("%s %s signature of %s", r.Format, r.Envelope, subject.Digest)
		if r.Signer != "" {
			what += " by " + r.Signer
		}
		switch {
		case !r.Checked && r.Err == nil:
			c.add(SignatureSeen, Info, loc, "", "%s (not checked: no trust for %s signatures given)", what, r.Format)
		case !r.Checked:
			c.add(SignatureSeen, Info, loc, "", "%s (not checked: no trust given): %v", what, r.Err)
		case r.Err == nil:
			trusted = true
			c.add(SignatureValid, Info, loc, "", "%s: valid", what)
		default:
			c.add(signatureCode(r.Err), Error, loc, "", "%s: %v", what, r.Err)
		}
	}
	if !c.opts.Trust.IsZero() && !trusted {
		c.add(SignatureMissing, Error, c.rep.Target, "", "%s: %s: none the given trust accepts", subject.Digest, signature.ErrMissing)
	}
}

// signatureCode maps a Result's error to its code.
func signatureCode(err error) Code {
	switch {
	case errors.Is(err, signature.ErrUntrusted):
		return SignatureUntrusted
	case errors.Is(err, signature.ErrExpired):
		return SignatureExpired
	case errors.Is(err, signature.ErrIdentity):
		return SignatureIdentity
	}
	return SignatureInvalid // ErrInvalid, ErrMalformed
}

// signatureBlobs reads the blobs of a verified target for the signature
// checks: from the layout directory (verified as read), or as kept from
// the archive stream (hashed as they passed).
type signatureBlobs struct {
	c        *checker
	store    *layout.Store // the layout directory; nil for an archive
	storeErr error         // why the directory cannot be opened as a layout
}

// fetch returns a blob of the target. A blob that is missing, not the
// size or digest its descriptor says, or (in an archive) was not kept, is
// an error wrapping a layout sentinel (ErrBlobNotFound, ErrSizeMismatch,
// ErrDigestMismatch, ErrTooLarge).
func (s *signatureBlobs) fetch(ctx context.Context, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	if err := layout.ValidateDigest(desc.Digest); err != nil {
		return nil, err
	}
	if desc.Size > limit {
		return nil, fmt.Errorf("%s: %w: %d bytes, more than %d", desc.Digest, layout.ErrTooLarge, desc.Size, limit)
	}
	if s.storeErr != nil {
		return nil, s.storeErr
	}
	if s.store != nil {
		return s.store.FetchAll(ctx, desc, limit)
	}
	b := s.c.blobs[desc.Digest]
	switch {
	case b == nil || !b.exists:
		return nil, fmt.Errorf("%s: %w", desc.Digest, layout.ErrBlobNotFound)
	case b.data == nil:
		return nil, fmt.Errorf("%s: %w: not kept from the archive stream (more than %d bytes)", desc.Digest, layout.ErrTooLarge, maxArchiveSignatureBlob)
	case int64(len(b.data)) != desc.Size:
		return nil, fmt.Errorf("%s: %w", desc.Digest, layout.ErrSizeMismatch)
	case !b.hashed || b.sum != desc.Digest:
		return nil, fmt.Errorf("%s: %w", desc.Digest, layout.ErrDigestMismatch)
	}
	return b.data, nil
}
