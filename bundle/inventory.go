package bundle

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocibundle/ocibundle/atomicfile"
	"github.com/ocibundle/ocibundle/inventory"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/progress"
	"github.com/ocibundle/ocibundle/verify"
)

// InventoryResult is what Inventory found, and, once written, where.
type InventoryResult struct {
	Inventory inventory.Inventory `json:"-"`
	// File is the inventory file written (WriteInventory), with its digest
	// and size in bytes.
	File  Archive `json:"inventory"`
	Blobs int     `json:"blobs"` // blobs listed
	Tags  int     `json:"tags"`
	// Unlisted are verify's error findings about blobs: a blob named there
	// failed verification and is not listed.
	Unlisted []string `json:"unlisted"`
}

// Inventory verifies target (verify.Verify's targets: a layout directory,
// an archive file; or, when r is not nil, the archive read from r, named
// target) and returns what it holds: every blob its graph references that
// verified (present, its size, re-hashed in parallel to its digest) and
// every tag of its index.json. A blob that fails is left out and its
// finding is in Unlisted. A blob nothing references is not listed: gc
// removes it, so a delta must not count on it. An error finding about the
// layout itself (oci-layout, index.json: not a layout to take stock of)
// fails with verify.ErrFailed naming each; other errors are verify's
// (operational, or a malformed target). It only reads.
func Inventory(ctx context.Context, target string, r io.Reader, p progress.Progress) (InventoryResult, error) {
	opts := verify.Options{Inventory: true, Progress: p}
	var rep *verify.Report
	var err error
	if r != nil {
		rep, err = verify.VerifyArchive(ctx, r, target, opts)
	} else {
		rep, err = verify.Verify(ctx, target, opts)
	}
	if err != nil {
		return InventoryResult{}, err
	}
	res := InventoryResult{
		Inventory: inventory.Inventory{Blobs: rep.Held, Tags: rep.Tags},
		Blobs:     len(rep.Held),
		Tags:      len(rep.Tags),
		Unlisted:  []string{},
	}
	var layoutErrs []string
	for _, f := range rep.Findings {
		if f.Severity != verify.Error {
			continue
		}
		msg := fmt.Sprintf("%s: %s (%s)", findingWhere(f), f.Message, f.Code)
		if strings.HasPrefix(f.Location, layout.BlobsDir+"/") {
			res.Unlisted = append(res.Unlisted, msg)
		} else {
			layoutErrs = append(layoutErrs, msg)
		}
	}
	if len(layoutErrs) > 0 {
		return InventoryResult{}, fmt.Errorf("%s: %w: %s", target, verify.ErrFailed, strings.Join(layoutErrs, "; "))
	}
	data := res.Inventory.Marshal()
	res.File = Archive{Digest: digest.SHA256.FromBytes(data), Size: int64(len(data))}
	return res, nil
}

// WriteInventory writes res's inventory to file, mode 0644, atomically
// (atomicfile: a failure leaves no new file and an earlier one untouched),
// and sets res.File.Path.
func WriteInventory(ctx context.Context, file string, res *InventoryResult) error {
	if err := atomicfile.WriteFile(ctx, filepath.Dir(file), file, res.Inventory.Marshal(), 0o644); err != nil {
		return layout.PathErr(file, err)
	}
	res.File.Path = file
	return nil
}

// Base is what a delta leaves out: the inventory of what the site holds,
// and that inventory's digest, which the delta names.
type Base struct {
	Inventory inventory.Inventory
	Digest    digest.Digest
}

// OpenBase reads the base name names for export --since: an inventory file
// (a file whose first byte is '{': inventory.Read, its digest that of the
// file's bytes), an archive file or a layout reference (inventoried as
// Inventory does, its digest that of the inventory computed), or, when r
// is not nil, the archive read from r (a split archive's parts). Errors
// wrap inventory.ErrBadInventory (naming the file), or are Inventory's.
func OpenBase(ctx context.Context, name string, r io.Reader, p progress.Progress) (Base, error) {
	if r == nil && isInventoryFile(name) {
		inv, d, err := inventory.Read(name)
		return Base{Inventory: inv, Digest: d}, err
	}
	res, err := Inventory(ctx, name, r, p)
	if err != nil {
		return Base{}, err
	}
	return Base{Inventory: res.Inventory, Digest: res.File.Digest}, nil
}

// isInventoryFile reports whether name is a regular file that starts as
// an inventory (inventory.Sniff), not as a tar archive.
func isInventoryFile(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	head, _ := bufio.NewReader(f).Peek(64)
	return inventory.Sniff(head)
}
