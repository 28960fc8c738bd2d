package verify

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"

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

// verifyArchive reads the tar archive r once, in any member order, then
// checks the layout it holds. Only an error reading r is returned.
func (c *checker) verifyArchive(ctx context.Context, r io.Reader, ref layout.Reference) error {
	c.src = archiveSource{}
	in := &errReader{ctx: ctx, r: r, p: noProgress{}}
	br := bufio.NewReaderSize(in, 1<<20)
	tr := tar.NewReader(br)
	corrupt := false
	layoutFile := topFile{name: layout.LayoutFile, missing: true}
	indexFile := topFile{name: layout.IndexFile, missing: true}
	seen := map[string]bool{}
	budget := maxArchiveDocuments
	c.progress.Start("verify", -1)
	defer c.progress.Finish()
members:
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if in.err != nil {
			return in.err
		}
		if err != nil {
			c.add(ArchiveCorrupt, Error, c.rep.Target, "", "the archive does not read to its end: %v", err)
			corrupt = true
			break
		}
		name := hdr.Name
		if unsafeName(name) {
			c.add(UnsafeMember, Error, name, "", "an absolute member name or one with \"..\"")
			continue
		}
		clean := path.Clean(strings.TrimPrefix(name, "./"))
		isDir := hdr.Typeflag == tar.TypeDir
		if seen[clean] && !isDir {
			c.add(DuplicateMember, Error, name, "", "a second member with this name: readers disagree on which one counts")
			continue
		}
		seen[clean] = true
		parts := strings.Split(clean, "/")
		switch {
		case clean == layout.LayoutFile || clean == layout.IndexFile:
			t := topFile{name: clean}
			if hdr.Typeflag != tar.TypeReg {
				t.problem = fmt.Errorf("%w: a %s", layout.ErrNotRegular, memberKind(hdr))
			} else {
				t.data, t.problem = layout.ReadDocument(tr, layout.MaxDocumentSize)
				if in.err != nil {
					return in.err
				}
			}
			if clean == layout.LayoutFile {
				layoutFile = t
			} else {
				indexFile = t
			}
		case parts[0] == layout.BlobsDir && len(parts) <= 2:
			if !isDir {
				code := BadBlobName
				if len(parts) == 1 {
					code = BlobsNotDirectory
				}
				c.add(code, Error, name, "", "a %s where only a directory belongs", memberKind(hdr))
			}
		case parts[0] == layout.BlobsDir:
			if len(parts) != 3 {
				c.add(BadBlobName, Error, name, "", "not blobs/<alg>/<encoded digest>")
				continue
			}
			d, ok := c.blobName(name, parts[1], parts[2])
			if !ok {
				continue
			}
			// A sparse member would read as zeros up to any size it claims.
			regular := hdr.Typeflag == tar.TypeReg && !isSparse(hdr)
			b := &blob{digest: d, loc: name, exists: true, regular: regular, size: hdr.Size}
			c.blobs[d] = b
			if !b.regular {
				c.add(NotRegularFile, Error, name, "", "a blob must be a regular file, not a %s", memberKind(hdr))
				continue
			}
			keep := captureNone
			if hdr.Size <= layout.MaxDocumentSize {
				keep = captureJSON
				if hdr.Size > budget {
					keep, b.overBudget = captureNone, true
				}
			}
			res, err := scan(ctx, tr, d.Algorithm(), keep, c.opts.Deep, c.progress)
			if in.err != nil {
				return in.err
			}
			if err != nil {
				c.add(ArchiveCorrupt, Error, name, "", "the member does not read to its end: %v", err)
				corrupt = true
				break members
			}
			budget -= int64(len(res.data))
			c.record(b, res)
		case parts[0] == layout.IngestDir:
			if !isDir {
				c.add(IngestLeftover, Info, name, "", "a leftover temporary file of the layout the archive was made from")
			}
		case !isDir:
			c.add(StrayMember, Info, name, "", "not part of an OCI layout: ignored")
		}
	}
	// Read the stream to its end: after the tar's end only zero padding may
	// follow, and a reader that checks as it goes (the parts of a split
	// archive) gets to check everything.
	nonzero, err := drainZeros(br)
	if in.err != nil {
		return in.err
	}
	if err == nil && nonzero > 0 && !corrupt {
		c.add(ArchiveCorrupt, Error, c.rep.Target, "", "%d bytes of data after the end of the tar", nonzero)
	}
	if err := c.checkLayoutFile(layoutFile); err != nil {
		return err
	}
	if err := c.checkGraph(ctx, indexFile, ref); err != nil {
		return err
	}
	if c.whole {
		c.reportUnreferenced()
	}
	return nil
}

func memberKind(hdr *tar.Header) string {
	switch hdr.Typeflag {
	case tar.TypeReg:
		return "regular file"
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeFifo:
		return "FIFO"
	}
	if isSparse(hdr) {
		return "sparse file"
	}
	return fmt.Sprintf("member of type %q", hdr.Typeflag)
}
