package signature

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	coresig "github.com/notaryproject/notation-core-go/signature"
	corex509 "github.com/notaryproject/notation-core-go/x509"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// Notary Project payload and annotations (signature-specification.md
// "Payload" and "Storage"), as notation writes them.
const (
	mediaTypeNotaryPayload   = "application/vnd.cncf.notary.payload.v1+json"
	annotationX509Thumbprint = "io.cncf.notary.x509chain.thumbprint#S256"
	signingAgent             = "ocibundle"
)

// SignOptions say how Sign signs.
type SignOptions struct {
	// Key is the private key (ReadKey); Chain the certificate chain, the
	// signing certificate first (ReadCertChain).
	Key   any
	Chain []*x509.Certificate
	// MediaType is the envelope: MediaTypeJWS (the default when "") or
	// MediaTypeCOSE.
	MediaType string
	// SigningTime is the signature's signing time (second resolution);
	// the zero value means now.
	SigningTime time.Time
}

// Signed is what Sign did.
type Signed struct {
	Subject   ocispec.Descriptor
	Signature ocispec.Descriptor // the signature manifest, a referrer of Subject
	// Added is false when the layout already held a signature of Subject
	// with the same envelope type, by the same signing certificate, with
	// the same signing time, whose envelope verifies: Signature is that one
	// and nothing was written.
	Added bool
}

// Sign signs subject, a manifest or index of the layout store, in the
// Notary Project format (notation-core-go builds and signs the envelope)
// and stores the signature as notation does: the envelope blob, the empty
// config of media type ArtifactTypeNotation, and an image manifest whose
// subject is subject, named untagged in index.json through layout.Merge
// under the layout's lock. Signing again with the same key, certificate
// and signing time adds nothing (Signed.Added false): ECDSA and RSA-PSS
// signatures are randomized, so two signatures of the same inputs never
// have the same bytes, and "the same signature" is decided by the signer
// and the signing time instead. Errors: ErrBadTrust for a key and chain
// that do not sign (a key that is not the certificate's, a chain notation
// refuses), an unknown envelope type; layout errors as they are. After a
// failure index.json is unchanged; blobs written before it are
// unreferenced (gc removes them).
func Sign(ctx context.Context, store *layout.Store, subject ocispec.Descriptor, opts SignOptions) (Signed, error) {
	subject = ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	if opts.MediaType == "" {
		opts.MediaType = MediaTypeJWS
	}
	if opts.MediaType != MediaTypeJWS && opts.MediaType != MediaTypeCOSE {
		return Signed{}, fmt.Errorf("envelope %q: %w: want jws or cose", opts.MediaType, ErrBadTrust)
	}
	if opts.SigningTime.IsZero() {
		opts.SigningTime = time.Now()
	}
	opts.SigningTime = opts.SigningTime.UTC().Truncate(time.Second)
	if len(opts.Chain) == 0 {
		return Signed{}, fmt.Errorf("certificate chain: %w: empty", ErrBadTrust)
	}
	if d, ok, err := sameSignature(ctx, store, subject, opts); err != nil || ok {
		return Signed{Subject: subject, Signature: d}, err
	}
	envelope, err := signEnvelope(ctx, subject, opts)
	if err != nil {
		return Signed{}, err
	}
	manifest, err := putSignature(ctx, store, subject, envelope, opts)
	if err != nil {
		return Signed{}, err
	}
	added := true
	err = store.UpdateIndex(ctx, func(idx *ocispec.Index) error {
		// Another signer may have won the race while this one signed.
		if d, ok, err := sameSignatureIn(ctx, store, idx.Manifests, subject, opts); err != nil || ok {
			manifest, added = d, false
			return err
		}
		_, err := layout.Merge(idx, ocispec.Index{Manifests: []ocispec.Descriptor{manifest}}, false)
		return err
	})
	if err != nil {
		return Signed{}, err
	}
	return Signed{Subject: subject, Signature: manifest, Added: added}, nil
}

// signEnvelope builds and signs the envelope of subject's payload.
func signEnvelope(ctx context.Context, subject ocispec.Descriptor, opts SignOptions) ([]byte, error) {
	payload, err := json.Marshal(struct {
		TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
	}{subject})
	if err != nil {
		return nil, err
	}
	signer, err := coresig.NewLocalSigner(opts.Chain, opts.Key)
	if err != nil {
		return nil, fmt.Errorf("key and certificate: %w: %v", ErrBadTrust, err)
	}
	env, err := coresig.NewEnvelope(opts.MediaType)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w: %v", ErrBadTrust, err)
	}
	req := &coresig.SignRequest{
		Payload:       coresig.Payload{ContentType: mediaTypeNotaryPayload, Content: payload},
		Signer:        signer,
		SigningTime:   opts.SigningTime,
		SigningScheme: coresig.SigningSchemeX509,
		SigningAgent:  signingAgent,
	}
	blob, err := env.Sign(req.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("sign envelope: %w: %v", ErrBadTrust, err)
	}
	if _, err := env.Verify(); err != nil { // the key is not the certificate's
		return nil, fmt.Errorf("sign envelope: %w: the signature does not verify with the certificate: %v", ErrBadTrust, err)
	}
	return blob, nil
}

// putSignature writes the envelope, the config and the signature manifest
// as blobs and returns the manifest's descriptor.
func putSignature(ctx context.Context, store *layout.Store, subject ocispec.Descriptor, envelope []byte, opts SignOptions) (ocispec.Descriptor, error) {
	envDesc, err := store.PutBytes(ctx, opts.MediaType, envelope)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cfgDesc, err := store.PutBytes(ctx, ArtifactTypeNotation, ocispec.DescriptorEmptyJSON.Data)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	prints := make([]string, len(opts.Chain))
	for i, c := range opts.Chain {
		sum := sha256.Sum256(c.Raw)
		prints[i] = hex.EncodeToString(sum[:])
	}
	printsJSON, err := json.Marshal(prints)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: cfgDesc.MediaType, Digest: cfgDesc.Digest, Size: cfgDesc.Size},
		Layers:    []ocispec.Descriptor{{MediaType: envDesc.MediaType, Digest: envDesc.Digest, Size: envDesc.Size}},
		Subject:   &subject,
		Annotations: map[string]string{
			annotationX509Thumbprint:  string(printsJSON),
			ocispec.AnnotationCreated: opts.SigningTime.Format(time.RFC3339),
		},
	}
	data, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d, err := store.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}, nil
}

// sameSignature looks in the layout's index.json for the signature Sign
// would add (sameSignatureIn).
func sameSignature(ctx context.Context, store *layout.Store, subject ocispec.Descriptor, opts SignOptions) (ocispec.Descriptor, bool, error) {
	idx, err := store.ReadIndex(ctx)
	if err != nil {
		return ocispec.Descriptor{}, false, err
	}
	return sameSignatureIn(ctx, store, idx.Manifests, subject, opts)
}

// sameSignatureIn returns the signature among entries that is a Notary
// Project signature of subject in opts.MediaType whose envelope verifies,
// signed by the certificate opts.Chain[0] at opts.SigningTime. Entries
// that cannot be read are not it.
func sameSignatureIn(ctx context.Context, store *layout.Store, entries []ocispec.Descriptor, subject ocispec.Descriptor, opts SignOptions) (ocispec.Descriptor, bool, error) {
	src, err := layoutSource(ctx, store, entries)
	if err != nil {
		return ocispec.Descriptor{}, false, err
	}
	refs, _ := src.Referrers(ctx, subject)
	for _, ref := range refs {
		sig, ok, err := readNotationSignature(ctx, src, ref)
		if err != nil {
			return ocispec.Descriptor{}, false, err
		}
		if !ok || sig.err != nil || sig.mediaType != opts.MediaType {
			continue
		}
		env, err := coresig.ParseEnvelope(sig.mediaType, sig.blob)
		if err != nil {
			continue
		}
		content, err := env.Verify()
		if err != nil || len(content.SignerInfo.CertificateChain) == 0 {
			continue
		}
		var payload struct {
			TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
		}
		if json.Unmarshal(content.Payload.Content, &payload) != nil || payload.TargetArtifact.Digest != subject.Digest {
			continue
		}
		if bytes.Equal(content.SignerInfo.CertificateChain[0].Raw, opts.Chain[0].Raw) &&
			content.SignerInfo.SignedAttributes.SigningTime.Equal(opts.SigningTime) {
			return ref, true, nil
		}
	}
	return ocispec.Descriptor{}, false, nil
}

// ReadCertChain reads a PEM file of certificates, the signing certificate
// first. Errors wrap ErrBadTrust.
func ReadCertChain(path string) ([]*x509.Certificate, error) {
	certs, err := corex509.ReadCertificateFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrBadTrust, err)
	}
	return certs, nil
}
