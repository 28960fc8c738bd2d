package bundle

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/display"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
	"github.com/ocibundle/ocibundle/units"
)

// FilesOptions are the knobs of Files.
type FilesOptions struct {
	// Layers, when set, lists only these layers (by title or digest), as
	// ExtractOptions.Layers.
	Layers []string
	// SkipUnknown skips layers of kinds extract does not handle.
	SkipUnknown bool
	// AllowOutsideLinks lists symlinks that leave the tree, as extract
	// --allow-outside-links writes them, instead of refusing the bundle.
	AllowOutsideLinks bool
	// Platform chooses the image of an index (ParsePlatform).
	Platform string
	// MaxLayerSize caps the uncompressed tar of a layer without a size
	// annotation, as ExtractOptions.MaxLayerSize (0: layer.ContentLimit's
	// default).
	MaxLayerSize int64
	Progress     progress.Progress
	// Stdin is read when the reference is "-".
	Stdin io.Reader
}

// FilesResult is the file list of one bundle (docs/json.md).
type FilesResult struct {
	Reference string           `json:"reference"`
	Digest    digest.Digest    `json:"digest"`
	Layers    []ExtractedLayer `json:"layers"`
	Files     []FileEntry      `json:"files"`
}

// FileEntry is one name of a bundle's tree.
type FileEntry struct {
	Path string `json:"path"`
	Type string `json:"type"` // file, dir or symlink
	// Mode is the permission bits (with setuid, setgid, sticky) as stored,
	// four octal digits.
	Mode  string `json:"mode"`
	Size  int64  `json:"size"`
	Mtime string `json:"mtime,omitempty"` // RFC 3339, UTC
	Link  string `json:"link,omitempty"`  // a symlink's target
	// HardLink is the path a hard link shares its bytes with.
	HardLink string `json:"hardLink,omitempty"`
	SHA256   string `json:"sha256,omitempty"` // of a file's bytes, hex
}

// Files lists the files of the bundle ref names (a layout or an archive,
// Open) without writing anything: the tree extract would write, each
// regular file with its sha256. An image's layers are merged (whiteouts,
// opaque directories and replacements applied); an artifact's side by side.
// Every layer read is verified as extract verifies it (blob digest and
// size, uncompressed digest and size), and judged by the same rules
// (layer.Tree), with the same errors. Only the layers listed are read.
func Files(ctx context.Context, ref string, opts FilesOptions) (FilesResult, error) {
	src, err := Open(ctx, ref, opts.Stdin)
	if err != nil {
		return FilesResult{}, err
	}
	defer src.Close()
	return FilesFrom(ctx, src, opts)
}

// FilesFrom is Files of an open source (Open, OpenStream); a stream is
// judged to its end (Source.Finish) before it returns. A delta archive
// whose left-out blobs are needed fails with ErrDeltaBase naming its base.
func FilesFrom(ctx context.Context, src *Source, opts FilesOptions) (FilesResult, error) {
	res, err := filesFrom(ctx, src, opts)
	return res, src.explainDelta(ctx, err)
}

func filesFrom(ctx context.Context, src *Source, opts FilesOptions) (FilesResult, error) {
	platform, err := ParsePlatform(opts.Platform)
	if err != nil {
		return FilesResult{}, fmt.Errorf("--platform %w", err)
	}
	store, desc, m, err := resolveManifest(ctx, src, platform)
	if err != nil {
		return FilesResult{}, err
	}
	res, err := filesOf(ctx, store, src.Name, desc, m, opts)
	if err == nil {
		err = src.Finish(ctx)
	}
	return res, err
}

// filesOf is FilesFrom of the manifest m (desc) of src, resolved: diff
// resolves both sides before it reads a layer.
func filesOf(ctx context.Context, store *layout.Store, name string, desc ocispec.Descriptor, m ocispec.Manifest, opts FilesOptions) (FilesResult, error) {
	plans, err := planLayers(ctx, store, m, ExtractOptions{Layers: opts.Layers, SkipUnknown: opts.SkipUnknown, MaxLayerSize: opts.MaxLayerSize})
	if err != nil {
		return FilesResult{}, err
	}
	tree := layer.NewTree(profile.IsImage(m.Config.MediaType, m.ArtifactType), opts.AllowOutsideLinks)
	res := FilesResult{Reference: name, Digest: desc.Digest, Files: []FileEntry{}}
	if res.Layers, err = applyLayers(ctx, tree, store, plans, nil, progress.Or(opts.Progress)); err != nil {
		return FilesResult{}, err
	}
	for _, n := range tree.Nodes() {
		e := FileEntry{Path: n.Name, Type: n.Type, Mode: fmt.Sprintf("%04o", n.Mode), Size: n.Size,
			Link: n.Link, HardLink: n.HardLink, SHA256: n.SHA256}
		if !n.ModTime.IsZero() {
			e.Mtime = n.ModTime.UTC().Format(time.RFC3339)
		}
		res.Files = append(res.Files, e)
	}
	return res, nil
}

// WriteFilesText writes res as a table, one name a line, as `ls -l` and
// sha256sum would show it: mode, size, mtime, sha256 (files) and path
// (with "-> target" for a symlink, "=> path" for a hard link).
func WriteFilesText(w io.Writer, res FilesResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODE\tSIZE\tMTIME\tSHA256\tPATH")
	for _, f := range res.Files {
		name := display.String(f.Path)
		switch {
		case f.Type == "dir":
			name += "/"
		case f.Link != "":
			name += " -> " + display.String(f.Link)
		case f.HardLink != "":
			name += " => " + display.String(f.HardLink)
		}
		size := "-"
		if f.Type == "file" {
			size = units.FormatBytes(f.Size)
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\n", typeLetter(f.Type), f.Mode, size, orDash(f.Mtime), orDash(f.SHA256), name)
	}
	return tw.Flush()
}

func typeLetter(t string) string {
	switch t {
	case "dir":
		return "d"
	case "symlink":
		return "l"
	}
	return "-"
}

// WriteSHA256Sums writes one line per regular file, "HEX  PATH", the
// format `sha256sum -c` checks, run in the directory extract wrote. A path
// with a newline or backslash is written escaped as GNU sha256sum does
// (a leading "\" and "\n", "\\").
func WriteSHA256Sums(w io.Writer, res FilesResult) error {
	for _, f := range res.Files {
		if f.Type != "file" {
			continue
		}
		line := f.SHA256 + "  " + f.Path + "\n"
		if esc, escaped := display.ChecksumName(f.Path); escaped {
			line = "\\" + f.SHA256 + "  " + esc + "\n"
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return nil
}
