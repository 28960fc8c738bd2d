// Package inventory owns the inventory format: what a site's layout holds,
// written by `ocibundle inventory` and read by `export --since` to leave out
// of a delta archive the blobs the site already has.
//
// An inventory is one compact JSON object, deterministic (keys sorted, no
// timestamps), about 77 bytes per sha256 blob:
//
//	{"mediaType":"application/vnd.ocibundle.inventory.v1+json",
//	 "blobs":{"sha256":{"<blob media type>":{"<hex>":<size in bytes>,…},…}},
//	 "tags":{"<tag>":"<digest>",…}}
//
// Blobs are grouped by digest algorithm, then by media type, so that
// neither is repeated per blob. Its own identity is Digest: the sha256 of
// its bytes, which a delta names as its base.
package inventory
