package layer

import (
	"archive/tar"
	"path"
)

// ArtifactLayer is what CheckArtifact needs of one layer of an artifact.
type ArtifactLayer struct {
	// Title is the layer's title, the name the applier writes it under.
	Title string
	// File: the layer is not a tar; the applier writes its blob as the
	// file Title (Applier.WriteFile). Headers is then unused.
	File bool
	// Headers are a tar layer's entries, in order.
	Headers []*tar.Header
}

// TitlesNest reports whether two of titles are equal or one lies below the
// other: only then can the layers of an artifact refuse one another, and
// CheckArtifact has anything to find.
func TitlesNest(titles []string) bool {
	set := make(map[string]bool, len(titles))
	for _, t := range titles {
		if set[t] {
			return true
		}
		set[t] = true
	}
	for _, t := range titles {
		for p := path.Dir(t); p != "." && p != "/" && p != t; p = path.Dir(p) {
			if set[p] {
				return true
			}
		}
	}
	return false
}

// CheckArtifact judges the layers of an artifact together, in order, with
// one judge, as the Applier applies them (no name twice in the tree, no
// entry below an earlier layer's file): the refusals no layer has alone.
// The caller passes layers each clean by itself; a refusal of a layer's
// own would be reported again. opts.Image is ignored.
func CheckArtifact(layers []ArtifactLayer, opts Options) []LayerRefusal {
	opts.Image, opts.InferScope, opts.Summarize = false, false, false
	j := NewJudge(opts, nil)
	var out []LayerRefusal
	for i, l := range layers {
		refuse := func(err error) {
			if r, ok := err.(*Refusal); ok {
				out = append(out, LayerRefusal{i, r})
			}
		}
		if l.File {
			if err := j.fileLayer(l.Title); err != nil {
				refuse(err)
			}
			continue
		}
		j.startLayer(l.Title, opts.MaxSize)
		for _, h := range l.Headers {
			if _, err := j.Entry(h); err != nil {
				refuse(err)
			}
		}
		for _, r := range j.Finish() {
			refuse(r)
		}
	}
	return out
}

// startLayer makes the judge of an artifact judge its next tar layer,
// titled scope, whose entries may declare at most maxSize bytes (< 0: no
// cap). What the earlier layers wrote stays in the tree.
func (j *Judge) startLayer(scope string, maxSize int64) {
	j.opts.Scope, j.opts.MaxSize = scope, maxSize
	j.setScope(scope)
}

// fileLayer judges the next layer of an artifact that is not a tar: its
// blob is the file name.
func (j *Judge) fileLayer(name string) error {
	j.startLayer(name, -1)
	_, err := j.Entry(&tar.Header{Name: name, Typeflag: tar.TypeReg})
	return err
}
