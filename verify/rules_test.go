package verify

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/internal/testfs"
	"github.com/ocibundle/ocibundle/profile"
)

// ruleCase is one generated fixture breaking one rule.
type ruleCase struct {
	name  string
	build func(f *fx) string // returns the target ("" for the layout)
	opts  Options
	code  Code
	sev   Severity
	loc   string // when set, a finding with code must have this location
	once  bool   // exactly one finding with code, and no other error
}

func layerPatch(i int, kv ...any) func(m map[string]any) {
	return func(m map[string]any) {
		layers := m["layers"].([]map[string]any)
		layers[i] = with(layers[i], kv...)
	}
}

func set(kv ...any) func(m map[string]any) {
	return func(m map[string]any) {
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
	}
}

// std is the standard bundle with the manifest edited.
func std(edit func(m map[string]any)) func(f *fx) string {
	return func(f *fx) string { f.std(edit); return "" }
}

// stdThen is the standard bundle, then a change on disk.
func stdThen(after func(f *fx, md map[string]any)) func(f *fx) string {
	return func(f *fx) string { after(f, f.std(nil)); return "" }
}

// rawIndex writes index.json as given, next to the standard bundle.
func rawIndex(s string) func(f *fx) string {
	return func(f *fx) string { f.std(nil); f.file("index.json", []byte(s)); return "" }
}

// indexOf writes index.json from a map built around the standard bundle's
// manifest descriptor.
func indexOf(build func(md map[string]any) map[string]any) func(f *fx) string {
	return func(f *fx) string {
		md := f.std(nil)
		f.file("index.json", mustJSON(f.t, build(md)))
		return ""
	}
}

func idx(entries ...any) map[string]any {
	return map[string]any{"schemaVersion": 2, "mediaType": ocispec.MediaTypeImageIndex, "manifests": entries}
}

// deepLayer is the standard bundle whose only layer is blob (declared as
// mediaType) with content as its uncompressed form.
func deepLayer(content, blob []byte, mediaType string, edit func(l map[string]any)) func(f *fx) string {
	return func(f *fx) string {
		l := f.layer(content, blob, mediaType)
		if edit != nil {
			edit(l)
		}
		md := f.putJSON(manifest(f.emptyConfig(), l), ocispec.MediaTypeImageManifest)
		f.index(tagged(md, "v1"))
		return ""
	}
}

// tarLayer is deepLayer with a zstd tar of entries.
func tarLayer(t testing.TB, entries ...entry) func(f *fx) string {
	content := tarOf(t, entries...)
	return deepLayer(content, compressed(t, content, compress.Zstd), ocispec.MediaTypeImageLayerZstd, nil)
}

// zstdFrame is one raw-block zstd frame declaring window log windowLog.
func zstdFrame(windowLog int, payload []byte) []byte {
	out := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, byte((windowLog - 10) << 3)}
	n := len(payload)<<3 | 1 // last block, raw
	out = append(out, byte(n), byte(n>>8), byte(n>>16))
	return append(out, payload...)
}

// nestIndexes stores depth indexes nested over md and returns the top one.
func nestIndexes(f *fx, md map[string]any, depth int) map[string]any {
	cur := md
	for range depth {
		cur = f.putJSON(idx(cur), ocispec.MediaTypeImageIndex)
	}
	return cur
}

func TestRules(t *testing.T) {
	simple := tarOf(t, entry{name: "files/a.txt", body: "a"})
	hundredK := bytes.Repeat([]byte("x"), 100)
	cases := []ruleCase{
		// oci-layout
		{name: "oci-layout missing", build: stdThen(func(f *fx, _ map[string]any) { os.Remove(f.path("oci-layout")) }), code: LayoutMissing, sev: Error, loc: "oci-layout"},
		{name: "oci-layout wrong version", build: stdThen(func(f *fx, _ map[string]any) { f.file("oci-layout", []byte(`{"imageLayoutVersion":"1.1.0"}`)) }), code: BadLayoutVersion, sev: Error},
		{name: "oci-layout not an object", build: stdThen(func(f *fx, _ map[string]any) { f.file("oci-layout", []byte(`["1.0.0"]`)) }), code: BadJSON, sev: Error, loc: "oci-layout"},
		{name: "oci-layout a directory", build: stdThen(func(f *fx, _ map[string]any) {
			os.Remove(f.path("oci-layout"))
			os.Mkdir(f.path("oci-layout"), 0o755)
		}), code: NotRegularFile, sev: Error, loc: "oci-layout"},

		// index.json
		{name: "index.json missing", build: stdThen(func(f *fx, _ map[string]any) { os.Remove(f.path("index.json")) }), code: IndexMissing, sev: Error},
		{name: "index.json symlink", build: stdThen(func(f *fx, _ map[string]any) {
			os.Rename(f.path("index.json"), f.path("real.json"))
			os.Symlink("real.json", f.path("index.json"))
		}), code: NotRegularFile, sev: Error, loc: "index.json"},
		{name: "index.json FIFO", build: stdThen(func(f *fx, _ map[string]any) {
			os.Remove(f.path("index.json"))
			if err := testfs.Mkfifo(f.path("index.json")); err != nil {
				f.t.Fatal(err)
			}
		}), code: NotRegularFile, sev: Error, loc: "index.json"},
		{name: "index.json directory", build: stdThen(func(f *fx, _ map[string]any) {
			os.Remove(f.path("index.json"))
			os.Mkdir(f.path("index.json"), 0o755)
		}), code: NotRegularFile, sev: Error, loc: "index.json"},
		{name: "index.json over 4 MiB", build: rawIndex(`{"schemaVersion":2,"manifests":[],"x":"` + strings.Repeat("x", 4<<20) + `"}`), code: TooLarge, sev: Error, loc: "index.json"},
		{name: "index.json not UTF-8", build: rawIndex("{\"schemaVersion\":2,\"manifests\":[],\"x\":\"\xff\"}"), code: BadJSON, sev: Error, loc: "index.json"},
		{name: "index.json duplicate key", build: rawIndex(`{"schemaVersion":2,"manifests":[],"manifests":[]}`), code: DuplicateKey, sev: Error, loc: "index.json"},
		{name: "index.json case-variant key", build: rawIndex(`{"schemaVersion":2,"manifests":[],"Manifests":[]}`), code: DuplicateKey, sev: Error, loc: "index.json"},
		{name: "index.json trailing data", build: rawIndex(`{"schemaVersion":2,"manifests":[]} {}`), code: BadJSON, sev: Error, loc: "index.json"},
		{name: "index.json schemaVersion 1", build: rawIndex(`{"schemaVersion":1,"manifests":[]}`), code: BadSchemaVersion, sev: Error, loc: "index.json"},
		{name: "index.json mediaType missing", build: rawIndex(`{"schemaVersion":2,"manifests":[]}`), code: MediaTypeMissing, sev: Warning, loc: "index.json"},
		{name: "index.json mediaType a manifest", build: rawIndex(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}`), code: BadMediaType, sev: Error, loc: "index.json"},
		{name: "index.json manifests null", build: rawIndex(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}`), code: ManifestsMissing, sev: Error},
		{name: "index.json manifests missing", build: rawIndex(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}`), code: ManifestsMissing, sev: Error},
		{name: "index.json with layers", build: rawIndex(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"layers":[]}`), code: AmbiguousDocument, sev: Error},

		// descriptors
		{name: "mediaType grammar", build: std(layerPatch(0, "mediaType", "not a media type")), code: BadMediaType, sev: Error},
		{name: "mediaType with parameters", build: std(layerPatch(0, "mediaType", "text/plain; charset=utf-8")), code: BadMediaType, sev: Error},
		{name: "digest not grammatical", build: std(layerPatch(0, "digest", "sha256")), code: BadDigest, sev: Error},
		{name: "digest upper-case hex", build: std(func(m map[string]any) {
			l := m["layers"].([]map[string]any)
			l[0]["digest"] = "sha256:" + strings.ToUpper(strings.TrimPrefix(l[0]["digest"].(string), "sha256:"))
		}), code: BadDigest, sev: Error},
		{name: "digest short hex", build: std(layerPatch(0, "digest", "sha256:abcd")), code: BadDigest, sev: Error},
		{name: "sha512 of 64 hex", build: std(layerPatch(0, "digest", "sha512:"+strings.Repeat("a", 64))), code: BadDigest, sev: Error},
		{name: "unknown algorithm", build: std(layerPatch(0, "digest", "blake3:"+strings.Repeat("a", 64))), code: UnknownAlgorithm, sev: Error},
		{name: "md5 layer", build: std(layerPatch(0, "digest", "md5:"+strings.Repeat("a", 32))), code: UnknownAlgorithm, sev: Error, once: true},
		{name: "unknown algorithm strict", build: std(layerPatch(0, "digest", "blake3:"+strings.Repeat("a", 64))), opts: Options{Strict: true}, code: UnknownAlgorithm, sev: Error},
		{name: "size fraction", build: std(layerPatch(0, "size", 1.5)), code: BadSize, sev: Error},
		{name: "size negative", build: std(layerPatch(0, "size", -1)), code: BadSize, sev: Error},
		{name: "size above 2^53", build: std(layerPatch(0, "size", int64(1)<<53+1)), code: BadSize, sev: Error},
		{name: "size a string", build: std(layerPatch(0, "size", "12")), code: BadSize, sev: Error},
		{name: "size missing", build: std(layerPatch(0, "size", nil)), code: BadSize, sev: Error},
		{name: "data not base64", build: std(func(m map[string]any) { m["config"].(map[string]any)["data"] = "e30" }), code: BadData, sev: Error},
		{name: "data with a line break", build: std(func(m map[string]any) { m["config"].(map[string]any)["data"] = "e3\n0=" }), code: BadData, sev: Error},
		{name: "data not the blob", build: std(func(m map[string]any) {
			m["config"].(map[string]any)["data"] = base64.StdEncoding.EncodeToString([]byte("[]"))
		}), code: BadData, sev: Error},
		{name: "urls not URIs", build: std(layerPatch(0, "urls", []any{"not a uri"})), code: BadURL, sev: Error},
		{name: "urls not an array", build: std(layerPatch(0, "urls", "https://example.com/x")), code: BadURL, sev: Error},
		{name: "annotations null", build: std(layerPatch(0, "annotations", json.RawMessage("null"))), code: BadAnnotations, sev: Error},
		{name: "annotation not a string", build: std(func(m map[string]any) { m["annotations"] = map[string]any{"k": 1} }), code: BadAnnotations, sev: Error},
		{name: "artifactType grammar", build: std(set("artifactType", "bundle")), code: BadArtifactType, sev: Error},
		{name: "platform without os", build: indexOf(func(md map[string]any) map[string]any {
			return idx(with(md, "platform", map[string]any{"architecture": "amd64"}))
		}), code: BadPlatform, sev: Error},
		{name: "descriptor not an object", build: std(func(m map[string]any) { m["layers"] = []any{"sha256:x"} }), code: BadField, sev: Error},

		// manifests
		{name: "manifest schemaVersion", build: std(set("schemaVersion", 1)), code: BadSchemaVersion, sev: Error},
		{name: "manifest mediaType missing", build: std(set("mediaType", nil)), code: MediaTypeMissing, sev: Warning},
		{name: "manifest mediaType differs from descriptor", build: std(set("mediaType", ocispec.MediaTypeImageIndex)), code: MediaTypeMismatch, sev: Error},
		{name: "manifest with manifests", build: std(set("manifests", []any{})), code: AmbiguousDocument, sev: Error},
		{name: "config missing", build: std(set("config", nil)), code: ConfigMissing, sev: Error},
		{name: "empty config without artifactType", build: std(set("artifactType", nil)), code: ArtifactTypeMissing, sev: Error},
		{name: "layers missing", build: std(set("layers", nil)), code: LayersMissing, sev: Error},
		{name: "layers empty", build: std(set("layers", []any{})), code: LayersEmpty, sev: Warning},
		{name: "image config rootfs type", build: func(f *fx) string {
			f.imageStd(func(c map[string]any) { c["rootfs"].(map[string]any)["type"] = "tar" })
			return ""
		}, code: BadConfig, sev: Error},
		{name: "image config diff_ids count", build: func(f *fx) string {
			f.imageStd(func(c map[string]any) { c["rootfs"].(map[string]any)["diff_ids"] = []string{} })
			return ""
		}, code: BadConfig, sev: Error},
		{name: "image config without os", build: func(f *fx) string {
			f.imageStd(func(c map[string]any) { delete(c, "os") })
			return ""
		}, code: BadConfig, sev: Error},
		{name: "index entry of unknown type", build: indexOf(func(md map[string]any) map[string]any {
			return idx(md, with(md, "mediaType", "application/x-unknown"))
		}), code: UnknownManifestType, sev: Warning},
		{name: "document mediaType differs from a second reference", build: func(f *fx) string {
			md := f.std(nil)
			f.file("index.json", mustJSON(f.t, idx(md, with(md, "mediaType", ocispec.MediaTypeImageIndex))))
			return ""
		}, code: MediaTypeMismatch, sev: Error},

		// indexes
		{name: "nested index too deep", build: func(f *fx) string {
			md := f.std(nil)
			f.index(nestIndexes(f, md, MaxDepth+1))
			return ""
		}, code: DepthExceeded, sev: Error},
		{name: "nested index with config", build: func(f *fx) string {
			md := f.std(nil)
			in := idx(md)
			in["config"] = md
			f.index(f.putJSON(in, ocispec.MediaTypeImageIndex))
			return ""
		}, code: AmbiguousDocument, sev: Error},
		{name: "nested index mediaType differs", build: func(f *fx) string {
			md := f.std(nil)
			in := idx(md)
			in["mediaType"] = ocispec.MediaTypeImageManifest
			f.index(f.putJSON(in, ocispec.MediaTypeImageIndex))
			return ""
		}, code: MediaTypeMismatch, sev: Error},

		// annotations
		{name: "unknown org.opencontainers.image key", build: std(set("annotations", map[string]any{"org.opencontainers.image.colour": "blue"})), code: UnknownAnnotation, sev: Warning},
		{name: "ref.name grammar", build: indexOf(func(md map[string]any) map[string]any { return idx(tagged(md, "bad tag!")) }), code: BadRefName, sev: Warning},
		{name: "ref.name on a manifest", build: std(set("annotations", map[string]any{ocispec.AnnotationRefName: "v1"})), code: RefNameOutsideIndex, sev: Warning},
		{name: "one tag, two digests", build: func(f *fx) string {
			md := f.std(nil)
			other := f.std(set("annotations", map[string]any{"k": "v"}))
			f.index(tagged(md, "v1"), tagged(other, "v1"))
			return ""
		}, code: DuplicateTag, sev: Warning, once: true},
		{name: "tag not found", build: func(f *fx) string { f.std(nil); return f.dir + ":nope" }, code: TagNotFound, sev: Error},

		// blobs
		{name: "blobs missing", build: func(f *fx) string { os.RemoveAll(f.path("blobs")); f.index(); return "" }, code: BlobsNotDirectory, sev: Error},
		{name: "blobs a symlink", build: stdThen(func(f *fx, _ map[string]any) {
			os.Rename(f.path("blobs"), f.path("real-blobs"))
			os.Symlink("real-blobs", f.path("blobs"))
		}), code: BlobsNotDirectory, sev: Error},
		{name: "blob name not hex", build: stdThen(func(f *fx, _ map[string]any) { f.file("blobs/sha256/xyz", []byte("x")) }), code: BadBlobName, sev: Warning, loc: "blobs/sha256/xyz"},
		{name: "stray temporary file in blobs/sha256", build: stdThen(func(f *fx, _ map[string]any) { f.file("blobs/sha256/.tmp-123", []byte("x")) }), code: BadBlobName, sev: Warning, loc: "blobs/sha256/.tmp-123"},
		{name: "stray temporary file strict", build: stdThen(func(f *fx, _ map[string]any) { f.file("blobs/sha256/.tmp-123", []byte("x")) }), opts: Options{Strict: true}, code: BadBlobName, sev: Error, loc: "blobs/sha256/.tmp-123"},
		{name: "blob name upper-case (a stray file)", build: stdThen(func(f *fx, _ map[string]any) {
			f.file("blobs/sha256/"+strings.ToUpper(digest.FromString("x").Encoded()), []byte("x"))
		}), code: BadBlobName, sev: Warning},
		{name: "file directly in blobs", build: stdThen(func(f *fx, _ map[string]any) { f.file("blobs/README", []byte("x")) }), code: BadBlobName, sev: Error, loc: "blobs/README"},
		{name: "unknown algorithm directory", build: stdThen(func(f *fx, _ map[string]any) { f.file("blobs/blake3/"+strings.Repeat("a", 64), []byte("x")) }), code: UnknownAlgorithm, sev: Warning},
		{name: "algorithm directory a symlink", build: func(f *fx) string {
			f.std(nil)
			os.Rename(f.path("blobs/sha256"), f.path("elsewhere"))
			os.Symlink("../elsewhere", f.path("blobs/sha256"))
			return f.dir + ":v1"
		}, code: BadBlobName, sev: Error, loc: "blobs/sha256"},
		{name: "blob a symlink", build: stdThen(func(f *fx, md map[string]any) {
			p := f.path(blobPath(md))
			os.Rename(p, f.path("m.json"))
			os.Symlink("../../m.json", p)
		}), code: NotRegularFile, sev: Error},
		{name: "blob a FIFO", build: stdThen(func(f *fx, md map[string]any) {
			os.Remove(f.path(blobPath(md)))
			if err := testfs.Mkfifo(f.path(blobPath(md))); err != nil {
				f.t.Fatal(err)
			}
		}), code: NotRegularFile, sev: Error},
		{name: "blob a directory", build: stdThen(func(f *fx, md map[string]any) {
			os.Remove(f.path(blobPath(md)))
			os.Mkdir(f.path(blobPath(md)), 0o755)
		}), code: NotRegularFile, sev: Error},
		{name: "unreferenced symlink blob", build: stdThen(func(f *fx, _ map[string]any) {
			os.Symlink("/etc/passwd", f.path("blobs/sha256/"+digest.FromString("y").Encoded()))
		}), code: NotRegularFile, sev: Error},
		{name: "size differs from descriptor", build: indexOf(func(md map[string]any) map[string]any {
			return idx(with(md, "size", md["size"].(int)+1))
		}), code: SizeMismatch, sev: Error, once: true},
		{name: "content differs from name", build: stdThen(func(f *fx, md map[string]any) {
			data, _ := os.ReadFile(f.path(blobPath(md)))
			data[len(data)-1] = ' '
			f.file(blobPath(md), data)
		}), code: DigestMismatch, sev: Error},
		{name: "blob missing", build: stdThen(func(f *fx, md map[string]any) { os.Remove(f.path(blobPath(md))) }), code: BlobMissing, sev: Error, once: true},
		{name: "blob missing allowed", build: stdThen(func(f *fx, md map[string]any) { os.Remove(f.path(blobPath(md))) }), opts: Options{AllowMissing: true}, code: BlobMissing, sev: Warning},
		{name: "unreferenced blob", build: stdThen(func(f *fx, _ map[string]any) { f.put([]byte("stray"), "") }), code: UnreferencedBlob, sev: Info},
		{name: "unreferenced blob strict", build: stdThen(func(f *fx, _ map[string]any) { f.put([]byte("stray"), "") }), opts: Options{Strict: true}, code: UnreferencedBlob, sev: Warning},
		{name: "unreferenced blob that is corrupt", build: stdThen(func(f *fx, _ map[string]any) {
			f.file("blobs/sha256/"+digest.FromString("a").Encoded(), []byte("b"))
		}), code: DigestMismatch, sev: Error},
		{name: "ingest leftover", build: stdThen(func(f *fx, _ map[string]any) { f.file("ingest/blob-123", []byte("x")) }), code: IngestLeftover, sev: Info},
		{name: "subject missing", build: std(set("subject", map[string]any{
			"mediaType": ocispec.MediaTypeImageManifest, "digest": digest.FromString("gone").String(), "size": 4,
		})), code: SubjectMissing, sev: Warning},
		{name: "manifest over 4 MiB", build: func(f *fx) string {
			md := f.std(set("annotations", map[string]any{"big": strings.Repeat("x", 4<<20)}))
			f.index(tagged(md, "v1"))
			return ""
		}, code: TooLarge, sev: Error},

		// --deep
		{name: "deep: io.ocibundle.content.digest", build: deepLayer(simple, compressed(t, simple, compress.Zstd), ocispec.MediaTypeImageLayerZstd, func(l map[string]any) {
			l["annotations"].(map[string]any)[profile.AnnotationContentDigest] = digest.FromString("other").String()
		}), opts: Options{Deep: true}, code: ContentDigestMismatch, sev: Error},
		{name: "deep: content size", build: deepLayer(simple, compressed(t, simple, compress.Zstd), ocispec.MediaTypeImageLayerZstd, func(l map[string]any) {
			l["annotations"].(map[string]any)[profile.AnnotationContentSize] = "1"
		}), opts: Options{Deep: true}, code: ContentSizeMismatch, sev: Error},
		{name: "deep: content size not a number", build: deepLayer(simple, compressed(t, simple, compress.Zstd), ocispec.MediaTypeImageLayerZstd, func(l map[string]any) {
			l["annotations"].(map[string]any)[profile.AnnotationContentSize] = "many"
		}), opts: Options{Deep: true}, code: BadAnnotation, sev: Error},
		{name: "deep: ORAS digest", build: deepLayer(simple, compressed(t, simple, compress.Gzip), ocispec.MediaTypeImageLayerGzip, func(l map[string]any) {
			l["annotations"].(map[string]any)[profile.AnnotationORASDigest] = digest.FromString("other").String()
		}), opts: Options{Deep: true}, code: ContentDigestMismatch, sev: Error},
		{name: "deep: diff_ids", build: func(f *fx) string {
			f.imageStd(func(c map[string]any) {
				c["rootfs"].(map[string]any)["diff_ids"] = []string{digest.FromString("other").String()}
			})
			return ""
		}, opts: Options{Deep: true}, code: DiffIDMismatch, sev: Error},
		{name: "deep: unknown layer type", build: deepLayer(simple, simple, "application/x-custom-tar", nil), opts: Options{Deep: true}, code: UnknownLayerType, sev: Warning},
		{name: "deep: gzip under a zstd type", build: deepLayer(simple, compressed(t, simple, compress.Gzip), ocispec.MediaTypeImageLayerZstd, nil), opts: Options{Deep: true}, code: LayerCorrupt, sev: Error},
		{name: "deep: plain bytes under a gzip type", build: deepLayer(simple, simple, ocispec.MediaTypeImageLayerGzip, nil), opts: Options{Deep: true}, code: LayerCorrupt, sev: Error},
		{name: "deep: zstd window above 128 MiB", build: deepLayer(simple, zstdFrame(28, simple), ocispec.MediaTypeImageLayerZstd, nil), opts: Options{Deep: true}, code: LayerCorrupt, sev: Error, once: true},
		{name: "deep: zstd truncated frame", build: func() func(f *fx) string {
			z := compressed(t, simple, compress.Zstd)
			return deepLayer(simple, z[:len(z)-6], ocispec.MediaTypeImageLayerZstd, nil)
		}(), opts: Options{Deep: true}, code: LayerCorrupt, sev: Error},
		{name: "deep: zstd bad checksum", build: func() func(f *fx) string {
			z := compressed(t, simple, compress.Zstd)
			z[len(z)-1] ^= 0xff
			return deepLayer(simple, z, ocispec.MediaTypeImageLayerZstd, nil)
		}(), opts: Options{Deep: true}, code: LayerCorrupt, sev: Error, once: true},
		{name: "deep: zstd trailing garbage", build: deepLayer(simple, append(compressed(t, simple, compress.Zstd), "garbage!"...), ocispec.MediaTypeImageLayerZstd, nil), opts: Options{Deep: true}, code: LayerCorrupt, sev: Error, once: true},
		{name: "deep: gzip trailing garbage", build: deepLayer(simple, append(compressed(t, simple, compress.Gzip), "garbage!"...), ocispec.MediaTypeImageLayerGzip, nil), opts: Options{Deep: true}, code: LayerCorrupt, sev: Error, once: true},
		{name: "deep: gzip truncated", build: func() func(f *fx) string {
			z := compressed(t, simple, compress.Gzip)
			return deepLayer(simple, z[:len(z)-5], ocispec.MediaTypeImageLayerGzip, nil)
		}(), opts: Options{Deep: true}, code: LayerCorrupt, sev: Error},
		{name: "deep: not a tar", build: deepLayer(hundredK, compressed(t, hundredK, compress.Zstd), ocispec.MediaTypeImageLayerZstd, nil), opts: Options{Deep: true}, code: TarCorrupt, sev: Error, once: true},
		{name: "deep: tar truncated", build: func() func(f *fx) string {
			long := tarOf(t, entry{name: "files/big", body: strings.Repeat("b", 2000)})
			short := long[:1200]
			return deepLayer(short, compressed(t, short, compress.Zstd), ocispec.MediaTypeImageLayerZstd, nil)
		}(), opts: Options{Deep: true}, code: TarCorrupt, sev: Error},
		{name: "deep: data after the tar", build: func() func(f *fx) string {
			long := append(append([]byte{}, simple...), "trailing"...)
			return deepLayer(long, compressed(t, long, compress.Zstd), ocispec.MediaTypeImageLayerZstd, nil)
		}(), opts: Options{Deep: true}, code: TarCorrupt, sev: Error},
		{name: "deep: duplicate entry", build: tarLayer(t, entry{name: "files/a", body: "1"}, entry{name: "./files/a", body: "2"}), opts: Options{Deep: true}, code: TarDuplicate, sev: Error, once: true},
		{name: "deep: absolute name", build: tarLayer(t, entry{name: "/etc/passwd", body: "x"}), opts: Options{Deep: true}, code: TarUnsafePath, sev: Error},
		{name: "deep: dot-dot name", build: tarLayer(t, entry{name: "files/../../x", body: "x"}), opts: Options{Deep: true}, code: TarUnsafePath, sev: Error},
		{name: "deep: symlink escapes", build: tarLayer(t, entry{name: "files/l", link: "../../etc", typ: tar.TypeSymlink}), opts: Options{Deep: true}, code: TarLinkEscapes, sev: Error},
		{name: "deep: symlink chain escapes", build: tarLayer(t,
			entry{name: "files/up", link: "..", typ: tar.TypeSymlink},
			entry{name: "files/d/", typ: tar.TypeDir},
			entry{name: "files/d/l", link: "../up/../x", typ: tar.TypeSymlink}), opts: Options{Deep: true}, code: TarLinkEscapes, sev: Error},
		{name: "deep: entry through a symlink", build: tarLayer(t,
			entry{name: "files/out", link: "/", typ: tar.TypeSymlink},
			entry{name: "files/d", link: "out/..", typ: tar.TypeSymlink},
			entry{name: "files/d/x", body: "x"}), opts: Options{Deep: true}, code: TarLinkEscapes, sev: Error},
		{name: "deep: hard link escapes", build: tarLayer(t, entry{name: "files/h", link: "../x", typ: tar.TypeLink}), opts: Options{Deep: true}, code: TarLinkEscapes, sev: Error},
		{name: "deep: device", build: tarLayer(t, entry{name: "files/null", typ: tar.TypeChar}), opts: Options{Deep: true}, code: TarDevice, sev: Error, once: true},
		{name: "deep: block device", build: tarLayer(t, entry{name: "files/sda", typ: tar.TypeBlock}), opts: Options{Deep: true}, code: TarDevice, sev: Error},
		{name: "deep: root entry a symlink", build: tarLayer(t, entry{name: ".", link: "/", typ: tar.TypeSymlink}, entry{name: "files/a", body: "x"}), opts: Options{Deep: true}, code: TarUnsafePath, sev: Error},
		{name: "deep: FIFO", build: tarLayer(t, entry{name: "files/p", typ: tar.TypeFifo}), opts: Options{Deep: true}, code: TarSpecialFile, sev: Error},
		{name: "deep: artifact file not unpacked", build: func(f *fx) string {
			l := f.put([]byte("just a file"), ocispec.MediaTypeImageLayer)
			md := f.putJSON(manifest(f.emptyConfig(), l), ocispec.MediaTypeImageManifest)
			f.index(tagged(md, "v1"))
			return ""
		}, opts: Options{Deep: true}, code: LayerNotChecked, sev: Info},

		// --digest
		{name: "pin mismatch", build: std(nil), opts: Options{Digest: digest.FromString("other").String()}, code: DigestPinMismatch, sev: Error, once: true},
		{name: "pin with two bundles", build: func(f *fx) string {
			a := f.std(nil)
			b := f.std(set("annotations", map[string]any{"k": "v"}))
			f.index(tagged(a, "a"), tagged(b, "b"))
			return ""
		}, opts: Options{Digest: digest.FromString("other").String()}, code: DigestPinAmbiguous, sev: Error},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			target := tc.build(f)
			if target == "" {
				target = f.dir
			}
			rep := run(t, target, tc.opts)
			got := find(rep, tc.code)
			if len(got) == 0 {
				t.Fatalf("Verify() has no %s finding; report:\n%s", tc.code, dump(rep))
			}
			matched := false
			for _, g := range got {
				if g.Severity == tc.sev && (tc.loc == "" || g.Location == tc.loc) {
					matched = true
				}
			}
			if !matched {
				t.Errorf("Verify() %s findings = %+v, want severity %s at %q", tc.code, got, tc.sev, tc.loc)
			}
			if tc.once && (len(got) != 1 || rep.Summary.Errors > 1) {
				t.Errorf("Verify() = %d %s findings and %d errors, want exactly one:\n%s", len(got), tc.code, rep.Summary.Errors, dump(rep))
			}
			switch {
			case tc.sev == Error && targetErrors[tc.code] != nil:
				// The target as named, not bad content (exit 3 or 2).
				if !errors.Is(rep.Err(), targetErrors[tc.code]) || errors.Is(rep.Err(), ErrFailed) {
					t.Errorf("Report.Err() = %v, want an error wrapping %v, not ErrFailed", rep.Err(), targetErrors[tc.code])
				}
			case tc.sev == Error && !errors.Is(rep.Err(), ErrFailed):
				t.Errorf("Report.Err() = %v, want an error wrapping ErrFailed", rep.Err())
			}
		})
	}
}
