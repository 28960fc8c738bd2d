package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"syscall"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
)

// dirSource reads blobs from a layout directory.
type dirSource struct {
	root string
	c    *checker
}

func (s *dirSource) stat(d digest.Digest) *blob {
	p, _ := layout.BlobPath(d) // d is validated
	b := &blob{digest: d, loc: p}
	fi, err := os.Lstat(filepath.Join(s.root, filepath.FromSlash(p)))
	if err != nil {
		return b // missing (or unreadable: hashing it reports why)
	}
	b.exists, b.regular, b.size = true, fi.Mode().IsRegular(), fi.Size()
	return b
}

func (s *dirSource) readDocument(ctx context.Context, b *blob) error {
	if b.data != nil || b.hashed {
		return nil
	}
	return s.c.hashFile(ctx, s.root, b, captureAll)
}

func (s *dirSource) peek(d digest.Digest) []byte {
	p, _ := layout.BlobPath(d) // d is validated
	f, err := openRegular(filepath.Join(s.root, filepath.FromSlash(p)))
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := layout.ReadCapped(f, layout.MaxDocumentSize)
	if err != nil {
		return nil
	}
	return data
}

// openRegular opens a file refusing symlinks and anything not regular
// (O_NOFOLLOW, then fstat: no race with a swap).
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, layout.ReadNoFollow, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%w: symlink", layout.ErrNotRegular)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%w: %s", layout.ErrNotRegular, fi.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// hashFile scans the blob file of b once and records the result in b.
// An error is operational (the file cannot be read).
func (c *checker) hashFile(ctx context.Context, root string, b *blob, keep capture) error {
	f, err := openRegular(filepath.Join(root, filepath.FromSlash(b.loc)))
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := scan(ctx, f, b.digest.Algorithm(), keep, c.deepScanOf(b), c.progress)
	if err != nil {
		return fmt.Errorf("%s: %w", b.loc, err)
	}
	c.record(b, res)
	return nil
}

// record stores a scan result in b and counts it.
func (c *checker) record(b *blob, res scanResult) {
	b.hashed, b.sum, b.data, b.deep = true, res.sum, res.data, res.deep
	c.mu.Lock()
	c.rep.Summary.Blobs++
	c.rep.Summary.Bytes += res.n
	c.mu.Unlock()
}

// verifyDir verifies the layout directory root.
func (c *checker) verifyDir(ctx context.Context, ref layout.Reference) error {
	root := ref.Path
	c.src = &dirSource{root: root, c: c}
	if err := c.checkLayoutFile(readTopFile(root, layout.LayoutFile)); err != nil {
		return err
	}
	if fi, err := os.Lstat(filepath.Join(root, layout.BlobsDir)); err != nil {
		c.add(BlobsNotDirectory, Error, layout.BlobsDir, "", "blobs/ is missing")
	} else if !fi.IsDir() {
		c.add(BlobsNotDirectory, Error, layout.BlobsDir, "", "blobs/ is a %s, not a directory", layer.KindOf(fi.Mode()))
	}
	if err := c.checkGraph(ctx, readTopFile(root, layout.IndexFile), ref); err != nil {
		return err
	}
	if err := c.listBlobs(root, c.whole); err != nil {
		return err
	}
	if c.whole {
		c.reportUnreferenced()
		c.listIngest(root)
	}
	if c.fatal != nil {
		return c.fatal
	}
	if err := c.hashAll(ctx, root); err != nil {
		return err
	}
	return c.checkSignatures(ctx, root)
}

// topFile is oci-layout or index.json as read from the target.
type topFile struct {
	name    string
	data    []byte
	missing bool
	problem error // not regular, too large, unreadable
	// refused: missing, but an archive member by this name was refused
	// (and reported): it is not missing as well.
	refused bool
}

// readTopFile reads a file at the layout's root: regular, at most
// MaxDocumentSize bytes.
func readTopFile(root, name string) topFile {
	t := topFile{name: name}
	f, err := openRegular(filepath.Join(root, name))
	if errors.Is(err, fs.ErrNotExist) {
		t.missing = true
		return t
	}
	if err != nil {
		t.problem = err
		return t
	}
	defer f.Close()
	t.data, t.problem = layout.ReadCapped(f, layout.MaxDocumentSize)
	return t
}

// listBlobs checks that every entry of blobs/ is a real directory (blobs
// are read through them, so a symlink would lead outside the layout) and,
// for a whole layout, lists the blobs in them: names that are not blobs, and
// blobs nothing referenced, which are hashed too (every blob must match its
// name).
func (c *checker) listBlobs(root string, whole bool) error {
	dir := filepath.Join(root, layout.BlobsDir)
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return nil // reported already
	}
	algs, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, a := range algs {
		loc := layout.BlobsDir + "/" + a.Name()
		if !a.IsDir() {
			c.add(BadBlobName, Error, loc, "", "a %s directly in blobs/, where only algorithm directories belong", layer.KindOf(a.Type()))
			continue
		}
		if !whole {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(dir, a.Name()))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if d, ok := c.blobName(loc+"/"+e.Name(), a.Name(), e.Name()); ok {
				c.blob(d) // stat it: reported if not regular, hashed later
			}
		}
	}
	return nil
}

// blobName judges one name under blobs/<alg>/ (of a directory or an
// archive) and returns the digest it encodes. A name that is not a digest
// (a crashed writer's .tmp-123) is a stray file that readers ignore
// (image-layout.md): a warning, as a file of an unknown algorithm is.
func (c *checker) blobName(loc, alg, name string) (digest.Digest, bool) {
	d := digest.Digest(alg + ":" + name)
	code, msg := digestProblem(string(d))
	switch code {
	case "":
		return d, true
	case UnknownAlgorithm:
		c.add(code, c.strictly(), loc, "", "cannot check this blob: %s", msg)
	default:
		c.add(BadBlobName, c.strictly(), loc, "", "a stray file, not a blob: %s", msg)
	}
	return "", false
}

// reportUnreferenced reports the blobs present that nothing references.
func (c *checker) reportUnreferenced() {
	sev := Info
	if c.opts.Strict {
		sev = Warning
	}
	msg := "nothing in the layout references this blob"
	if c.incomplete {
		msg = "no document that could be read references this blob"
	}
	for _, b := range c.blobs {
		if b.exists && !b.referenced {
			c.add(UnreferencedBlob, sev, b.loc, "", "%s", msg)
		}
	}
}

// listIngest reports temporary files left under ingest/.
func (c *checker) listIngest(root string) {
	entries, err := os.ReadDir(filepath.Join(root, layout.IngestDir))
	if err != nil {
		return
	}
	for _, e := range entries {
		c.add(IngestLeftover, Info, layout.IngestDir+"/"+e.Name(), "", "a leftover temporary file (an interrupted write; gc removes it)")
	}
}

// hashAll hashes every known blob that is present and not hashed yet, in
// parallel, biggest first. Deep scans take a slot of a smaller pool, because
// each may hold a zstd window of up to compress.MaxWindow.
func (c *checker) hashAll(ctx context.Context, root string) error {
	var todo []*blob
	var total int64
	for _, b := range c.blobs {
		if b.exists && b.regular && !b.hashed && c.opts.Hashed[b.digest] {
			c.record(b, scanResult{sum: b.digest, n: b.size})
			continue
		}
		if b.exists && b.regular && !b.hashed {
			todo = append(todo, b)
			total += b.size
		}
	}
	sort.Slice(todo, func(i, j int) bool {
		if todo[i].size != todo[j].size {
			return todo[i].size > todo[j].size
		}
		return todo[i].loc < todo[j].loc
	})
	c.progress.Start("verify", total)
	defer c.progress.Finish()
	workers := runtime.GOMAXPROCS(0)
	deepSlots := make(chan struct{}, min(workers, maxDeepScans))
	jobs := make(chan *blob)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				if b.wantDeep {
					deepSlots <- struct{}{}
				}
				err := c.hashFile(ctx, root, b, captureNone)
				if b.wantDeep {
					<-deepSlots
				}
				if errors.Is(err, layout.ErrNotRegular) {
					c.add(NotRegularFile, Error, b.loc, "", "a blob must be a regular file: %v", err)
				} else if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for _, b := range todo {
		select {
		case jobs <- b:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = context.Cause(ctx)
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// maxDeepScans bounds the layers decompressed at once.
const maxDeepScans = 4
