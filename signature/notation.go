package signature

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	coresig "github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// The Notary Project signature format (notaryproject specifications
// v1.1.0, signature-specification.md "Storage"): an image manifest whose
// artifact type (artifactType, or else config.mediaType) is
// ArtifactTypeNotation, whose subject is the signed manifest, and whose one
// layer is the envelope: JWS (application/jose+json) or COSE
// (application/cose).
const (
	ArtifactTypeNotation = "application/vnd.cncf.notary.signature"
	MediaTypeJWS         = jws.MediaTypeEnvelope
	MediaTypeCOSE        = cose.MediaTypeEnvelope
)

func init() { formats = append(formats, notationFormat{}) }

type notationFormat struct{}

func (notationFormat) name() string { return FormatNotation }

// check lists the Notary Project signatures of subject and, when trust
// covers the format, verifies each with notation-go's verifier (integrity,
// authenticity against the trust store, expiry; revocation as the policy
// says, skipped for --cert).
func (notationFormat) check(ctx context.Context, src Source, subject ocispec.Descriptor, trust Trust) ([]Result, error) {
	var v notation.Verifier
	if trust.Notation() {
		var err error
		if v, err = notationVerifier(trust); err != nil {
			return nil, err
		}
	}
	refs, err := src.Referrers(ctx, subject)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, ref := range refs {
		sig, ok, err := readNotationSignature(ctx, src, ref)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		r := Result{Subject: subject.Digest, Signature: ref, Format: FormatNotation, Envelope: sig.envelope, Checked: v != nil, Err: sig.err}
		if sig.err == nil {
			r.Signer = notationSigner(sig)
		}
		if v != nil && sig.err == nil {
			if r.Signer, r.Err, err = verifyNotation(ctx, v, subject, sig, trust); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// notationSignature is one signature manifest as read: its envelope, or
// why it cannot be read (err wraps ErrMalformed).
type notationSignature struct {
	envelope  string // "jws" or "cose"
	mediaType string
	blob      []byte
	err       error
}

// readNotationSignature reads the referrer ref. ok is false when ref is
// not a Notary Project signature; an error is operational (context).
func readNotationSignature(ctx context.Context, src Source, ref ocispec.Descriptor) (notationSignature, bool, error) {
	if ref.MediaType != ocispec.MediaTypeImageManifest {
		if ref.ArtifactType != ArtifactTypeNotation {
			return notationSignature{}, false, nil
		}
		return notationSignature{err: fmt.Errorf("%w: a %s, not an image manifest", ErrMalformed, ref.MediaType)}, true, nil
	}
	data, err := src.Fetch(ctx, ref, layout.MaxDocumentSize)
	if err != nil {
		if cerr := context.Cause(ctx); cerr != nil {
			return notationSignature{}, false, cerr
		}
		ok := ref.ArtifactType == ArtifactTypeNotation
		return notationSignature{err: fmt.Errorf("%w: %w", ErrMalformed, err)}, ok, nil
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return notationSignature{}, false, nil // not a manifest: verify reports it
	}
	if m.ArtifactType != ArtifactTypeNotation && (m.ArtifactType != "" || m.Config.MediaType != ArtifactTypeNotation) {
		return notationSignature{}, false, nil
	}
	if len(m.Layers) != 1 {
		return notationSignature{err: fmt.Errorf("%w: %d layers, a Notary Project signature has one", ErrMalformed, len(m.Layers))}, true, nil
	}
	env := m.Layers[0]
	sig := notationSignature{mediaType: env.MediaType}
	switch env.MediaType {
	case MediaTypeJWS:
		sig.envelope = "jws"
	case MediaTypeCOSE:
		sig.envelope = "cose"
	default:
		sig.err = fmt.Errorf("%w: envelope media type %q is neither JWS nor COSE", ErrMalformed, env.MediaType)
		return sig, true, nil
	}
	if sig.blob, err = src.Fetch(ctx, env, MaxBlobBytes); err != nil {
		if cerr := context.Cause(ctx); cerr != nil {
			return notationSignature{}, false, cerr
		}
		sig.err = fmt.Errorf("%w: envelope %s: %w", ErrMalformed, env.Digest, err)
	}
	return sig, true, nil
}

// notationSigner names the signer of an envelope that is not verified:
// its signing certificate's subject, "" when the envelope cannot be parsed.
func notationSigner(sig notationSignature) string {
	env, err := coresig.ParseEnvelope(sig.mediaType, sig.blob)
	if err != nil {
		return ""
	}
	content, err := env.Content()
	if err != nil || len(content.SignerInfo.CertificateChain) == 0 {
		return ""
	}
	return content.SignerInfo.CertificateChain[0].Subject.String()
}

// verifyNotation verifies one envelope against subject with v. It returns
// the signer (the signing certificate's subject) and the signature's
// error, wrapping ErrInvalid, ErrUntrusted or ErrExpired; an error of its
// own is for trust that does not apply (ErrBadTrust).
func verifyNotation(ctx context.Context, v notation.Verifier, subject ocispec.Descriptor, sig notationSignature, trust Trust) (string, error, error) {
	outcome, err := v.Verify(ctx, subject, sig.blob, notation.VerifierVerifyOptions{
		ArtifactReference:  notationReference(trust, subject),
		SignatureMediaType: sig.mediaType,
	})
	var noPolicy notation.NoApplicableTrustPolicyError
	if errors.As(err, &noPolicy) {
		return "", nil, fmt.Errorf("--trust-policy %s: %w: %v (name the scope with --scope)", trust.TrustPolicy, ErrBadTrust, err)
	}
	signer := ""
	if outcome != nil && outcome.EnvelopeContent != nil && len(outcome.EnvelopeContent.SignerInfo.CertificateChain) > 0 {
		signer = outcome.EnvelopeContent.SignerInfo.CertificateChain[0].Subject.String()
	}
	if signer == "" {
		signer = notationSigner(sig)
	}
	if err == nil {
		return signer, nil, nil
	}
	if outcome != nil {
		for _, r := range outcome.VerificationResults {
			if r.Error == nil || r.Action != trustpolicy.ActionEnforce {
				continue
			}
			switch r.Type {
			case trustpolicy.TypeIntegrity:
				return signer, fmt.Errorf("%w: %v", ErrInvalid, r.Error), nil
			case trustpolicy.TypeExpiry, trustpolicy.TypeAuthenticTimestamp:
				return signer, fmt.Errorf("%w: %v", ErrExpired, r.Error), nil
			default: // authenticity, revocation
				return signer, fmt.Errorf("%w: %v", ErrUntrusted, r.Error), nil
			}
		}
	}
	return signer, fmt.Errorf("%w: %v", ErrInvalid, err), nil
}
