package bundle

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/display"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/progress"
)

// DiffOptions are the knobs of Diff.
type DiffOptions struct {
	// Platform chooses the image of an index, on both sides (ParsePlatform).
	Platform string
	// SkipUnknown and AllowOutsideLinks are FilesOptions'.
	SkipUnknown, AllowOutsideLinks bool
	// Mtime also compares the files' modification times.
	Mtime    bool
	Progress progress.Progress
}

// DiffResult is what differs between two bundles (docs/json.md). Every
// list is sorted and never null; Equal is true when all are empty.
type DiffResult struct {
	Equal       bool               `json:"equal"`
	From        DiffSide           `json:"from"`
	To          DiffSide           `json:"to"`
	Manifest    []FieldChange      `json:"manifest"`
	Annotations []AnnotationChange `json:"annotations"`
	Layers      []LayerChange      `json:"layers"`
	Files       []FileChange       `json:"files"`
}

// DiffSide names one bundle compared.
type DiffSide struct {
	Reference string        `json:"reference"`
	Digest    digest.Digest `json:"digest"`
}

// FieldChange is a manifest field that differs: artifactType, or config
// (its digest: an image's configuration).
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// AnnotationChange is a manifest annotation added (no From), removed (no
// To) or changed.
type AnnotationChange struct {
	Key  string  `json:"key"`
	From *string `json:"from,omitempty"`
	To   *string `json:"to,omitempty"`
}

// LayerChange is a layer added, removed or changed (its digest, media type
// or annotations). An artifact's layers are matched by title, an image's
// by position (Index, from 0, in the bundle that has it).
type LayerChange struct {
	Change string              `json:"change"` // added, removed or changed
	Index  int                 `json:"index"`
	Title  string              `json:"title,omitempty"`
	From   *ocispec.Descriptor `json:"from,omitempty"`
	To     *ocispec.Descriptor `json:"to,omitempty"`
}

// FileChange is a name of the tree added, removed or changed. What lists
// what changed: type, content (size or sha256), mode, link (a symlink's
// target), hardLink, mtime (DiffOptions.Mtime).
type FileChange struct {
	Path   string     `json:"path"`
	Change string     `json:"change"` // added, removed or changed
	What   []string   `json:"what,omitempty"`
	From   *FileEntry `json:"from,omitempty"`
	To     *FileEntry `json:"to,omitempty"`
}

// Diff compares the bundles from and to name: their manifests' artifact
// type, config and annotations, their layers, and the trees extract would
// write (Files: the same verification and layer rules, nothing written).
// Bundles with the same manifest digest are equal without a layer being
// read, and an artifact's layer that is the same blob under the same title
// on both sides is not read (it holds the same files; so it is not checked
// either). Both sides are judged to their end (Source.Finish). Errors are
// those of Files, for either side; a difference is not an error (Equal is
// false).
func Diff(ctx context.Context, from, to *Source, opts DiffOptions) (DiffResult, error) {
	res, err := diff(ctx, from, to, opts)
	if err == nil {
		err = from.Finish(ctx)
	}
	if err == nil {
		err = to.Finish(ctx)
	}
	if err != nil {
		return DiffResult{}, err
	}
	return res, nil
}

func diff(ctx context.Context, from, to *Source, opts DiffOptions) (DiffResult, error) {
	platform, err := ParsePlatform(opts.Platform)
	if err != nil {
		return DiffResult{}, fmt.Errorf("--platform %w", err)
	}
	res := DiffResult{Manifest: []FieldChange{}, Annotations: []AnnotationChange{}, Layers: []LayerChange{}, Files: []FileChange{}}
	storeA, descA, a, err := resolveManifest(ctx, from, platform)
	if err != nil {
		return DiffResult{}, err
	}
	storeB, descB, b, err := resolveManifest(ctx, to, platform)
	if err != nil {
		return DiffResult{}, err
	}
	res.From = DiffSide{Reference: from.Name, Digest: descA.Digest}
	res.To = DiffSide{Reference: to.Name, Digest: descB.Digest}
	if res.From.Digest == res.To.Digest {
		res.Equal = true
		return res, nil
	}
	res.Manifest = diffManifest(a, b)
	res.Annotations = diffAnnotations(a.Annotations, b.Annotations)
	res.Layers = diffLayers(a, b)
	// An artifact's layer with the same title and blob on both sides
	// holds the same files: neither side reads it.
	readA, readB := layersToRead(a, b)
	var files [2][]FileEntry
	for i, side := range []struct {
		src   *Source
		store *layout.Store
		desc  ocispec.Descriptor
		m     ocispec.Manifest
		read  []string
	}{{from, storeA, descA, a, readA}, {to, storeB, descB, b, readB}} {
		if side.read != nil && len(side.read) == 0 {
			continue // every layer is on the other side too
		}
		fr, err := filesOf(ctx, side.store, side.src.Name, side.desc, side.m, FilesOptions{Layers: side.read,
			SkipUnknown: opts.SkipUnknown, AllowOutsideLinks: opts.AllowOutsideLinks, Progress: opts.Progress})
		if err != nil {
			return DiffResult{}, err
		}
		files[i] = fr.Files
	}
	res.Files = diffFiles(files[0], files[1], opts.Mtime)
	res.Equal = len(res.Manifest)+len(res.Annotations)+len(res.Layers)+len(res.Files) == 0
	return res, nil
}

func diffManifest(a, b ocispec.Manifest) []FieldChange {
	out := []FieldChange{}
	if a.ArtifactType != b.ArtifactType {
		out = append(out, FieldChange{"artifactType", a.ArtifactType, b.ArtifactType})
	}
	if a.Config.Digest != b.Config.Digest {
		out = append(out, FieldChange{"config", string(a.Config.Digest), string(b.Config.Digest)})
	}
	return out
}

func diffAnnotations(a, b map[string]string) []AnnotationChange {
	out := []AnnotationChange{}
	for _, k := range unionKeys(a, b) {
		va, inA := a[k]
		vb, inB := b[k]
		switch {
		case !inA:
			out = append(out, AnnotationChange{Key: k, To: &vb})
		case !inB:
			out = append(out, AnnotationChange{Key: k, From: &va})
		case va != vb:
			out = append(out, AnnotationChange{Key: k, From: &va, To: &vb})
		}
	}
	return out
}

// diffLayers matches the layers of two artifacts by title when every layer
// of both has a distinct one, else (images) by position.
func diffLayers(a, b ocispec.Manifest) []LayerChange {
	ka, kb := layerKeys(a), layerKeys(b)
	if ka == nil || kb == nil {
		ka, kb = positions(len(a.Layers)), positions(len(b.Layers))
	}
	title := func(d *ocispec.Descriptor) string { return d.Annotations[profile.AnnotationTitle] }
	out := []LayerChange{}
	for i, k := range ka {
		la := &a.Layers[i]
		j := slices.Index(kb, k)
		if j < 0 {
			out = append(out, LayerChange{Change: "removed", Index: i, Title: title(la), From: la})
			continue
		}
		lb := &b.Layers[j]
		if la.Digest != lb.Digest || la.MediaType != lb.MediaType || !maps.Equal(la.Annotations, lb.Annotations) {
			out = append(out, LayerChange{Change: "changed", Index: j, Title: title(lb), From: la, To: lb})
		}
	}
	for j, k := range kb {
		if !slices.Contains(ka, k) {
			out = append(out, LayerChange{Change: "added", Index: j, Title: title(&b.Layers[j]), To: &b.Layers[j]})
		}
	}
	return out
}

// layersToRead returns the digests of the layers of a and of b that
// differ from the other side's, when both are artifacts whose layers are
// matched by title (layerKeys); nil, nil (read every layer) otherwise.
func layersToRead(a, b ocispec.Manifest) (readA, readB []string) {
	ka, kb := layerKeys(a), layerKeys(b)
	if ka == nil || kb == nil {
		return nil, nil
	}
	same := func(x, y *ocispec.Descriptor) bool { return x.Digest == y.Digest && x.MediaType == y.MediaType }
	pick := func(m ocispec.Manifest, keys []string, other ocispec.Manifest, otherKeys []string) []string {
		read := []string{}
		for i, k := range keys {
			if j := slices.Index(otherKeys, k); j < 0 || !same(&m.Layers[i], &other.Layers[j]) {
				read = append(read, m.Layers[i].Digest.String())
			}
		}
		return read
	}
	return pick(a, ka, b, kb), pick(b, kb, a, ka)
}

// layerKeys returns the titles of an artifact's layers, or nil for an
// image or when a layer has no title or shares one.
func layerKeys(m ocispec.Manifest) []string {
	if profile.IsImage(m.Config.MediaType, m.ArtifactType) {
		return nil
	}
	keys := make([]string, len(m.Layers))
	for i, l := range m.Layers {
		t := l.Annotations[profile.AnnotationTitle]
		if t == "" || slices.Contains(keys[:i], t) {
			return nil
		}
		keys[i] = t
	}
	return keys
}

// positions returns "0" … "n-1": layers matched by position.
func positions(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(i)
	}
	return keys
}

// diffFiles compares two trees (Files' lists) name by name.
func diffFiles(a, b []FileEntry, mtime bool) []FileChange {
	byPath := func(fs []FileEntry) map[string]*FileEntry {
		m := make(map[string]*FileEntry, len(fs))
		for i := range fs {
			m[fs[i].Path] = &fs[i]
		}
		return m
	}
	ma, mb := byPath(a), byPath(b)
	out := []FileChange{}
	for _, p := range unionKeys(ma, mb) {
		fa, fb := ma[p], mb[p]
		switch {
		case fa == nil:
			out = append(out, FileChange{Path: p, Change: "added", To: fb})
		case fb == nil:
			out = append(out, FileChange{Path: p, Change: "removed", From: fa})
		default:
			if what := fileChanges(fa, fb, mtime); len(what) > 0 {
				out = append(out, FileChange{Path: p, Change: "changed", What: what, From: fa, To: fb})
			}
		}
	}
	return out
}

// unionKeys returns the keys of a and b, sorted, each once.
func unionKeys[V any](a, b map[string]V) []string {
	keys := slices.AppendSeq(slices.Collect(maps.Keys(a)), maps.Keys(b))
	slices.Sort(keys)
	return slices.Compact(keys)
}

// fileChanges names what differs between two entries of one path.
func fileChanges(a, b *FileEntry, mtime bool) []string {
	var what []string
	for _, c := range []struct {
		name string
		diff bool
	}{
		{"type", a.Type != b.Type},
		{"content", a.Type == b.Type && (a.Size != b.Size || a.SHA256 != b.SHA256)},
		{"mode", a.Mode != b.Mode},
		{"link", a.Link != b.Link},
		{"hardLink", a.HardLink != b.HardLink},
		{"mtime", mtime && a.Mtime != b.Mtime},
	} {
		if c.diff {
			what = append(what, c.name)
		}
	}
	return what
}

// WriteDiffText writes res as diff(1) users read it: nothing when the
// bundles are equal; else the two sides, then one line per difference:
// "manifest FIELD: FROM -> TO", "annotation KEY: FROM -> TO" (or + / -),
// "layer INDEX TITLE: FROM -> TO" (or + / -), and the files as
// `git diff --name-status`: "A PATH", "D PATH", "M PATH (what: from -> to)".
func WriteDiffText(w io.Writer, res DiffResult) error {
	if res.Equal {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s %s\n+++ %s %s\n", display.String(res.From.Reference), res.From.Digest, display.String(res.To.Reference), res.To.Digest)
	for _, f := range res.Manifest {
		fmt.Fprintf(&b, "manifest %s: %s -> %s\n", f.Field, orDash(display.String(f.From)), orDash(display.String(f.To)))
	}
	for _, a := range res.Annotations {
		fmt.Fprintf(&b, "annotation %s: %s -> %s\n", display.String(a.Key), quoteOrDash(a.From), quoteOrDash(a.To))
	}
	for _, l := range res.Layers {
		name := fmt.Sprint(l.Index)
		if l.Title != "" {
			name += " " + display.String(l.Title)
		}
		fmt.Fprintf(&b, "layer %s: %s -> %s\n", name, layerDigest(l.From), layerDigest(l.To))
	}
	for _, f := range res.Files {
		switch f.Change {
		case "added":
			fmt.Fprintf(&b, "A %s\n", display.String(f.Path))
		case "removed":
			fmt.Fprintf(&b, "D %s\n", display.String(f.Path))
		default:
			fmt.Fprintf(&b, "M %s (%s)\n", display.String(f.Path), describeChanges(f))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// describeChanges spells what changed in f, with the values where they
// are short: "mode 0644 -> 0755, content".
func describeChanges(f FileChange) string {
	parts := make([]string, 0, len(f.What))
	for _, w := range f.What {
		switch w {
		case "type":
			parts = append(parts, fmt.Sprintf("type %s -> %s", f.From.Type, f.To.Type))
		case "mode":
			parts = append(parts, fmt.Sprintf("mode %s -> %s", f.From.Mode, f.To.Mode))
		case "link":
			parts = append(parts, fmt.Sprintf("link %s -> %s", orDash(display.String(f.From.Link)), orDash(display.String(f.To.Link))))
		case "hardLink":
			parts = append(parts, fmt.Sprintf("hard link %s -> %s", orDash(display.String(f.From.HardLink)), orDash(display.String(f.To.HardLink))))
		case "mtime":
			parts = append(parts, fmt.Sprintf("mtime %s -> %s", orDash(f.From.Mtime), orDash(f.To.Mtime)))
		default:
			parts = append(parts, w)
		}
	}
	return strings.Join(parts, ", ")
}

func quoteOrDash(s *string) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%q", *s)
}

func layerDigest(d *ocispec.Descriptor) string {
	if d == nil {
		return "-"
	}
	return string(d.Digest)
}
