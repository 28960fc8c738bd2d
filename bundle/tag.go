package bundle

import (
	"context"
	"fmt"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layout"
)

// TagResult describes what Tag or Untag changed.
type TagResult struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Tags      []string      `json:"tags"`
	// Moved lists the tags Tag moved from another manifest to this one.
	Moved []layout.TagMove `json:"moved"`
}

// Tag points each of tags at the manifest ref names (LAYOUT:TAG, LAYOUT@DIGEST,
// or a LAYOUT holding one bundle), moving a tag that named another manifest
// (the tag rule: Tag authors; the result lists the moves).
// Every tag is checked before index.json is touched (ErrBadTag), and all of
// them are added in one atomic index.json update, or none. The manifest must
// still be in blobs/ when the update runs (under the index lock, so a gc
// cannot remove it in between); otherwise the error wraps ErrBlobNotFound.
// Tagging again with the same tags changes nothing.
func Tag(ctx context.Context, ref string, tags []string) (TagResult, error) {
	if len(tags) == 0 {
		return TagResult{}, fmt.Errorf("%w: no tag to add", ErrBadInput)
	}
	for _, tag := range tags {
		if err := layout.ValidateTag(tag); err != nil {
			return TagResult{}, err
		}
	}
	store, desc, err := resolve(ctx, ref)
	if err != nil {
		return TagResult{}, err
	}
	// Tag authors: its tags move (the tag rule, layout.Merge).
	in := ocispec.Index{Manifests: layout.Entries(desc, tags)}
	entry := in.Manifests[0]
	var merged []layout.MergedEntry
	err = store.UpdateIndex(ctx, func(idx *ocispec.Index) error {
		ok, err := store.Exists(ctx, entry)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s: %w", entry.Digest, layout.ErrBlobNotFound)
		}
		merged, err = layout.Merge(idx, in, true)
		return err
	})
	if err != nil {
		return TagResult{}, err
	}
	return TagResult{Digest: entry.Digest, MediaType: entry.MediaType, Tags: append([]string{}, tags...), Moved: layout.Moves(merged)}, nil
}

// Untag removes the tag ref names (LAYOUT:TAG) from index.json, atomically.
// The manifest stays in blobs/ (and in index.json if another entry names
// it) until gc. A reference without a tag wraps ErrBadReference; a tag that
// no entry carries wraps ErrTagNotFound.
func Untag(ctx context.Context, ref string) (TagResult, error) {
	r, err := layout.ParseReference(ref)
	if err != nil {
		return TagResult{}, err
	}
	if r.Tag == "" {
		return TagResult{}, fmt.Errorf("%s: %w: name the tag to remove as LAYOUT:TAG", ref, layout.ErrBadReference)
	}
	store, err := layout.Open(r.Path)
	if err != nil {
		return TagResult{}, err
	}
	var res TagResult
	err = store.UpdateIndex(ctx, func(idx *ocispec.Index) error {
		for _, m := range idx.Manifests {
			if m.Annotations[ocispec.AnnotationRefName] == r.Tag {
				res = TagResult{Digest: m.Digest, MediaType: m.MediaType, Tags: []string{r.Tag}, Moved: []layout.TagMove{}}
			}
		}
		return layout.RemoveTag(idx, r.Tag)
	})
	if err != nil {
		return TagResult{}, fmt.Errorf("%s: %w", r.Path, err)
	}
	return res, nil
}
