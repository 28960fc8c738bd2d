package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/display"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/units"
)

// Severity ranks a finding. Only errors make a report fail.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// letter is the one-letter form used in the text report.
func (s Severity) letter() string { return strings.ToUpper(string(s[:1])) }

// Finding is one problem. Location is a path in the layout ("index.json",
// "blobs/sha256/…") or a member of the archive; Pointer, when set, is a JSON
// pointer into the document at Location.
type Finding struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	Location string   `json:"location"`
	Pointer  string   `json:"pointer,omitempty"`
	Message  string   `json:"message"`
}

func (f Finding) where() string {
	if f.Pointer != "" {
		return f.Location + "#" + f.Pointer
	}
	return f.Location
}

// Summary counts what was verified and what was found.
type Summary struct {
	Bundles    int   `json:"bundleCount"` // index.json entries verified (the target's), as ls lists them
	Blobs      int   `json:"blobs"`       // blobs hashed
	Bytes      int64 `json:"bytes"`       // bytes hashed
	Errors     int   `json:"errorCount"`
	Warnings   int   `json:"warningCount"`
	Infos      int   `json:"infoCount"`
	DurationMS int64 `json:"durationMs"`
}

// Report is the result of Verify: every finding, sorted by severity, then
// location, pointer, code and message, so two runs over the same input list
// them in the same order.
type Report struct {
	Target   string
	Findings []Finding
	Summary  Summary
	// Held and Tags are filled when Options.Inventory is set. Held lists,
	// sorted by digest, every blob the graph references that was present,
	// regular, of its descriptors' size and hashed to its digest, with no
	// error finding at its location, each once with the least of the media
	// types its descriptors give. Tags maps each index.json tag to its
	// digest (the first entry's, for a tag entries repeat).
	Held     []ocispec.Descriptor
	Tags     map[string]digest.Digest
	duration time.Duration
}

// OK reports whether the report holds no error finding.
func (r *Report) OK() bool { return r.Summary.Errors == 0 }

// targetErrors are the error findings about the target as it was named,
// not about content: a tag index.json does not have, a digest that names
// nothing in the layout, a --digest pin on a
// target of several bundles. A report whose only errors are of these codes
// fails as any command fails on the same mistake (exit.go: 3, 2).
var targetErrors = map[Code]error{
	TagNotFound:        layout.ErrTagNotFound,
	DigestNotFound:     fs.ErrNotExist,
	DigestPinAmbiguous: ErrBadTarget,
}

// Err returns nil when the report holds no error finding, and otherwise an
// error with the counts and the first error finding. It wraps ErrFailed,
// unless every error finding is one of targetErrors: then it wraps the
// first one's sentinel instead (the report still lists them).
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	var first Finding
	onlyTarget := true
	for _, f := range r.Findings {
		if f.Severity != Error {
			continue
		}
		if first.Code == "" {
			first = f
		}
		_, ok := targetErrors[f.Code]
		onlyTarget = onlyTarget && ok
	}
	where := r.Target // a finding about the target itself names it once
	if w := first.where(); w != r.Target {
		where += ": " + w
	}
	if onlyTarget {
		return fmt.Errorf("%s: %s (%w)", where, first.Message, targetErrors[first.Code])
	}
	return fmt.Errorf("%s: %s (%w: %s)", where, first.Message, ErrFailed, r.counts())
}

func (r *Report) counts() string {
	return fmt.Sprintf("%s, %s, %d info",
		plural(r.Summary.Errors, "error"), plural(r.Summary.Warnings, "warning"), r.Summary.Infos)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// WriteText writes one line per finding and a summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s %s: %s\n", f.Severity.letter(), f.Code, display.Line(f.where()), display.Line(f.Message))
	}
	status := "OK"
	if !r.OK() {
		status = "FAILED"
	}
	fmt.Fprintf(&b, "%s: %s, %s, %s in %s; %s (%s)\n", r.Target,
		plural(r.Summary.Bundles, "bundle"), plural(r.Summary.Blobs, "blob"), units.FormatBytes(r.Summary.Bytes),
		r.duration.Round(time.Millisecond), status, r.counts())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one JSON object:
// {"ok":…,"target":…,"summary":{…},"findings":[…]}.
func (r *Report) WriteJSON(w io.Writer) error {
	findings := r.Findings
	if findings == nil {
		findings = []Finding{}
	}
	out := struct {
		OK       bool      `json:"ok"`
		Target   string    `json:"target"`
		Summary  Summary   `json:"summary"`
		Findings []Finding `json:"findings"`
	}{r.OK(), r.Target, r.Summary, findings}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// finish sorts the findings, drops exact duplicates and counts them.
func (r *Report) finish(d time.Duration) {
	sort.Slice(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Severity.rank() != b.Severity.rank() {
			return a.Severity.rank() < b.Severity.rank()
		}
		if a.Location != b.Location {
			return a.Location < b.Location
		}
		if a.Code.rank() != b.Code.rank() {
			return a.Code.rank() < b.Code.rank()
		}
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Message < b.Message
	})
	out := r.Findings[:0]
	for i, f := range r.Findings {
		if i > 0 && f == r.Findings[i-1] {
			continue
		}
		out = append(out, f)
	}
	r.Findings = out
	r.Summary.Errors, r.Summary.Warnings, r.Summary.Infos = 0, 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case Error:
			r.Summary.Errors++
		case Warning:
			r.Summary.Warnings++
		default:
			r.Summary.Infos++
		}
	}
	r.duration = d
	r.Summary.DurationMS = d.Milliseconds()
}

// inventory fills c.rep.Held and c.rep.Tags (Options.Inventory), once every
// finding is made.
func (c *checker) inventory() {
	bad := map[string]bool{}
	for _, f := range c.rep.Findings {
		if f.Severity == Error {
			bad[f.Location] = true
		}
	}
	c.rep.Held = []ocispec.Descriptor{}
	for _, b := range c.blobs {
		if b.referenced && b.exists && b.regular && b.hashed && b.sum == b.digest && !bad[b.loc] {
			c.rep.Held = append(c.rep.Held, ocispec.Descriptor{MediaType: b.mediaType, Digest: b.digest, Size: b.size})
		}
	}
	slices.SortFunc(c.rep.Held, func(a, b ocispec.Descriptor) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	c.rep.Tags = map[string]digest.Digest{}
	for tag, e := range c.tags {
		c.rep.Tags[tag] = e.digest
	}
}
