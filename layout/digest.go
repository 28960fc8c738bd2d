package layout

import (
	// Registered for go-digest: it only knows the hashes linked into the binary.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// Algorithms are the digest algorithms a layout may store blobs under.
var Algorithms = []digest.Algorithm{digest.SHA256, digest.SHA512}

// ValidateDigest reports whether d is grammatical, uses an allowed algorithm
// and has an encoded part of the right length in lowercase hex. It is the
// gate in front of every path built from a digest.
func ValidateDigest(d digest.Digest) error {
	// Grammar first: go-digest's Algorithm() panics on a string without ":".
	if err := d.Validate(); err != nil {
		return fmt.Errorf("%q: %w", string(d), ErrBadDigest)
	}
	for _, a := range Algorithms {
		if a == d.Algorithm() {
			return nil
		}
	}
	return fmt.Errorf("%q: %w: unsupported algorithm", string(d), ErrBadDigest)
}

// BlobPath returns the slash-separated path of the blob for d relative to the
// layout root ("blobs/sha256/<hex>"), after validating d.
func BlobPath(d digest.Digest) (string, error) {
	if err := ValidateDigest(d); err != nil {
		return "", err
	}
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded(), nil
}

func (s *Store) blobFile(d digest.Digest) (string, error) {
	p, err := BlobPath(d)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(p)), nil
}
