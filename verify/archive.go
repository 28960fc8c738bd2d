package verify

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/countio"
	"github.com/ocibundle/ocibundle/layout"
)

// maxArchiveDocuments caps the bytes of JSON documents an archive
// verification keeps in memory; blobs that arrive after it is spent are
// hashed but not kept, and a document among them is reported. A variable
// only so that a test can lower it.
var maxArchiveDocuments int64 = 256 << 20

// archiveSource serves the blobs of an archive that has been read: all of
// them were hashed as they passed and the documents kept.
type archiveSource struct{}

func (archiveSource) stat(d digest.Digest) *blob {
	p, _ := layout.BlobPath(d)
	return &blob{digest: d, loc: p}
}

func (archiveSource) readDocument(context.Context, *blob) error { return nil }

// peek finds nothing: every document of the archive is among the
// checker's blobs already.
func (archiveSource) peek(digest.Digest) []byte { return nil }

// archiveRead is the state of one pass over an archive.
type archiveRead struct {
	ar         *layout.ArchiveReader
	layoutFile topFile
	indexFile  topFile
	budget     int64 // bytes of documents that may still be kept
}

// verifyArchive reads the tar archive r once, in any member order, through
// layout.ArchiveReader: the rules for a hostile archive are the ones import
// applies, and each member it refuses is a finding. After a refusal the
// reader can go on from, reading goes on; after one it cannot (a corrupt or
// cut stream, a name changed by a PAX or GNU record, a sparse file), the
// rest of the stream is read unjudged and the layout read so far is
// checked. Blobs are hashed as they pass; only JSON documents are kept.
// Only an error reading r is returned.
func (c *checker) verifyArchive(ctx context.Context, r io.Reader, ref layout.Reference) error {
	c.src, c.archive = archiveSource{}, true
	in := countio.NewReader(r, countio.WithContext(ctx))
	a := &archiveRead{
		ar:         layout.NewArchiveReader(in),
		layoutFile: topFile{name: layout.LayoutFile, missing: true},
		indexFile:  topFile{name: layout.IndexFile, missing: true},
		budget:     maxArchiveDocuments,
	}
	c.progress.Start("verify", -1)
	defer c.progress.Finish()
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		m, err := a.ar.Next()
		if in.Err() != nil {
			return in.Err()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = c.archiveMember(ctx, a, m)
			if in.Err() != nil {
				return in.Err()
			}
			if cerr := context.Cause(ctx); cerr != nil {
				return cerr
			}
		}
		if err != nil {
			c.refused(a, m, err)
		}
		if a.ar.Broken() != nil {
			break
		}
	}
	// Read the stream to its end: after the tar's end only zero padding may
	// follow, and a reader that checks as it goes (the parts of a split
	// archive) gets to check everything.
	_, err := a.ar.Drain()
	if in.Err() != nil {
		return in.Err()
	}
	if err != nil {
		c.add(ArchiveCorrupt, Error, c.rep.Target, "", "%v", err)
	}
	if err := c.checkLayoutFile(a.layoutFile); err != nil {
		return err
	}
	if c.opts.Base != "" {
		// Every member is among c.blobs: what the archive leaves out is
		// looked up in the base, and hashed there below.
		c.src = &dirSource{root: c.opts.Base, c: c}
	}
	if err := c.checkGraph(ctx, a.indexFile, ref); err != nil {
		return err
	}
	if c.whole {
		c.reportUnreferenced()
	}
	if c.opts.Base != "" {
		if err := c.hashAll(ctx, c.opts.Base); err != nil {
			return err
		}
	}
	return c.checkSignatures(ctx, "")
}

// archiveMember takes in one member the reader accepted. An error is one of
// the reader's (the stream broke inside the member).
func (c *checker) archiveMember(ctx context.Context, a *archiveRead, m layout.ArchiveMember) error {
	switch m.Kind {
	case layout.MemberLayoutFile, layout.MemberIndex:
		t := &a.layoutFile
		if m.Kind == layout.MemberIndex {
			t = &a.indexFile
		}
		if !t.missing {
			return nil // a second copy: the reader checks it has the same bytes
		}
		data, err := layout.ReadCapped(a.ar, layout.MaxDocumentSize)
		if err != nil {
			return err
		}
		*t = topFile{name: m.Path, data: data}
	case layout.MemberBlob:
		return c.archiveBlob(ctx, a, m)
	case layout.MemberSkipped:
		switch {
		case m.Dir:
		case m.Skip == layout.SkipIngest:
			c.add(IngestLeftover, Info, m.Name, "", "a leftover temporary file of the layout the archive was made from")
		case m.Skip == layout.SkipAlgorithm || m.Skip == layout.SkipBlobName:
			// Not a blob the reader can check; verify says how bad that
			// is by its digest grammar, as for a layout directory.
			alg, encoded, _ := strings.Cut(strings.TrimPrefix(m.Path, layout.BlobsDir+"/"), "/")
			if encoded == "" {
				c.add(BadBlobName, Error, m.Name, "", "a regular file where only a directory belongs")
			} else {
				c.blobName(m.Name, alg, encoded)
			}
		default:
			c.add(StrayMember, Info, m.Name, "", "%s", m.Note)
		}
	}
	return nil
}

// archiveBlob hashes a blob member as it passes, keeping it when it may be
// a document. A second member of the same blob (the reader lets it pass:
// every copy is checked against the name) is hashed too, and reported if
// it is not the blob.
func (c *checker) archiveBlob(ctx context.Context, a *archiveRead, m layout.ArchiveMember) error {
	d := m.Digest
	if prev := c.blobs[d]; prev != nil {
		res, err := scan(ctx, a.ar, d.Algorithm(), captureNone, deepScan{}, c.progress)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.rep.Summary.Bytes += res.n
		c.mu.Unlock()
		if res.sum != d {
			c.add(DigestMismatch, Error, m.Name, "", "a second member of %s, with other bytes: digest mismatch (got %s)", prev.loc, res.sum)
		}
		return nil
	}
	b := &blob{digest: d, loc: m.Name, exists: true, regular: true, size: m.Size}
	c.blobs[d] = b
	keep := captureNone
	if m.Size <= layout.MaxDocumentSize {
		keep = captureJSON
		if !c.opts.Trust.IsZero() && m.Size <= maxArchiveSignatureBlob {
			keep = captureSmall // it may be a signature's blob
		}
		if m.Size > a.budget {
			keep, b.overBudget = captureNone, true
		}
	}
	res, err := scan(ctx, a.ar, d.Algorithm(), keep, c.deepScan(c.opts.Deep, m.Size), c.progress)
	if err != nil {
		return err // not read to its end: neither hashed nor kept
	}
	a.budget -= int64(len(res.data))
	c.record(b, res)
	return nil
}

// refused reports a member layout.ArchiveReader refused (or a stream it
// could not read), with the code of that kind of refusal, and notes what it
// means to the layout: a blob or document there that cannot be read.
func (c *checker) refused(a *archiveRead, m layout.ArchiveMember, err error) {
	loc := m.Name
	if loc == "" {
		loc = c.rep.Target
	}
	code := refusalCode(m, err)
	msg := err.Error()
	if me := (*layout.MemberError)(nil); errors.As(err, &me) {
		msg = me.Reason // the location names the member
	}
	if a.ar.Broken() != nil && code != ArchiveCorrupt {
		msg += " (reading stops here: the rest of the archive is not checked)"
	}
	c.add(code, Error, loc, "", "%s", msg)
	switch {
	case m.Kind == layout.MemberBlob && c.blobs[m.Digest] == nil:
		// There, but not a blob's content: references to it find it
		// unusable rather than missing.
		c.blobs[m.Digest] = &blob{digest: m.Digest, loc: m.Name, exists: true, size: m.Size}
	case m.Kind == layout.MemberLayoutFile && a.layoutFile.missing:
		a.layoutFile.refused = true
	case m.Kind == layout.MemberIndex && a.indexFile.missing:
		a.indexFile.refused = true
	}
}

// refusalCode maps an error of layout.ArchiveReader about member m to a
// finding code.
func refusalCode(m layout.ArchiveMember, err error) Code {
	isDoc := m.Kind == layout.MemberLayoutFile || m.Kind == layout.MemberIndex
	switch {
	case errors.Is(err, layout.ErrDuplicateMember):
		return DuplicateMember
	case errors.Is(err, layout.ErrBlobName):
		return BadBlobName
	case errors.Is(err, layout.ErrTooLarge) && isDoc:
		return TooLarge
	case errors.Is(err, layout.ErrMemberType):
		switch {
		case isDoc || m.Kind == layout.MemberBlob:
			return NotRegularFile
		case m.Kind == layout.MemberDir && m.Path == layout.BlobsDir:
			return BlobsNotDirectory
		case m.Kind == layout.MemberDir && m.Path != ".":
			return BadBlobName // blobs/<alg> that is not a directory
		}
		return UnsafeMember // a link, device… outside the layout: import refuses it
	case errors.Is(err, layout.ErrUnsafeArchive), errors.Is(err, layout.ErrTooLarge):
		return UnsafeMember
	}
	return ArchiveCorrupt
}
