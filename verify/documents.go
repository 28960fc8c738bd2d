package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
)

// parseObject checks data with the layout package's strict JSON reader and
// returns its top-level object; it reports and returns nil otherwise.
func (c *checker) parseObject(loc string, data []byte) map[string]json.RawMessage {
	var obj map[string]json.RawMessage
	if err := layout.DecodeStrict(data, &obj); err != nil {
		c.addJSONError(loc, err)
		return nil
	}
	if obj == nil {
		c.add(BadJSON, Error, loc, "", "the document is null, not an object")
	}
	return obj
}

// addJSONError reports a strict-JSON failure; repeated keys get their own code.
func (c *checker) addJSONError(loc string, err error) {
	msg := err.Error()
	code := BadJSON
	if errors.Is(err, layout.ErrDuplicateKey) {
		code = DuplicateKey
	}
	if errors.Is(err, layout.ErrBadJSON) {
		msg = strings.TrimPrefix(msg, layout.ErrBadJSON.Error()+": ")
	}
	c.add(code, Error, loc, "", "%s", msg)
}

// ptr appends a JSON pointer token.
func ptr(base string, tok any) string {
	s := fmt.Sprint(tok)
	return base + "/" + strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// checkSchemaVersion requires "schemaVersion": 2.
func (c *checker) checkSchemaVersion(loc string, obj map[string]json.RawMessage) {
	raw, ok := obj["schemaVersion"]
	if !ok {
		c.add(BadSchemaVersion, Error, loc, "/schemaVersion", "schemaVersion is missing")
	} else if string(raw) != "2" {
		c.add(BadSchemaVersion, Error, loc, "/schemaVersion", "schemaVersion is %s, not 2", raw)
	}
}

// checkDocMediaType checks a document's own mediaType against want (the
// type its descriptor names, or the index type for index.json). mismatch is
// the code for a different type.
func (c *checker) checkDocMediaType(loc string, obj map[string]json.RawMessage, want string, mismatch Code) string {
	raw, ok := obj["mediaType"]
	if !ok {
		c.add(MediaTypeMissing, Warning, loc, "/mediaType", "mediaType is missing (should be %s)", want)
		return ""
	}
	mt, ok := asString(raw)
	if !ok || !mediaTypePattern.MatchString(mt) {
		c.add(BadMediaType, Error, loc, "/mediaType", "mediaType %s is not a media type", raw)
		return ""
	}
	if mt != want {
		c.add(mismatch, Error, loc, "/mediaType", "mediaType is %s, but it is referenced as %s", mt, want)
	}
	return mt
}

// checkArtifactType checks an optional artifactType at p and returns it and
// whether it is present.
func (c *checker) checkArtifactType(loc, p string, obj map[string]json.RawMessage) (string, bool) {
	raw, ok := obj["artifactType"]
	if !ok {
		return "", false
	}
	at, ok := asString(raw)
	if !ok || !mediaTypePattern.MatchString(at) {
		c.add(BadArtifactType, Error, loc, ptr(p, "artifactType"), "artifactType %s is not a media type", raw)
		return "", true
	}
	return at, true
}

// checkDescriptor checks the grammar of the descriptor at loc#p. refName
// tells whether org.opencontainers.image.ref.name belongs there (only on
// index.json's manifests). usable is false when the digest or size cannot be
// trusted to find and check the blob.
func (c *checker) checkDescriptor(loc, p string, raw json.RawMessage, refName bool) (desc ocispec.Descriptor, usable bool) {
	obj, ok := asObject(raw)
	if !ok {
		c.add(BadField, Error, loc, p, "a descriptor must be an object, not %s", brief(raw))
		return desc, false
	}
	usable = true
	if mr, ok := obj["mediaType"]; !ok {
		c.add(BadMediaType, Error, loc, ptr(p, "mediaType"), "mediaType is missing")
	} else if mt, ok := asString(mr); !ok || !mediaTypePattern.MatchString(mt) {
		c.add(BadMediaType, Error, loc, ptr(p, "mediaType"), "mediaType %s is not a media type", brief(mr))
	} else {
		desc.MediaType = mt
	}
	if dr, ok := obj["digest"]; !ok {
		c.add(BadDigest, Error, loc, ptr(p, "digest"), "digest is missing")
		usable = false
	} else if ds, ok := asString(dr); !ok {
		c.add(BadDigest, Error, loc, ptr(p, "digest"), "digest %s is not a string", brief(dr))
		usable = false
	} else if code, msg := digestProblem(ds); code != "" {
		// A blob that cannot be checked (md5:…) cannot be trusted: an
		// error whatever the algorithm.
		c.add(code, Error, loc, ptr(p, "digest"), "%s", msg)
		usable = false
	} else {
		desc.Digest = digest.Digest(ds)
	}
	if sr, ok := obj["size"]; !ok {
		c.add(BadSize, Error, loc, ptr(p, "size"), "size is missing")
		usable = false
	} else if n, msg := asSize(sr); msg != "" {
		c.add(BadSize, Error, loc, ptr(p, "size"), "%s: %s", msg, brief(sr))
		usable = false
	} else {
		desc.Size = n
	}
	if ur, ok := obj["urls"]; ok {
		urls, ok := asArray(ur)
		if !ok {
			c.add(BadURL, Error, loc, ptr(p, "urls"), "urls must be an array of URIs, not %s", brief(ur))
		}
		for i, u := range urls {
			if s, ok := asString(u); !ok || !isURI(s) {
				c.add(BadURL, Error, loc, ptr(ptr(p, "urls"), i), "%s is not an absolute URI", brief(u))
			} else {
				desc.URLs = append(desc.URLs, s)
			}
		}
	}
	if ar, ok := obj["annotations"]; ok {
		desc.Annotations = c.checkAnnotations(loc, ptr(p, "annotations"), ar, refName)
	}
	if at, ok := c.checkArtifactType(loc, p, obj); ok {
		desc.ArtifactType = at
	}
	if pr, ok := obj["platform"]; ok {
		c.checkPlatform(loc, ptr(p, "platform"), pr)
	}
	if dr, ok := obj["data"]; ok {
		c.checkData(loc, ptr(p, "data"), dr, desc, usable)
	}
	return desc, usable
}

func (c *checker) checkPlatform(loc, p string, raw json.RawMessage) {
	obj, ok := asObject(raw)
	if !ok {
		c.add(BadPlatform, Error, loc, p, "platform must be an object, not %s", brief(raw))
		return
	}
	for _, k := range []string{"architecture", "os"} {
		if s, ok := asString(obj[k]); !ok || s == "" {
			c.add(BadPlatform, Error, loc, ptr(p, k), "platform needs a non-empty %s string", k)
		}
	}
}

// checkData requires padded standard base64 whose bytes are the blob's.
func (c *checker) checkData(loc, p string, raw json.RawMessage, desc ocispec.Descriptor, usable bool) {
	s, ok := asString(raw)
	if !ok {
		c.add(BadData, Error, loc, p, "data must be a base64 string, not %s", brief(raw))
		return
	}
	data, ok := decodeData(s)
	if !ok {
		c.add(BadData, Error, loc, p, "data is not padded standard base64")
		return
	}
	if !usable {
		return
	}
	if int64(len(data)) != desc.Size {
		c.add(BadData, Error, loc, p, "data has %d bytes, size says %d", len(data), desc.Size)
	} else if got := desc.Digest.Algorithm().FromBytes(data); got != desc.Digest {
		c.add(BadData, Error, loc, p, "data is not the blob: it hashes to %s", got)
	}
}

// checkAnnotations checks a map of strings and the keys the spec defines.
func (c *checker) checkAnnotations(loc, p string, raw json.RawMessage, refName bool) map[string]string {
	obj, ok := asObject(raw)
	if !ok {
		c.add(BadAnnotations, Error, loc, p, "annotations must be a map of strings, not %s", brief(raw))
		return nil
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		s, ok := asString(v)
		if !ok {
			c.add(BadAnnotations, Error, loc, ptr(p, k), "annotation %q must be a string, not %s", k, brief(v))
			continue
		}
		out[k] = s
		switch {
		case strings.HasPrefix(k, "org.opencontainers.image.") && !knownAnnotations[k]:
			c.add(UnknownAnnotation, Warning, loc, ptr(p, k), "%s is not an annotation image-spec defines", k)
		case k == ocispec.AnnotationRefName && !refName:
			c.add(RefNameOutsideIndex, Warning, loc, ptr(p, k), "%s belongs only on index.json's manifests", k)
		case k == ocispec.AnnotationRefName:
			if err := layout.ValidateTag(s); err != nil {
				c.add(BadRefName, Warning, loc, ptr(p, k), "%q does not match the ref.name grammar", s)
			}
		}
	}
	return out
}

// brief quotes a raw JSON value for a message, shortened.
func brief(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	s := string(raw)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// rootEntry is one descriptor of index.json's manifests.
type rootEntry struct {
	ptr    string
	desc   ocispec.Descriptor
	usable bool
}

// checkRootIndex checks index.json and returns its manifests entries.
func (c *checker) checkRootIndex(loc string, data []byte) []rootEntry {
	obj := c.parseObject(loc, data)
	if obj == nil {
		c.incomplete = true
		return nil
	}
	c.checkSchemaVersion(loc, obj)
	c.checkDocMediaType(loc, obj, ocispec.MediaTypeImageIndex, BadMediaType)
	raws := c.checkIndexFields(loc, obj)
	var annotations map[string]string
	if c.archive && json.Unmarshal(obj["annotations"], &annotations) == nil { // checked by checkIndexFields
		c.deltaBase = annotations[profile.AnnotationDeltaBase]
	}
	var entries []rootEntry
	for i, raw := range raws {
		p := ptr("/manifests", i)
		desc, usable := c.checkDescriptor(loc, p, raw, true)
		entries = append(entries, rootEntry{ptr: p, desc: desc, usable: usable})
		tag, ok := desc.Annotations[ocispec.AnnotationRefName]
		if !ok || !usable {
			continue
		}
		if prev, dup := c.tags[tag]; dup && prev.digest != desc.Digest {
			// docker save 25+ names every image "latest": the manifests
			// are sound, only the tag is unusable (import keeps both).
			c.add(DuplicateTag, Warning, loc, p, "tag %q names %s here and %s at %s; name one by digest", tag, desc.Digest, prev.digest, prev.ptr)
		} else if !dup {
			c.tags[tag] = tagEntry{digest: desc.Digest, ptr: p}
		}
	}
	return entries
}

// checkIndexFields checks the fields every index has besides schemaVersion
// and mediaType, and returns the raw manifests entries.
func (c *checker) checkIndexFields(loc string, obj map[string]json.RawMessage) []json.RawMessage {
	if _, l := obj["layers"]; l || obj["config"] != nil {
		c.add(AmbiguousDocument, Error, loc, "", "an index with layers or config could be read as a manifest (CVE-2021-41190)")
	}
	c.checkArtifactType(loc, "", obj)
	if ar, ok := obj["annotations"]; ok {
		c.checkAnnotations(loc, "/annotations", ar, false)
	}
	raw, ok := obj["manifests"]
	if !ok || string(raw) == "null" {
		c.add(ManifestsMissing, Error, loc, "/manifests", "manifests is missing or null")
		return nil
	}
	entries, ok := asArray(raw)
	if !ok {
		c.add(BadField, Error, loc, "/manifests", "manifests must be an array, not %s", brief(raw))
	}
	return entries
}

// walk checks the manifest or index desc names, referenced from loc#p, and
// everything below it. depth counts the indexes above it.
func (c *checker) walk(ctx context.Context, desc ocispec.Descriptor, loc, p string, depth int, missing Severity) {
	if ctx.Err() != nil {
		return
	}
	manifest, index := profile.IsManifest(desc.MediaType), profile.IsIndex(desc.MediaType)
	if !manifest && !index {
		c.add(UnknownManifestType, Warning, loc, ptr(p, "mediaType"), "%s is neither a manifest nor an index: hashed, not parsed", desc.MediaType)
		c.reference(desc, loc, p, missing)
		return
	}
	if depth > MaxDepth {
		c.add(DepthExceeded, Error, loc, p, "indexes nested deeper than %d", MaxDepth)
		c.incomplete = true
		return
	}
	b := c.reference(desc, loc, p, missing)
	if b == nil {
		return
	}
	if b.visited {
		if b.docMediaType != "" && b.docMediaType != desc.MediaType {
			c.add(MediaTypeMismatch, Error, b.loc, "/mediaType", "mediaType is %s, but %s#%s references it as %s", b.docMediaType, loc, p, desc.MediaType)
		}
		return
	}
	b.visited = true
	data := c.document(ctx, b, loc, p)
	if data == nil {
		c.incomplete = true
		return
	}
	obj := c.parseObject(b.loc, data)
	if obj == nil {
		c.incomplete = true
		return
	}
	c.checkSchemaVersion(b.loc, obj)
	b.docMediaType = c.checkDocMediaType(b.loc, obj, desc.MediaType, MediaTypeMismatch)
	if index {
		c.checkIndex(ctx, b, obj, depth)
	} else {
		c.checkManifest(ctx, b, obj, depth)
	}
}

// document returns the bytes of b for parsing, or nil after reporting why
// it cannot.
func (c *checker) document(ctx context.Context, b *blob, loc, p string) []byte {
	if b.size > layout.MaxDocumentSize || b.overBudget {
		if b.overBudget {
			c.add(TooLarge, Error, b.loc, "", "not kept: the archive's documents exceed %d bytes in all (referenced by %s#%s)", maxArchiveDocuments, loc, p)
			return nil
		}
		c.add(TooLarge, Error, b.loc, "", "a document of %d bytes, more than %d (referenced by %s#%s)", b.size, layout.MaxDocumentSize, loc, p)
		return nil
	}
	err := c.src.readDocument(ctx, b)
	switch {
	case errors.Is(err, layout.ErrNotRegular):
		c.add(NotRegularFile, Error, b.loc, "", "cannot read: %v", err)
		return nil
	case err != nil:
		if c.fatal == nil {
			c.fatal = err
		}
		return nil
	case b.data == nil:
		c.add(BadJSON, Error, b.loc, "", "not a JSON document (referenced by %s#%s)", loc, p)
	}
	return b.data
}

func (c *checker) checkIndex(ctx context.Context, b *blob, obj map[string]json.RawMessage, depth int) {
	for i, raw := range c.checkIndexFields(b.loc, obj) {
		p := ptr("/manifests", i)
		if desc, usable := c.checkDescriptor(b.loc, p, raw, false); usable {
			c.walk(ctx, desc, b.loc, p, depth+1, c.missingSeverity())
		}
	}
	c.walkSubject(ctx, b.loc, obj, depth)
}

// walkSubject follows a referrer's subject, which may be absent from the
// layout (a warning: the referrer was copied without what it refers to).
func (c *checker) walkSubject(ctx context.Context, loc string, obj map[string]json.RawMessage, depth int) {
	raw, ok := obj["subject"]
	if !ok {
		return
	}
	desc, usable := c.checkDescriptor(loc, "/subject", raw, false)
	if !usable {
		return
	}
	if b := c.blob(desc.Digest); !b.exists {
		b.referenced = true
		c.add(SubjectMissing, Warning, loc, "/subject", "the subject %s is not in the layout", desc.Digest)
		return
	}
	c.walk(ctx, desc, loc, "/subject", depth, c.missingSeverity())
}

func (c *checker) checkManifest(ctx context.Context, b *blob, obj map[string]json.RawMessage, depth int) {
	loc := b.loc
	if _, ok := obj["manifests"]; ok {
		c.add(AmbiguousDocument, Error, loc, "", "a manifest with manifests could be read as an index (CVE-2021-41190)")
	}
	artifactType, hasArtifactType := c.checkArtifactType(loc, "", obj)
	if ar, ok := obj["annotations"]; ok {
		c.checkAnnotations(loc, "/annotations", ar, false)
	}

	var layerRaws []json.RawMessage
	if raw, ok := obj["layers"]; !ok || string(raw) == "null" {
		c.add(LayersMissing, Error, loc, "/layers", "layers is missing or null")
	} else if layerRaws, ok = asArray(raw); !ok {
		c.add(BadField, Error, loc, "/layers", "layers must be an array, not %s", brief(raw))
	} else if len(layerRaws) == 0 {
		c.add(LayersEmpty, Warning, loc, "/layers", "the manifest has no layers")
	}

	var diffIDs []digest.Digest
	image := false
	if raw, ok := obj["config"]; !ok {
		c.add(ConfigMissing, Error, loc, "/config", "config is missing")
	} else {
		cfg, usable := c.checkDescriptor(loc, "/config", raw, false)
		if cfg.MediaType == ocispec.MediaTypeEmptyJSON && !hasArtifactType {
			c.add(ArtifactTypeMissing, Error, loc, "/artifactType", "a manifest with an empty config must have an artifactType")
		}
		// Every layer of an image is a tar (profile.IsImage); an image
		// config has diff_ids to check either way. An image config over
		// layers none of which is a tar is not a root filesystem: cosign's
		// tag-form signatures, attestations and SBOMs (layout.CosignTags)
		// are such manifests, their config naming no platform.
		payloads := len(layerRaws) > 0 && !anyTarLayer(layerRaws)
		image = profile.IsImage(cfg.MediaType, artifactType) && !payloads
		if usable {
			if cb := c.reference(cfg, loc, "/config", c.missingSeverity()); cb != nil && profile.IsImageConfig(cfg.MediaType) {
				diffIDs = c.checkImageConfig(ctx, cb, loc, len(layerRaws), !payloads)
			}
		}
	}

	var titled []titledLayer // an artifact's layers, for markNested
	for i, raw := range layerRaws {
		var diffID digest.Digest
		if i < len(diffIDs) {
			diffID = diffIDs[i]
		}
		if t := c.checkLayerDescriptor(loc, ptr("/layers", i), raw, image, diffID); t != nil {
			titled = append(titled, *t)
		}
	}
	c.markNested(titled)
	c.walkSubject(ctx, loc, obj, depth)
}

// checkLayerDescriptor checks the layer descriptor raw at p of the manifest at loc
// (image: the manifest is an image's; diffID: its config's diff_id, or "")
// and, under --deep, queues its blob for the layer rules. It returns the
// layer's title and blob for an artifact's titled layer, else nil.
func (c *checker) checkLayerDescriptor(loc, p string, raw json.RawMessage, image bool, diffID digest.Digest) *titledLayer {
	desc, usable := c.checkDescriptor(loc, p, raw, false)
	if !usable {
		return nil
	}
	ref := layerRef{loc: loc, ptr: p, desc: desc, tar: image || profile.SaysTar(desc.Annotations)}
	// The layer rules read an image's layers as a root filesystem (as
	// extract does), an artifact's tar layers as the files below their
	// title.
	ref.image = image
	if !ref.image {
		ref.title = desc.Annotations[ocispec.AnnotationTitle]
		// The name extract writes the layer under (layer.CheckTitle).
		if r := layer.CheckTitle(ref.title); r != nil && ref.title != "" && c.opts.Deep {
			c.add(refusalCodes[r.Kind], Error, loc, ptr(ptr(p, "annotations"), ocispec.AnnotationTitle), "%s", r)
		}
	}
	ref.diffID = diffID
	missing := c.missingSeverity()
	if profile.IsNondistributable(desc.MediaType) && len(desc.URLs) > 0 {
		missing = Warning // its urls hold it (image-layout.md allows the gap)
	}
	lb := c.reference(desc, loc, p, missing)
	if lb != nil && c.opts.Deep {
		c.layers = append(c.layers, ref)
		if ref.tar {
			lb.wantDeep = true
			if n, ok := parseSizeAnnotation(desc.Annotations[profile.AnnotationContentSize]); ok && (!lb.declared || n < lb.contentSize) {
				lb.declared, lb.contentSize = true, n
			}
		}
		if ref.image {
			lb.imageLayer = true
		}
		if ref.title != "" {
			return &titledLayer{ref.title, lb}
		}
	}
	return nil
}

// titledLayer is an artifact layer's title and blob.
type titledLayer struct {
	title string
	b     *blob
}

// markNested marks the blobs of an artifact's layers whose titles nest
// (layer.TitlesNest), so that their tar headers are kept for
// checkArtifacts: only such layers can refuse one another.
func (c *checker) markNested(layers []titledLayer) {
	titles := make([]string, len(layers))
	for i, l := range layers {
		titles[i] = l.title
	}
	if !layer.TitlesNest(titles) {
		return
	}
	for _, l := range layers {
		l.b.nestedLayer = true
	}
}

// checkImageConfig parses an OCI image config and returns its diff_ids when
// they can be paired with the layers. platform: the config must name an
// architecture and an os (an image's does; one over payloads need not).
func (c *checker) checkImageConfig(ctx context.Context, b *blob, loc string, layers int, platform bool) []digest.Digest {
	data := c.document(ctx, b, loc, "/config")
	if data == nil {
		return nil
	}
	obj := c.parseObject(b.loc, data)
	if obj == nil {
		return nil
	}
	for _, k := range []string{"architecture", "os"} {
		if s, ok := asString(obj[k]); platform && (!ok || s == "") {
			c.add(BadConfig, Error, b.loc, ptr("", k), "an image config needs a non-empty %s", k)
		}
	}
	rootfs, ok := asObject(obj["rootfs"])
	if !ok {
		c.add(BadConfig, Error, b.loc, "/rootfs", "rootfs is missing or not an object")
		return nil
	}
	if t, _ := asString(rootfs["type"]); t != "layers" {
		c.add(BadConfig, Error, b.loc, "/rootfs/type", "rootfs.type is %s, not \"layers\"", brief(rootfs["type"]))
	}
	raws, ok := asArray(rootfs["diff_ids"])
	if !ok {
		c.add(BadConfig, Error, b.loc, "/rootfs/diff_ids", "diff_ids is missing or not an array")
		return nil
	}
	if len(raws) != layers {
		c.add(BadConfig, Error, b.loc, "/rootfs/diff_ids", "%d diff_ids for %d layers in %s", len(raws), layers, loc)
		return nil
	}
	ids := make([]digest.Digest, len(raws))
	for i, r := range raws {
		s, ok := asString(r)
		if code, msg := digestProblem(s); !ok || code != "" {
			c.add(BadDigest, Error, b.loc, ptr("/rootfs/diff_ids", i), "diff_id %s: %s", brief(r), msg)
			continue
		}
		ids[i] = digest.Digest(s)
	}
	return ids
}

// anyTarLayer reports whether one of layers (descriptors as JSON) has a
// tar layer media type (profile.TarLayerCompression).
func anyTarLayer(layers []json.RawMessage) bool {
	for _, raw := range layers {
		var d struct {
			MediaType string `json:"mediaType"`
		}
		if json.Unmarshal(raw, &d) == nil {
			if _, ok := profile.TarLayerCompression(d.MediaType); ok {
				return true
			}
		} else {
			return true // not a descriptor: judged as the image it claims to be
		}
	}
	return false
}

// parseSizeAnnotation reads io.ocibundle.content.size: a decimal integer,
// not negative.
func parseSizeAnnotation(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}
