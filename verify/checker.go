package verify

import (
	"context"
	"fmt"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/progress"
)

// MaxDepth caps the nesting of indexes below index.json.
const MaxDepth = 32

// blob is what verify knows about one blob. The fields are written by one
// goroutine at a time: the graph walk, then the hashing workers (each owns
// its blob), then the final passes.
type blob struct {
	digest  digest.Digest
	loc     string // "blobs/sha256/…" or the archive member name
	exists  bool
	regular bool // false for a symlink, FIFO, directory… (reported once)
	size    int64

	hashed bool
	sum    digest.Digest // the content's digest, once hashed
	data   []byte        // the content, when read as a document
	deep   *layerResult  // the decompressed layer, when scanned deep

	wantDeep    bool // a tar layer that --deep must decompress (layout directories)
	imageLayer  bool // a layer of an image (layout directories)
	nestedLayer bool // a tar layer of an artifact whose titles nest (layout directories)
	// declared: a descriptor of the layer declares its uncompressed size,
	// contentSize (the smallest, if several do; layout directories).
	declared     bool
	contentSize  int64
	referenced   bool
	visited      bool   // its document rules have been checked
	docMediaType string // the document's own mediaType, once parsed
	// mediaType is the least (in byte order) of the media types the
	// descriptors naming it give, for Report.Held.
	mediaType    string
	deepReported bool
	overBudget   bool // an archive member not kept: the documents' budget was spent
}

// source is where blobs come from: a layout directory or an archive that
// has been read.
type source interface {
	// stat describes the blob d names (d is validated). It never returns
	// nil; a blob that is not there has exists false.
	stat(d digest.Digest) *blob
	// readDocument loads b (present, regular, at most MaxDocumentSize bytes)
	// into b.data, hashing it, unless that is already done.
	readDocument(ctx context.Context, b *blob) error
	// peek returns the bytes of the document d names (at most
	// MaxDocumentSize), unverified and uncounted, or nil.
	peek(d digest.Digest) []byte
}

// layerRef is one entry of a manifest's layers, kept for the deep checks
// that need the layer's decompressed digest.
type layerRef struct {
	loc, ptr string
	desc     ocispec.Descriptor
	diffID   digest.Digest // from the image config, when there is one
	tar      bool          // unpackable: an image layer or a layer with tar annotations
	image    bool          // a layer of an image, judged as a root filesystem
	title    string        // an artifact layer's title, which its entries must stay below
}

// checker holds the state of one Verify run.
type checker struct {
	opts  Options
	pin   digest.Digest
	src   source
	rep   *Report
	mu    sync.Mutex // guards rep.Findings and rep.Summary during hashing
	blobs map[digest.Digest]*blob
	// tags maps each index.json tag to its digest and the entry's pointer.
	tags   map[string]tagEntry
	layers []layerRef
	// entries are index.json's manifests entries, roots those the target
	// selects (checkGraph): the bundles whose signatures are checked.
	entries, roots []rootEntry
	whole          bool // the target is the whole layout: hygiene checks apply
	progress       progress.Progress
	// incomplete is set when a document of the graph could not be read, so
	// that "unreferenced" can only mean "not referenced by what was read".
	incomplete bool
	// fatal is an operational error met where findings are made; Verify
	// returns it.
	fatal error
	// deltaBase is the base digest an archive's index.json names
	// (profile.AnnotationDeltaBase): the archive is a delta, and the blobs
	// it leaves out are the base's. It is never set for a layout directory,
	// which must hold its blobs.
	deltaBase string
	archive   bool // the target is an archive
}

type tagEntry struct {
	digest digest.Digest
	ptr    string
}

func newChecker(target string, opts Options) *checker {
	return &checker{
		opts:     opts,
		rep:      &Report{Target: target},
		blobs:    map[digest.Digest]*blob{},
		tags:     map[string]tagEntry{},
		progress: progress.Or(opts.Progress),
	}
}

// add records a finding. It is safe for concurrent use.
func (c *checker) add(code Code, sev Severity, loc, ptr, format string, args ...any) {
	f := Finding{Code: code, Severity: sev, Location: loc, Pointer: ptr, Message: fmt.Sprintf(format, args...)}
	c.mu.Lock()
	c.rep.Findings = append(c.rep.Findings, f)
	c.mu.Unlock()
}

// strictly is Warning, or Error under --strict.
func (c *checker) strictly() Severity {
	if c.opts.Strict {
		return Error
	}
	return Warning
}

// blob returns the state of the blob d names, asking the source the first
// time.
func (c *checker) blob(d digest.Digest) *blob {
	b, ok := c.blobs[d]
	if !ok {
		b = c.src.stat(d)
		c.blobs[d] = b
		if b.exists && !b.regular {
			c.add(NotRegularFile, Error, b.loc, "", "a blob must be a regular file")
		}
	}
	return b
}

// reference marks the blob desc names as referenced from loc#ptr and checks
// that it is there with desc's size. It returns nil when the blob cannot be
// read.
func (c *checker) reference(desc ocispec.Descriptor, loc, ptr string, missing Severity) *blob {
	b := c.blob(desc.Digest)
	b.referenced = true
	if b.mediaType == "" || (desc.MediaType != "" && desc.MediaType < b.mediaType) {
		b.mediaType = desc.MediaType
	}
	switch {
	case !b.exists && c.archive && c.opts.Base != "":
		c.add(BlobMissing, missing, b.loc, "", "%s is missing from the archive and from the base %s (referenced by %s#%s)", desc.Digest, c.opts.Base, loc, ptr)
		return nil
	case !b.exists && c.deltaBase != "":
		c.add(BaseBlob, Info, b.loc, "", "%s is left out of this delta: expected from the base %s (referenced by %s#%s)", desc.Digest, c.deltaBase, loc, ptr)
		return nil
	case !b.exists:
		c.add(BlobMissing, missing, b.loc, "", "%s is missing (referenced by %s#%s)", desc.Digest, loc, ptr)
		return nil
	case !b.regular:
		return nil
	case b.size != desc.Size:
		c.add(SizeMismatch, Error, b.loc, "", "size mismatch: %d bytes, but %s#%s says %d", b.size, loc, ptr, desc.Size)
	}
	return b
}

// missingSeverity is how bad a missing referenced blob is.
func (c *checker) missingSeverity() Severity {
	if c.opts.AllowMissing {
		return Warning
	}
	return Error
}
