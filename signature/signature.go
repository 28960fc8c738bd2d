// Package signature checks and makes the signatures that travel with a
// bundle, in the two formats the field uses: the Notary Project's (notation:
// JWS or COSE envelopes stored as referrers, artifact type
// application/vnd.cncf.notary.signature) and Sigstore's (cosign: the tag
// form "sha256-<hex>.sig" and Sigstore bundles stored as referrers).
//
// It is the one owner of "what a signature of a bundle is and whether it is
// trusted": verify reports its Results, inspect lists them, sign makes them.
// It reads only through a Source, so a layout directory and an archive read
// as a stream are checked by the same code. Nothing here prints or exits.
package signature

import (
	"context"
	"sort"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MaxBlobBytes caps, in bytes, a signature blob or document a checker asks a
// Source for: envelopes, certificates and Sigstore bundles are small, and a
// hostile one must not be held in memory whole.
const MaxBlobBytes = 4 << 20

// Source is what a checker reads: a layout directory, or what an archive
// stream held (documents and the small blobs of signature manifests).
type Source interface {
	// Referrers returns the descriptors of the manifests whose subject is
	// subject, by the one referrer definition (layout.Store.Referrers).
	Referrers(ctx context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error)
	// Tagged returns the descriptor index.json gives the ref.name name
	// (cosign's tag form "sha256-<hex>.sig"); ok is false when none does.
	Tagged(name string) (desc ocispec.Descriptor, ok bool)
	// Fetch returns the bytes of the blob desc names, checked against its
	// size and digest; more than limit bytes is an error.
	Fetch(ctx context.Context, desc ocispec.Descriptor, limit int64) ([]byte, error)
}

// Trust is what the user trusts. The zero value trusts nothing: signatures
// are then listed (Result.Checked false), never judged.
type Trust struct {
	// Notary Project: notation's trust policy file and trust store
	// directory (notation's own formats), or the short form CACerts: PEM
	// files of CA certificates signatures must chain to.
	TrustPolicy, TrustStore string
	CACerts                 []string
	// Scope is the registry scope ("registry.example/repo") the trust
	// policy's statements are matched against, as notation verify
	// --oci-layout --scope takes it; "" asks for a statement of scope "*".
	Scope string
	// Sigstore: PEM public keys of key-pair signatures (cosign.pub), or a
	// trusted_root.json with the identity and OIDC issuer a keyless
	// certificate must name (its Rekor entries checked offline against it).
	Keys                                []string
	TrustedRoot                         string
	CertificateIdentity, CertOIDCIssuer string
}

// Notation reports whether t trusts Notary Project signatures.
func (t Trust) Notation() bool {
	return t.TrustPolicy != "" || t.TrustStore != "" || len(t.CACerts) > 0
}

// Sigstore reports whether t trusts Sigstore signatures.
func (t Trust) Sigstore() bool { return len(t.Keys) > 0 || t.TrustedRoot != "" }

// IsZero reports whether t trusts nothing.
func (t Trust) IsZero() bool { return !t.Notation() && !t.Sigstore() }

// Result is one signature of a subject, as a checker found it.
type Result struct {
	Subject   digest.Digest      // the manifest or index signed
	Signature ocispec.Descriptor // the signature manifest (referrer or tag form)
	Format    string             // FormatNotation or FormatSigstore
	Envelope  string             // "jws", "cose", "sigstore-bundle", "cosign-simplesigning"
	Signer    string             // the signing certificate's subject, the key's fingerprint, or the identity
	// Checked is true when trust for this format was given and the
	// signature was judged: Err nil means valid and trusted.
	Checked bool
	// Err is nil for a valid, trusted signature; else it wraps one of
	// ErrInvalid, ErrUntrusted, ErrExpired, ErrIdentity (or ErrMalformed for
	// a signature manifest or envelope that cannot be read).
	Err error
}

// Formats.
const (
	FormatNotation = "notation"
	FormatSigstore = "sigstore"
)

// A format checks the signatures of one format. Each format's file
// registers itself in formats (init), so that the formats do not share a
// dispatch line.
type format interface {
	name() string
	// check returns a Result for every signature of this format src holds
	// for subject, judged when trust holds this format's trust. An error is
	// for a source that cannot be read (operational) or trust that cannot
	// be loaded (ErrBadTrust).
	check(ctx context.Context, src Source, subject ocispec.Descriptor, trust Trust) ([]Result, error)
}

var formats []format

// Check returns every signature of subject that src holds, in every format,
// judged against trust where trust covers the format (Result.Checked),
// sorted by format, then signature digest. The error is operational (src
// cannot be read) or wraps ErrBadTrust (a trust option that cannot be
// loaded, named); a bad signature is a Result, not an error.
func Check(ctx context.Context, src Source, subject ocispec.Descriptor, trust Trust) ([]Result, error) {
	var all []Result
	for _, f := range sortedFormats() {
		rs, err := f.check(ctx, src, subject, trust)
		if err != nil {
			return nil, err
		}
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Signature.Digest < rs[j].Signature.Digest })
		all = append(all, rs...)
	}
	return all, nil
}

func sortedFormats() []format {
	fs := append([]format(nil), formats...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].name() < fs[j].name() })
	return fs
}
