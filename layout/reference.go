package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Reference names a layout and, optionally, one manifest in it, as ORAS
// spells --oci-layout targets: LAYOUT, LAYOUT:TAG or LAYOUT@DIGEST.
type Reference struct {
	Path   string
	Tag    string        // empty unless LAYOUT:TAG
	Digest digest.Digest // empty unless LAYOUT@DIGEST
}

func (r Reference) String() string {
	switch {
	case r.Digest != "":
		return r.Path + "@" + r.Digest.String()
	case r.Tag != "":
		return r.Path + ":" + r.Tag
	}
	return r.Path
}

// ParseReference splits s into a layout path and a tag or digest. A string
// that names an existing path is always a path. Otherwise "@" followed by
// "alg:encoded" selects by digest (a malformed digest is an error), and a ":" splits path and tag: the first ":"
// whose left side is an existing directory, or else the last ":" (so tags
// may contain "/", and layout paths that do not exist yet still parse).
// Errors wrap ErrBadReference, and ErrBadDigest or ErrBadTag when that is
// what is malformed.
func ParseReference(s string) (Reference, error) {
	if s == "" {
		return Reference{}, fmt.Errorf("%w: empty", ErrBadReference)
	}
	if exists(s) {
		return Reference{Path: s}, nil
	}
	// "@" selects by digest when what follows looks like one ("alg:…");
	// otherwise it is part of a tag (the ref.name grammar allows "@").
	if i := strings.LastIndex(s, "@"); i > 0 && strings.Contains(s[i+1:], ":") {
		d := digest.Digest(s[i+1:])
		if err := ValidateDigest(d); err != nil {
			return Reference{}, fmt.Errorf("%q: %w: %w", s, ErrBadReference, err)
		}
		return Reference{Path: s[:i], Digest: d}, nil
	}
	split := -1
	for i := 0; i < len(s); i++ {
		if s[i] == ':' && i > 0 && exists(s[:i]) {
			split = i
			break
		}
	}
	if split < 0 {
		split = strings.LastIndex(s, ":")
	}
	if split <= 0 {
		return Reference{Path: s}, nil
	}
	tag := s[split+1:]
	if err := ValidateTag(tag); err != nil {
		return Reference{}, fmt.Errorf("%q: %w: %w", s, ErrBadReference, err)
	}
	return Reference{Path: s[:split], Tag: tag}, nil
}

// ParseOutput reads the layout a command writes (pack -o) as ORAS reads
// --oci-layout DIR:TAG: when s parses as LAYOUT:TAG (ParseReference, so s
// itself is not an existing path) and LAYOUT does not exist or is a layout
// (Open succeeds), it is that layout and tag. Anything else is the path s
// as written, as before LAYOUT:TAG was read (a new directory "x:y" next to
// an existing directory x that is not a layout; a Windows path C:\x; a
// string whose tag part is not a valid tag; LAYOUT@DIGEST, which names no
// place to write). It reads only.
func ParseOutput(s string) Reference {
	r, err := ParseReference(s)
	if err != nil || r.Tag == "" {
		return Reference{Path: s}
	}
	if exists(r.Path) {
		if _, err := Open(r.Path); err != nil {
			return Reference{Path: s}
		}
	}
	return r
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, fs.ErrNotExist)
}

// Resolve returns the index.json descriptor a tag or digest names. For a
// digest that no index.json entry has, it looks for the blob itself and
// returns a manifest descriptor for it (so LAYOUT@DIGEST reaches manifests
// nested in an index). Errors wrap ErrTagNotFound, ErrDuplicateTag (a tag
// that index.json gives to several digests) or ErrBlobNotFound.
func (s *Store) Resolve(ctx context.Context, ref Reference) (ocispec.Descriptor, error) {
	idx, err := s.ReadIndex(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	switch {
	case ref.Tag != "":
		var found []ocispec.Descriptor
		for _, m := range idx.Manifests {
			if m.Annotations[ocispec.AnnotationRefName] == ref.Tag && (len(found) == 0 || m.Digest != found[0].Digest) {
				found = append(found, m)
			}
		}
		switch len(found) {
		case 0:
			return ocispec.Descriptor{}, fmt.Errorf("%s: %w", ref, ErrTagNotFound)
		case 1:
			return found[0], nil
		}
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w: index.json gives it to %s and %s; name one as LAYOUT@DIGEST", ref, ErrDuplicateTag, found[0].Digest, found[1].Digest)
	case ref.Digest != "":
		for _, m := range idx.Manifests {
			if m.Digest == ref.Digest {
				return m, nil
			}
		}
		return s.resolveBlob(ctx, ref)
	}
	return ocispec.Descriptor{}, fmt.Errorf("%s: %w: no tag or digest", ref, ErrBadReference)
}

// blobSize returns the size of the blob d (in the layout or the archive);
// a missing blob wraps fs.ErrNotExist.
func (s *Store) blobSize(ctx context.Context, d digest.Digest) (int64, error) {
	path, err := s.blobFile(d)
	if err != nil {
		return 0, err
	}
	if s.arc != nil {
		size, ok, err := s.arc.stat(ctx, d)
		if err == nil && !ok {
			err = fs.ErrNotExist
		}
		return size, err
	}
	f, fi, err := openRegular(path)
	if err != nil {
		return 0, err
	}
	f.Close()
	return fi.Size(), nil
}

// resolveBlob builds a descriptor for a manifest that is only in blobs/: its
// size from the file and its media type from the document.
func (s *Store) resolveBlob(ctx context.Context, ref Reference) (ocispec.Descriptor, error) {
	size, err := s.blobSize(ctx, ref.Digest)
	if errors.Is(err, fs.ErrNotExist) {
		// A digest that names nothing, as a tag that names nothing: the
		// reference is wrong, not the content (fs.ErrNotExist: exit 3).
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w: %w", ref, ErrBlobNotFound, fs.ErrNotExist)
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{Digest: ref.Digest, Size: size}
	data, err := s.FetchAll(ctx, desc, MaxDocumentSize)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", ref, err)
	}
	var probe struct {
		MediaType    string `json:"mediaType"`
		ArtifactType string `json:"artifactType"`
	}
	if err := DecodeStrict(data, &probe); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", ref, err)
	}
	desc.MediaType, desc.ArtifactType = probe.MediaType, probe.ArtifactType
	return desc, nil
}
