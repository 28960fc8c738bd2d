package signature

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// Cosign's tag form (sigstore/cosign specs/SIGNATURE_SPEC.md): the manifest
// tagged layout.CosignTag(subject, layout.CosignSignature) has one layer
// per signature, a simple-signing payload naming the signed manifest's
// digest, the signature in the layer's annotation.
const (
	mediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	annotationSignature    = "dev.cosignproject.cosign/signature"
	annotationCertificate  = "dev.sigstore.cosign/certificate"
	envelopeSimpleSigning  = "cosign-simplesigning"
	simpleSigningType      = "cosign container image signature"
)

// simpleSigning is the payload cosign signs (the "critical" part is what is
// checked; "optional" carries the signer's own annotations).
type simpleSigning struct {
	Critical struct {
		Image struct {
			DockerManifestDigest digest.Digest `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// checkCosignTag returns one Result per signature layer of subject's
// tag-form signature manifest, none when src has no such tag. With st's
// keys each is judged: the payload must name subject (else ErrInvalid) and
// the signature verify with one of the keys (else ErrUntrusted). A keyless
// tag-form signature (a certificate in the layer) is judged only by keys:
// with a trusted root alone it is ErrUntrusted (Sigstore bundles carry
// what an offline keyless check needs; the tag form does not).
func checkCosignTag(ctx context.Context, src Source, subject ocispec.Descriptor, st *sigstoreTrust) ([]Result, error) {
	desc, ok := src.Tagged(layout.CosignTag(subject.Digest, layout.CosignSignature))
	if !ok {
		return nil, nil
	}
	base := Result{Subject: subject.Digest, Signature: desc, Format: FormatSigstore, Envelope: envelopeSimpleSigning, Checked: st != nil}
	data, bad, err := fetchSmall(ctx, src, desc)
	if err != nil || bad != nil {
		base.Err = bad
		return []Result{base}, err
	}
	m, err := layout.ParseManifest(data)
	if err != nil {
		base.Err = fmt.Errorf("%w: %v", ErrMalformed, err)
		return []Result{base}, nil
	}
	var out []Result
	for _, l := range m.Layers {
		if l.MediaType != mediaTypeSimpleSigning {
			continue
		}
		r := base
		r.Err, err = checkSimpleSigning(ctx, src, subject, l, st, &r.Signer)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		base.Err = fmt.Errorf("%w: no %s layer", ErrMalformed, mediaTypeSimpleSigning)
		out = append(out, base)
	}
	return out, nil
}

// checkSimpleSigning judges one signature layer l (nil when valid and
// trusted, or when st is nil and it is only listed); *signer is set to the
// key that verified it. The error is the source's.
func checkSimpleSigning(ctx context.Context, src Source, subject ocispec.Descriptor, l ocispec.Descriptor, st *sigstoreTrust, signer *string) (judged, err error) {
	payload, bad, err := fetchSmall(ctx, src, l)
	if err != nil || bad != nil {
		return bad, err
	}
	var p simpleSigning
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("%w: payload %s: %v", ErrMalformed, l.Digest, err), nil
	}
	sig, err := base64.StdEncoding.DecodeString(l.Annotations[annotationSignature])
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: layer %s has no %s annotation", ErrMalformed, l.Digest, annotationSignature), nil
	}
	if p.Critical.Type != simpleSigningType || p.Critical.Image.DockerManifestDigest != subject.Digest {
		return fmt.Errorf("%w: payload %s signs %q, not %s", ErrInvalid, l.Digest, p.Critical.Image.DockerManifestDigest, subject.Digest), nil
	}
	if st == nil {
		return nil, nil
	}
	for _, k := range st.keys {
		if k.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(payload)) == nil {
			*signer = k.name
			return nil, nil
		}
	}
	if len(st.keys) == 0 {
		return fmt.Errorf("%w: a tag-form signature is checked with --key only", ErrUntrusted), nil
	}
	if l.Annotations[annotationCertificate] != "" {
		return fmt.Errorf("%w: keyless tag-form signature: no given key verifies it", ErrUntrusted), nil
	}
	return fmt.Errorf("%w: no given key verifies it", ErrUntrusted), nil
}
