package bundle

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/signature"
)

// SignResult is what Sign did (docs/json.md, "sign").
type SignResult struct {
	Digest    digest.Digest `json:"digest"`    // the bundle signed
	Signature digest.Digest `json:"signature"` // its signature manifest, a referrer of it
	Envelope  string        `json:"envelope"`  // the envelope media type
	Added     bool          `json:"added"`     // false: the same signature was there already
}

// Sign signs the bundle ref names (LAYOUT, LAYOUT:TAG, LAYOUT@DIGEST) in the
// Notary Project format and stores the signature in its layout
// (signature.Sign: the same key, certificate and signing time adds nothing).
// A ref that names no manifest or index wraps ErrBadInput; the errors of
// signature.Sign and of the layout are returned as they are.
func Sign(ctx context.Context, ref string, opts signature.SignOptions) (SignResult, error) {
	store, desc, err := resolve(ctx, ref)
	if err != nil {
		return SignResult{}, err
	}
	if !profile.IsDocument(desc.MediaType) {
		return SignResult{}, fmt.Errorf("%s: %w: a %s, not a manifest or index to sign", ref, ErrBadInput, desc.MediaType)
	}
	s, err := signature.Sign(ctx, store, desc, opts)
	if err != nil {
		return SignResult{}, err
	}
	mt := opts.MediaType
	if mt == "" {
		mt = signature.MediaTypeJWS
	}
	return SignResult{Digest: desc.Digest, Signature: s.Signature.Digest, Envelope: mt, Added: s.Added}, nil
}
