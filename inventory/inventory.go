package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// MediaType is the inventory document's mediaType.
const MediaType = "application/vnd.ocibundle.inventory.v1+json"

// MaxSize caps, in bytes, the inventory Read accepts (about three million
// blobs).
const MaxSize = 256 << 20

// Inventory is what a layout holds: its verified blobs (each with its
// digest, size and a media type) and its tags.
type Inventory struct {
	// Blobs, sorted by digest, each once.
	Blobs []ocispec.Descriptor
	// Tags maps each tag to the digest of the manifest or index it names.
	Tags map[string]digest.Digest
}

// doc is the JSON shape: algorithm -> media type -> encoded digest -> size.
type doc struct {
	MediaType string                                 `json:"mediaType"`
	Blobs     map[string]map[string]map[string]int64 `json:"blobs"`
	Tags      map[string]digest.Digest               `json:"tags"`
}

// Marshal returns the inventory's bytes: compact JSON, keys sorted, a
// final newline; the same inventory always gives the same bytes.
func (inv Inventory) Marshal() []byte {
	d := doc{MediaType: MediaType, Blobs: map[string]map[string]map[string]int64{}, Tags: inv.Tags}
	if d.Tags == nil {
		d.Tags = map[string]digest.Digest{}
	}
	for _, b := range inv.Blobs {
		alg := b.Digest.Algorithm().String()
		if d.Blobs[alg] == nil {
			d.Blobs[alg] = map[string]map[string]int64{}
		}
		if d.Blobs[alg][b.MediaType] == nil {
			d.Blobs[alg][b.MediaType] = map[string]int64{}
		}
		d.Blobs[alg][b.MediaType][b.Digest.Encoded()] = b.Size
	}
	data, _ := json.Marshal(d) // maps of strings and integers: cannot fail
	return append(data, '\n')
}

// Digest is the inventory's identity: the sha256 of Marshal's bytes.
func (inv Inventory) Digest() digest.Digest {
	return digest.SHA256.FromBytes(inv.Marshal())
}

// Has reports whether the inventory lists a blob with desc's digest and
// size.
func (inv Inventory) Has(desc ocispec.Descriptor) bool {
	i, ok := slices.BinarySearchFunc(inv.Blobs, desc.Digest, func(b ocispec.Descriptor, d digest.Digest) int {
		return strings.Compare(string(b.Digest), string(d))
	})
	return ok && inv.Blobs[i].Size == desc.Size
}

// Parse reads an inventory strictly: strict JSON (layout.CheckStrictJSON),
// exactly the fields above, this mediaType, valid digests (an algorithm
// layout knows), sizes of zero or more, valid tags, and no blob twice.
// Errors wrap ErrBadInventory.
func Parse(data []byte) (Inventory, error) {
	if err := layout.CheckStrictJSON(data); err != nil {
		return Inventory{}, fmt.Errorf("%w: %w", ErrBadInventory, err)
	}
	var d doc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Inventory{}, fmt.Errorf("%w: %v", ErrBadInventory, err)
	}
	if d.MediaType != MediaType {
		return Inventory{}, fmt.Errorf("%w: mediaType %q, not %q", ErrBadInventory, d.MediaType, MediaType)
	}
	if d.Blobs == nil || d.Tags == nil {
		return Inventory{}, fmt.Errorf("%w: blobs and tags must be objects", ErrBadInventory)
	}
	inv := Inventory{Blobs: []ocispec.Descriptor{}, Tags: d.Tags}
	for alg, types := range d.Blobs {
		for mediaType, blobs := range types {
			for hex, size := range blobs {
				dg := digest.Digest(alg + ":" + hex)
				if err := layout.ValidateDigest(dg); err != nil {
					return Inventory{}, fmt.Errorf("%w: %w", ErrBadInventory, err)
				}
				if size < 0 {
					return Inventory{}, fmt.Errorf("%w: %s: size %d", ErrBadInventory, dg, size)
				}
				inv.Blobs = append(inv.Blobs, ocispec.Descriptor{MediaType: mediaType, Digest: dg, Size: size})
			}
		}
	}
	slices.SortFunc(inv.Blobs, func(a, b ocispec.Descriptor) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	for i := 1; i < len(inv.Blobs); i++ {
		if inv.Blobs[i].Digest == inv.Blobs[i-1].Digest {
			return Inventory{}, fmt.Errorf("%w: %s is listed twice", ErrBadInventory, inv.Blobs[i].Digest)
		}
	}
	for tag, dg := range inv.Tags {
		if err := layout.ValidateTag(tag); err != nil {
			return Inventory{}, fmt.Errorf("%w: %w", ErrBadInventory, err)
		}
		if err := layout.ValidateDigest(dg); err != nil {
			return Inventory{}, fmt.Errorf("%w: tag %q: %w", ErrBadInventory, tag, err)
		}
	}
	return inv, nil
}

// Read reads and parses the inventory file, at most MaxSize bytes, and
// returns it with its digest (of the file's bytes, as they are). Errors
// name the file: ErrBadInventory (Parse, or larger than MaxSize), or the
// operational error of opening or reading it.
func Read(file string) (Inventory, digest.Digest, error) {
	f, err := os.Open(file)
	if err != nil {
		return Inventory{}, "", layout.PathErr(file, err)
	}
	defer f.Close()
	data, err := layout.ReadCapped(f, MaxSize)
	if err != nil {
		return Inventory{}, "", fmt.Errorf("%s: %w: %w", file, ErrBadInventory, err)
	}
	inv, err := Parse(data)
	if err != nil {
		return Inventory{}, "", fmt.Errorf("%s: %w", file, err)
	}
	return inv, digest.SHA256.FromBytes(data), nil
}

// Sniff reports whether the start of a file (its first bytes) is that of
// an inventory rather than a tar archive: its first non-space byte is '{'.
func Sniff(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && head[0] == '{'
}
