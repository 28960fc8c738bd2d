package verify

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
)

// walkReferrers walks, after a selection (LAYOUT:TAG, LAYOUT@DIGEST) has
// been walked, the referrers that index.json names of every document of
// the selected graph, and theirs in turn (layout.CollectReferrers): what
// export and push send with the selection, so that verify covers it too.
// An entry that cannot be read is not a referrer here; a whole layout
// walks every entry anyway.
func (c *checker) walkReferrers(ctx context.Context, loc string, entries []rootEntry) {
	set := &layout.ReferrerSet{}
	ptrs := map[digest.Digest]string{}
	for _, e := range entries {
		if !e.usable || !profile.IsDocument(e.desc.MediaType) {
			continue
		}
		if s := c.subjectOf(e.desc.Digest); s != "" {
			set.Add(s, e.desc)
			ptrs[e.desc.Digest] = e.ptr
		}
	}
	if set.Len() == 0 {
		return
	}
	_, err := layout.CollectReferrers(ctx, c.walkedDocuments(nil), set, func(ctx context.Context, d ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		before := map[digest.Digest]bool{}
		for _, w := range c.walkedDocuments(nil) {
			before[w.Digest] = true
		}
		c.walk(ctx, d, loc, ptrs[d.Digest], 1, c.missingSeverity())
		return c.walkedDocuments(before), nil
	})
	if errors.Is(err, layout.ErrBadDocument) {
		c.add(DepthExceeded, Error, loc, "/manifests", "%v", err)
	}
}

// subjectOf returns the subject digest of the document d names, or "" when
// it has none or cannot be read. It records no finding and counts no
// hashing (the bytes are peeked, unverified): the entry is not part of the
// selection unless it turns out to be a referrer of it, and then its walk
// verifies it.
func (c *checker) subjectOf(d digest.Digest) digest.Digest {
	var data []byte
	if b, ok := c.blobs[d]; ok && b.data != nil {
		data = b.data
	} else {
		data = c.src.peek(d)
	}
	var doc struct {
		Subject *ocispec.Descriptor `json:"subject"`
	}
	if data == nil || json.Unmarshal(data, &doc) != nil || doc.Subject == nil {
		return ""
	}
	return doc.Subject.Digest
}

// walkedDocuments lists the documents walked so far and not in skip, by
// digest.
func (c *checker) walkedDocuments(skip map[digest.Digest]bool) []ocispec.Descriptor {
	var out []ocispec.Descriptor
	for d, b := range c.blobs {
		if b.visited && !skip[d] {
			out = append(out, ocispec.Descriptor{Digest: d})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return out
}
