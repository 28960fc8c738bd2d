package main

import (
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/profile"
)

// packCommand is `ocibundle pack`.
func packCommand() *cli.Command {
	return &cli.Command{
		Name:      "pack",
		Usage:     "pack files and directories into a bundle in an OCI layout; prints the manifest digest",
		ArgsUsage: "PATH...",
		Flags: []cli.Flag{
			stringFlag("output", "o", "", "the layout to pack into (created if missing); DIR:TAG also tags the bundle, when DIR is missing or a layout"),
			sliceFlag("tag", "t", "tag the bundle (repeatable)"),
			sliceFlag("annotation", "a", "manifest annotation K=V (repeatable)"),
			sliceFlag("layer-annotation", "", "layer annotation TITLE:K=V (repeatable)"),
			sliceFlag("index-annotation", "", "index.json annotation K=V (repeatable)"),
			stringFlag("annotation-file", "", "", `JSON annotations: {"$manifest":{…},"$index":{…},"$config":{…},"TITLE":{…}}`),
			stringFlag("artifact-type", "", profile.DefaultArtifactType, "the manifest's artifactType"),
			enumFlag("compression", "c", "zstd", "layer compression: zstd, gzip or none", compress.CodecNames(), parseCodec),
			enumFlag("level", "l", "default", "compression level: fastest, default, better or best", compress.LevelNames(), parseLevel),
			stringFlag("created", "", "", "write org.opencontainers.image.created: an RFC 3339 time or now"),
			boolFlag("dereference", "", "store the file or directory a symlink points to, not the link (like tar -h)"),
			boolFlag("keep-links", "", "store symlinks that leave PATH as they are (extract needs --allow-outside-links)"),
			sliceFlag("exclude", "", "leave out what this glob matches below each PATH, as a .gitignore line (*, **, ?, dir/, !keep; repeatable)"),
			boolFlag("raw", "", "store each PATH that is a file as its own bytes, as oras push does (oras pull gives it back byte for byte)"),
			&cli.IntFlag{Name: "jobs", Value: runtime.GOMAXPROCS(0), DefaultText: "the number of CPUs", Usage: "layers packed at once (never changes the bytes)", EnvVars: envVars("jobs")},
			jsonFlag(),
		},
		Action: packAction,
	}
}

func parseCodec(s string) error { _, err := compress.ParseCodec(s); return err }
func parseLevel(s string) error { _, err := compress.ParseLevel(s); return err }

// packMemoryLimit sets Go's soft memory limit for pack, unless GOMEMLIMIT
// does: each layer's zstd encoder cycles through about 100 MiB of job
// buffers, and without a limit the garbage collector lets the heap grow to
// twice that per layer (pack of 1 GiB at --jobs 2: 440-510 MiB RSS unlimited,
// 230 MiB at this limit, no slower). A limit is a target, never a failure.
func packMemoryLimit(jobs int) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(64<<20 + 80<<20*int64(max(jobs, 1)))
}

func packAction(c *cli.Context) error {
	out := c.String("output")
	if out == "" {
		return usagef("pack: -o LAYOUT is required")
	}
	if c.NArg() == 0 {
		return usagef("pack: name at least one PATH to pack")
	}
	if c.Bool("dereference") && c.Bool("keep-links") {
		return usagef("pack: --dereference and --keep-links exclude each other")
	}
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	codec, err := compress.ParseCodec(c.String("compression"))
	if err != nil {
		return cmdErr(c, err)
	}
	level, err := compress.ParseLevel(c.String("level"))
	if err != nil {
		return cmdErr(c, err)
	}
	jobs, err := countFlag(c, "jobs")
	if err != nil {
		return err
	}
	packMemoryLimit(jobs)
	// -o DIR:TAG, as oras --oci-layout dir:tag (layout.ParseOutput).
	target := layout.ParseOutput(out)
	tags := c.StringSlice("tag")
	if target.Tag != "" && !slices.Contains(tags, target.Tag) {
		tags = append([]string{target.Tag}, tags...)
	}
	opts := bundle.PackOptions{
		Tags:         tags,
		ArtifactType: c.String("artifact-type"),
		Compression:  codec,
		Level:        level,
		Jobs:         jobs,
		Progress:     progress,
		Dereference:  c.Bool("dereference"),
		KeepLinks:    c.Bool("keep-links"),
		Exclude:      c.StringSlice("exclude"),
		RawFiles:     c.Bool("raw"),
	}
	if err := packAnnotations(c, &opts); err != nil {
		return err
	}
	if s := c.String("created"); s != "" {
		t := time.Now()
		if s != "now" {
			if t, err = time.Parse(time.RFC3339, s); err != nil {
				return usagef("pack: --created %q: want an RFC 3339 time or now", s)
			}
		}
		opts.Created = &t
	}
	if opts.SourceDateEpoch, err = sourceDateEpoch(c); err != nil {
		return err
	}
	res, err := bundle.Pack(c.Context, target.Path, c.Args().Slice(), opts)
	if err != nil {
		return cmdErr(c, err)
	}
	reportMoves(c, res.Moved)
	return emit(c, c.App.Writer, res, func(w io.Writer) error { return printDigest(w, res.Digest) })
}

// packAnnotations sets opts' annotations from --annotation-file, then
// --annotation, --index-annotation and --layer-annotation (flags win over
// the file). A malformed K=V or TITLE:K=V is a usage error.
func packAnnotations(c *cli.Context, opts *bundle.PackOptions) error {
	var err error
	if f := c.String("annotation-file"); f != "" {
		af, err := bundle.ReadAnnotationFile(f)
		if err != nil {
			return cmdErr(c, err)
		}
		opts.ManifestAnnotations, opts.IndexAnnotations = af.Manifest, af.Index
		opts.ConfigAnnotations, opts.LayerAnnotations = af.Config, af.Layers
	}
	if opts.ManifestAnnotations, err = addPairs(opts.ManifestAnnotations, c.StringSlice("annotation")); err != nil {
		return cmdErr(c, err)
	}
	if opts.IndexAnnotations, err = addPairs(opts.IndexAnnotations, c.StringSlice("index-annotation")); err != nil {
		return cmdErr(c, err)
	}
	for _, s := range c.StringSlice("layer-annotation") {
		title, kv, ok := strings.Cut(s, ":")
		if !ok || title == "" {
			return usagef("pack: --layer-annotation %q: want TITLE:K=V", s)
		}
		if opts.LayerAnnotations == nil {
			opts.LayerAnnotations = map[string]map[string]string{}
		}
		if opts.LayerAnnotations[title], err = addPairs(opts.LayerAnnotations[title], []string{kv}); err != nil {
			return cmdErr(c, err)
		}
	}
	return nil
}

// addPairs adds K=V strings to m (allocating it when needed).
func addPairs(m map[string]string, pairs []string) (map[string]string, error) {
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("annotation %q: want K=V", p)
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	return m, nil
}
