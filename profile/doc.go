// Package profile is the table of ocibundle's bundle profile, and of the
// peer formats it reads: the annotation keys pack writes and extract and
// verify read, the default artifact type, and the media-type predicates
// ("is this a manifest, an index, an image config, a tar layer, an
// image"). It is a leaf: it imports only the standard library and
// image-spec, holds no state and does no I/O, so that bundle, verify,
// layout, compress and the layer rules all ask the same table.
//
// Sources: image-spec v1.1.1 (annotations.md, media-types.md, manifest.md),
// Docker's image manifest v2 schema 2, and ORAS's annotations for directory
// layers (oras-go content/file).
package profile
