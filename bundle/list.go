package bundle

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/display"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
	"github.com/ocibundle/ocibundle/signature"
	"github.com/ocibundle/ocibundle/units"
)

// ListEntry is one index.json entry of a layout (docs/json.md).
type ListEntry struct {
	Digest       digest.Digest `json:"digest"`
	MediaType    string        `json:"mediaType"`
	ArtifactType string        `json:"artifactType,omitempty"`
	// Tags holds the entry's tag (its ref.name annotation), if it has one.
	Tags []string `json:"tags"`
	// Size is the bytes of the manifest (or index) itself.
	Size int64 `json:"size"`
	// TotalSize is the bytes of the whole graph: manifest, config and
	// layers (for an index, its manifests' graphs), each blob counted once.
	TotalSize int64  `json:"totalSize"`
	Created   string `json:"created,omitempty"`
	// LayerCount is the number of layers in the graph.
	LayerCount int `json:"layerCount"`
}

// List describes every entry of the index.json of the layout or archive
// dir names (Open), in index order.
func List(ctx context.Context, dir string) ([]ListEntry, error) {
	src, err := Open(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return ListFrom(ctx, src)
}

// ListFrom is List of an open source; its tag or digest is ignored. A
// stream is judged to its end (Source.Finish) before it returns.
func ListFrom(ctx context.Context, src *Source) ([]ListEntry, error) {
	store := src.Store
	idx, err := store.ReadIndex(ctx)
	if err != nil {
		return nil, err
	}
	entries := []ListEntry{}
	for _, desc := range idx.Manifests {
		g, err := walkGraph(ctx, store, desc)
		if err != nil {
			return nil, err
		}
		entries = append(entries, ListEntry{
			Tags: entryTags(desc), Digest: desc.Digest, MediaType: desc.MediaType, ArtifactType: g.artifactType,
			Size: desc.Size, TotalSize: g.size, Created: g.created, LayerCount: g.layers,
		})
	}
	if err := src.Finish(ctx); err != nil {
		return nil, err
	}
	return entries, nil
}

// graph sums what walkGraph saw.
type graph struct {
	size         int64
	layers       int
	artifactType string
	created      string
}

// walkGraph reads the documents under root (verified, strictly) and adds up
// the sizes of every blob once, and the layers of every manifest.
func walkGraph(ctx context.Context, store *layout.Store, root ocispec.Descriptor) (graph, error) {
	var g graph
	err := store.NewWalker(layout.WalkOptions{}).Walk(ctx, root, func(d ocispec.Descriptor, doc *layout.Document) error {
		g.size += d.Size
		if doc == nil {
			return nil
		}
		if d.Digest == root.Digest && profile.IsManifest(d.MediaType) {
			g.artifactType = profile.ArtifactType(doc.ArtifactType, doc.Config.MediaType)
			g.created = doc.Annotations[ocispec.AnnotationCreated]
		}
		g.layers += len(doc.Layers)
		return nil
	})
	return g, err
}

// entryTags returns the tag of an index.json entry as a list (docs/json.md:
// tags are always a list, empty when there is none).
func entryTags(desc ocispec.Descriptor) []string {
	if tag := desc.Annotations[ocispec.AnnotationRefName]; tag != "" {
		return []string{tag}
	}
	return []string{}
}

// WriteListText writes entries as an aligned table.
func WriteListText(w io.Writer, entries []ListEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tDIGEST\tARTIFACT TYPE\tLAYERS\tSIZE\tCREATED")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", orDash(strings.Join(display.Strings(e.Tags), ",")), e.Digest, orDash(display.String(e.ArtifactType)), e.LayerCount, units.FormatBytes(e.TotalSize), orDash(e.Created))
	}
	return tw.Flush()
}

// Inspection describes one bundle: its manifest (or index) and its layers.
type Inspection struct {
	Reference    string              `json:"reference"`
	Digest       digest.Digest       `json:"digest"`
	MediaType    string              `json:"mediaType"`
	Size         int64               `json:"size"`
	Tags         []string            `json:"tags"`
	ArtifactType string              `json:"artifactType,omitempty"`
	Created      string              `json:"created,omitempty"`
	Annotations  map[string]string   `json:"annotations,omitempty"`
	Config       *LayerInfo          `json:"config,omitempty"`
	Layers       []LayerInfo         `json:"layers"`    // empty for an index
	Manifests    []LayerInfo         `json:"manifests"` // empty for a manifest
	Subject      *ocispec.Descriptor `json:"subject,omitempty"`
	// Referrers are the manifests index.json names whose subject is this
	// one or a manifest of its graph (signatures, SBOMs), and theirs in
	// turn: what export and push carry with it (layout.Store.Referrers).
	Referrers []Referrer `json:"referrers"`
	// Signatures are the signatures of this bundle among its referrers,
	// in every format package signature knows, listed unjudged (verify
	// with trust judges them).
	Signatures []SignatureInfo `json:"signatures"`
	TotalSize  int64           `json:"totalSize"`
	// Delta is the base digest of a delta archive (Source.DeltaBase): the
	// blobs it leaves out are not in it.
	Delta string `json:"delta,omitempty"`
}

// SignatureInfo is one signature of an inspected bundle.
type SignatureInfo struct {
	Digest   digest.Digest `json:"digest"`   // the signature manifest
	Format   string        `json:"format"`   // "notation" or "sigstore"
	Envelope string        `json:"envelope"` // "jws", "cose", …
	Signer   string        `json:"signer,omitempty"`
	// Problem says why the signature cannot be read, when it cannot.
	Problem string `json:"problem,omitempty"`
}

// signaturesOf lists the signatures of subject in store, unjudged.
func signaturesOf(ctx context.Context, store *layout.Store, subject ocispec.Descriptor) ([]SignatureInfo, error) {
	src, err := signature.NewLayoutSource(ctx, store)
	if err != nil {
		return nil, err
	}
	results, err := signature.Check(ctx, src, subject, signature.Trust{})
	if err != nil {
		return nil, err
	}
	out := []SignatureInfo{}
	for _, r := range results {
		si := SignatureInfo{Digest: r.Signature.Digest, Format: r.Format, Envelope: r.Envelope, Signer: r.Signer}
		if r.Err != nil {
			si.Problem = r.Err.Error()
		}
		out = append(out, si)
	}
	return out, nil
}

// LayerInfo is one descriptor of an inspected bundle.
type LayerInfo struct {
	Title       string            `json:"title,omitempty"`
	MediaType   string            `json:"mediaType"`
	Digest      digest.Digest     `json:"digest"`
	Size        int64             `json:"size"`
	Platform    string            `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Inspect describes the bundle ref names, in a layout or an archive
// (Open). A bare LAYOUT must hold exactly one index.json entry (otherwise
// ErrAmbiguous).
func Inspect(ctx context.Context, ref string) (Inspection, error) {
	src, err := Open(ctx, ref, nil)
	if err != nil {
		return Inspection{}, err
	}
	defer src.Close()
	return InspectFrom(ctx, src)
}

// InspectFrom is Inspect of an open source; a stream is judged to its end
// (Source.Finish) before it returns.
func InspectFrom(ctx context.Context, src *Source) (Inspection, error) {
	store, ref := src.Store, src.Name
	desc, err := src.resolve(ctx)
	if err != nil {
		return Inspection{}, err
	}
	idx, err := store.ReadIndex(ctx)
	if err != nil {
		return Inspection{}, err
	}
	in := Inspection{Reference: ref, Digest: desc.Digest, MediaType: desc.MediaType, Size: desc.Size, Tags: []string{}, Layers: []LayerInfo{}, Manifests: []LayerInfo{}}
	if in.Delta, err = src.DeltaBase(ctx); err != nil {
		return Inspection{}, err
	}
	for _, m := range idx.Manifests {
		if tag, ok := m.Annotations[ocispec.AnnotationRefName]; ok && m.Digest == desc.Digest {
			in.Tags = append(in.Tags, tag)
		}
	}
	g, err := walkGraph(ctx, store, desc)
	if err != nil {
		return Inspection{}, err
	}
	in.TotalSize = g.size
	if in.Referrers, err = referrersOf(ctx, store, idx.Manifests, desc, in.Delta == ""); err != nil {
		return Inspection{}, err
	}
	if in.Signatures, err = signaturesOf(ctx, store, desc); err != nil {
		return Inspection{}, err
	}
	switch {
	case profile.IsIndex(desc.MediaType):
		ix, err := store.ReadIndexBlob(ctx, desc)
		if err != nil {
			return Inspection{}, err
		}
		in.ArtifactType, in.Annotations, in.Subject = ix.ArtifactType, ix.Annotations, ix.Subject
		for _, m := range ix.Manifests {
			in.Manifests = append(in.Manifests, info(m))
		}
	default:
		m, err := store.ReadManifest(ctx, desc)
		if err != nil {
			return Inspection{}, err
		}
		in.ArtifactType, in.Annotations, in.Subject = m.ArtifactType, m.Annotations, m.Subject
		in.Created = m.Annotations[ocispec.AnnotationCreated]
		c := info(m.Config)
		in.Config = &c
		for _, l := range m.Layers {
			in.Layers = append(in.Layers, info(l))
		}
	}
	if err := src.Finish(ctx); err != nil {
		return Inspection{}, err
	}
	return in, nil
}

// referrersOf describes the referrers that entries (index.json's) name of
// subject or of any manifest of its graph, and theirs in turn: what export
// and push carry with subject (graphWalk.referrers, the same collection).
// Unless whole (a delta archive lacks its base's blobs), only documents
// need to be present.
func referrersOf(ctx context.Context, store *layout.Store, entries []ocispec.Descriptor, subject ocispec.Descriptor, whole bool) ([]Referrer, error) {
	g := newGraphWalk(store)
	if !whole {
		g.walker = store.NewWalker(layout.WalkOptions{})
	}
	if err := g.walk(ctx, subject); err != nil {
		return nil, err
	}
	descs, err := g.referrers(ctx, entries)
	if err != nil {
		return nil, err
	}
	return describeReferrers(ctx, store, descs)
}

func info(d ocispec.Descriptor) LayerInfo {
	li := LayerInfo{Title: d.Annotations[ocispec.AnnotationTitle], MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, Annotations: d.Annotations}
	if p := d.Platform; p != nil {
		li.Platform = platforms.Format(*p)
	}
	return li
}

// resolve opens the layout (never an archive: the commands that write
// read layouts only) of ref and finds the manifest it names.
func resolve(ctx context.Context, s string) (*layout.Store, ocispec.Descriptor, error) {
	ref, err := layout.ParseReference(s)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	store, err := layout.Open(ref.Path)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	desc, err := (&Source{Store: store, Ref: ref, Name: s}).resolve(ctx)
	return store, desc, err
}

// WriteInspectText writes in for people.
func WriteInspectText(w io.Writer, in Inspection) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Reference:\t%s\n", display.String(in.Reference))
	fmt.Fprintf(tw, "Digest:\t%s\n", in.Digest)
	fmt.Fprintf(tw, "Media type:\t%s\n", display.String(in.MediaType))
	fmt.Fprintf(tw, "Artifact type:\t%s\n", orDash(display.String(in.ArtifactType)))
	fmt.Fprintf(tw, "Tags:\t%s\n", orDash(strings.Join(display.Strings(in.Tags), ", ")))
	fmt.Fprintf(tw, "Created:\t%s\n", orDash(display.String(in.Created)))
	fmt.Fprintf(tw, "Total size:\t%s (%d bytes)\n", units.FormatBytes(in.TotalSize), in.TotalSize)
	if in.Delta != "" {
		fmt.Fprintf(tw, "Delta of:\t%s (the blobs of that base are left out)\n", in.Delta)
	}
	if in.Subject != nil {
		fmt.Fprintf(tw, "Subject:\t%s\n", in.Subject.Digest)
	}
	for _, k := range sortedKeys(in.Annotations) {
		fmt.Fprintf(tw, "Annotation:\t%s=%s\n", display.String(k), display.String(in.Annotations[k]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var rows [][4]string
	for _, l := range in.Layers {
		rows = append(rows, [4]string{orDash(display.String(l.Title)), display.String(l.MediaType), units.FormatBytes(l.Size), l.Digest.String()})
	}
	if err := writeSection(w, "Layers", [4]string{"TITLE", "MEDIA TYPE", "SIZE", "DIGEST"}, rows); err != nil {
		return err
	}
	for _, l := range in.Layers {
		keys := sortedKeys(l.Annotations)
		if len(keys) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s annotations:\n", orDash(display.String(l.Title)))
		for _, k := range keys {
			fmt.Fprintf(w, "    %s=%s\n", display.String(k), display.String(l.Annotations[k]))
		}
	}
	rows = nil
	for _, r := range in.Referrers {
		rows = append(rows, [4]string{orDash(display.String(r.ArtifactType)), orDash(display.String(r.Created)), units.FormatBytes(r.Size), r.Digest.String()})
	}
	if err := writeSection(w, "Referrers", [4]string{"ARTIFACT TYPE", "CREATED", "SIZE", "DIGEST"}, rows); err != nil {
		return err
	}
	rows = nil
	for _, s := range in.Signatures {
		signer := orDash(display.String(s.Signer))
		if s.Problem != "" {
			signer = display.Line(s.Problem)
		}
		rows = append(rows, [4]string{s.Format, orDash(display.String(s.Envelope)), signer, s.Digest.String()})
	}
	if err := writeSection(w, "Signatures (not judged: verify with trust does that)", [4]string{"FORMAT", "ENVELOPE", "SIGNER", "DIGEST"}, rows); err != nil {
		return err
	}
	rows = nil
	for _, m := range in.Manifests {
		rows = append(rows, [4]string{orDash(display.String(m.Platform)), display.String(m.MediaType), units.FormatBytes(m.Size), m.Digest.String()})
	}
	return writeSection(w, "Manifests", [4]string{"PLATFORM", "MEDIA TYPE", "SIZE", "DIGEST"}, rows)
}

// writeSection writes one section of inspect's text: a blank line, the
// title, then header and rows as an aligned, indented table; nothing when
// there are no rows. The cells are already made printable (display).
func writeSection(w io.Writer, title string, header [4]string, rows [][4]string) error {
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range append([][4]string{header}, rows...) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r[0], r[1], r[2], r[3])
	}
	return tw.Flush()
}

// WriteJSON writes v as indented JSON followed by a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
