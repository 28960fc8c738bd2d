package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/atomicfile"
)

// Garbage collection and the blob lock.
//
// A workflow that adds content (pack, import) commits its blobs first and
// names them in index.json last. Between the two, its blobs are unreferenced,
// and a Writer.Commit or Put that finds a blob already present does not write
// it again, so even an old unreferenced blob may be about to be named. A
// collector that judged blobs by index.json alone, or by age, could delete
// them in that window and leave index.json naming a missing blob.
//
// So the layout has a second lock beside the index lock: the blob lock, an
// advisory flock on the oci-layout file (which every layout has, so no lock
// file is left behind). Writers hold it shared, from before their first blob
// until after their index.json update (HoldBlobs); any number of them run at
// once. The collector holds it exclusive (Collect): it waits for the writers
// in flight to finish and keeps new ones waiting while it runs. Under it,
// index.json says everything that is in use, and every file in ingest/ is
// left over from a writer that died. Lock order: blob lock, then index lock.
//
// The lock binds only processes that take it: another tool writing into the
// same layout while gc runs (oras, skopeo) is not protected.

// HoldBlobs takes the blob lock shared and returns the function that releases
// it. A workflow that commits blobs and then names them in index.json must
// hold it across both, so that a concurrent gc cannot delete its blobs in
// between. It blocks while a gc runs.
func (s *Store) HoldBlobs(ctx context.Context) (release func(), err error) {
	return s.flock(ctx, LayoutFile, lockShared)
}

// Collector is the exclusive view of a layout that Collect hands to its
// function: no other ocibundle process adds blobs or changes index.json
// while it is in use. It is valid only during that call.
type Collector struct {
	s *Store
}

// Collect runs fn with the blob lock and the index lock both held exclusive
// (waiting for writers that hold the blob lock to finish), so that what fn
// reads from index.json and blobs/ stays true until it returns.
func (s *Store) Collect(ctx context.Context, fn func(*Collector) error) error {
	releaseBlobs, err := s.flock(ctx, LayoutFile, lockExclusive)
	if err != nil {
		return err
	}
	defer releaseBlobs()
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := checkContext(ctx); err != nil {
		return err
	}
	return fn(&Collector{s: s})
}

// Store returns the layout being collected; its read methods (ReadIndex,
// Fetch, …) may be used inside Collect. UpdateIndex and Create must not be:
// they take the index lock, which Collect already holds.
func (c *Collector) Store() *Store { return c.s }

// File is a file found in blobs/ or ingest/.
type File struct {
	// Path is slash-separated and relative to the layout root.
	Path string `json:"path"`
	// Digest is set for blobs, empty for ingest files.
	Digest  digest.Digest `json:"digest,omitempty"`
	Size    int64         `json:"size"`
	ModTime time.Time     `json:"-"`
}

// Blobs lists the blobs in blobs/, sorted by path: regular files and
// symlinks named blobs/<alg>/<encoded> with a valid digest of an allowed
// algorithm. Anything else in blobs/ (stray names, directories) is not a
// blob and is not listed: gc leaves what it does not understand to verify.
func (c *Collector) Blobs(ctx context.Context) ([]File, error) {
	var out []File
	for _, alg := range Algorithms {
		dir := filepath.Join(c.s.root, BlobsDir, alg.String())
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if err := checkContext(ctx); err != nil {
				return nil, err
			}
			d := digest.NewDigestFromEncoded(alg, e.Name())
			if ValidateDigest(d) != nil || e.IsDir() {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 {
				continue
			}
			p, _ := BlobPath(d)
			out = append(out, File{Path: p, Digest: d, Size: fi.Size(), ModTime: fi.ModTime()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Ingest lists the entries directly in ingest/, sorted by path, except
// the index lock file of Windows (see indexLockFile). Under the blob lock
// none of them belongs to a live ocibundle writer.
func (c *Collector) Ingest(ctx context.Context) ([]File, error) {
	entries, err := os.ReadDir(filepath.Join(c.s.root, IngestDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range entries {
		if err := checkContext(ctx); err != nil {
			return nil, err
		}
		if e.Name() == indexLockFile {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		size := fi.Size()
		if fi.IsDir() {
			size = 0
		}
		out = append(out, File{Path: IngestDir + "/" + e.Name(), Size: size, ModTime: fi.ModTime()})
	}
	return out, nil
}

// Remove deletes a file that Blobs or Ingest listed (an ingest entry that is
// a directory, with its content; a symlink itself, never its target), then
// syncs the directory that held it. A file already gone is not an error.
// Any other path is refused with ErrBadReference.
func (c *Collector) Remove(f File) error {
	var dir string
	switch {
	case f.Digest != "":
		p, err := BlobPath(f.Digest)
		if err != nil {
			return err
		}
		if p != f.Path {
			return fmt.Errorf("%s: %w: not the path of %s", f.Path, ErrBadReference, f.Digest)
		}
		dir = filepath.Join(c.s.root, BlobsDir, f.Digest.Algorithm().String())
	default:
		name, ok := strings.CutPrefix(f.Path, IngestDir+"/")
		if !ok || name == "" || !filepath.IsLocal(name) || filepath.Base(name) != name {
			return fmt.Errorf("%s: %w: not an ingest entry", f.Path, ErrBadReference)
		}
		dir = filepath.Join(c.s.root, IngestDir)
	}
	p := filepath.Join(c.s.root, filepath.FromSlash(f.Path))
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("remove %s: %w", f.Path, err)
	}
	return atomicfile.SyncDir(dir)
}
