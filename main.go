// Command ocibundle moves files across air gaps as standard OCI image
// layouts. This file is CLI wiring only: flags become options for the bundle
// and verify packages, errors become one line on stderr and an exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/compress"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/progress"
	"github.com/ocibundle/ocibundle/verify"
)

// Exit codes (README "Exit codes").
const (
	exitOK          = 0
	exitContent     = 1
	exitUsage       = 2
	exitOperational = 3
)

// errUsage marks a command line that cannot be run as given.
var errUsage = errors.New("usage")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// exitCode maps an error to the exit code: the one place that knows it.
func exitCode(err error) int {
	content := []error{
		bundle.ErrBadInput, verify.ErrFailed,
		layout.ErrNotLayout, layout.ErrBadDigest, layout.ErrDigestMismatch, layout.ErrSizeMismatch,
		layout.ErrBlobNotFound, layout.ErrNotRegular, layout.ErrBadTag, layout.ErrTagNotFound,
		layout.ErrBadJSON, layout.ErrTooLarge, layout.ErrBadDocument,
		bundle.ErrUnsafe, bundle.ErrUnsupported, bundle.ErrCorrupt,
		layout.ErrUnsafeArchive, layout.ErrBadArchive, bundle.ErrTagConflict, bundle.ErrBadPart,
		bundle.ErrUnauthorized, bundle.ErrNotInRegistry,
	}
	usage := []error{errUsage, layout.ErrBadReference, bundle.ErrAmbiguous, bundle.ErrTargetNotEmpty,
		verify.ErrBadTarget, verify.ErrBadOption,
		compress.ErrUnknownCodec, compress.ErrUnknownLevel}
	switch {
	case err == nil:
		return exitOK
	case isAny(err, usage):
		return exitUsage
	case isAny(err, content):
		return exitContent
	}
	return exitOperational
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

func main() {
	// OCIBUNDLE_CPUPROFILE=FILE writes a CPU profile of the whole command
	// (make bench, issue 6); it is stopped before os.Exit, which skips defers.
	var prof *os.File
	if name := os.Getenv("OCIBUNDLE_CPUPROFILE"); name != "" {
		f, err := os.Create(name)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "ocibundle: cpu profile: %v\n", err)
			os.Exit(exitOperational)
		}
		prof = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newApp().RunContext(ctx, os.Args)
	stop()
	if prof != nil {
		pprof.StopCPUProfile()
		if cerr := prof.Close(); cerr != nil {
			fmt.Fprintf(os.Stderr, "ocibundle: cpu profile: %v\n", cerr)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ocibundle: %v\n", err)
	}
	os.Exit(exitCode(err))
}

// envVars gives every flag its OCIBUNDLE_<FLAG> variable.
func envVars(name string) []string {
	return []string{"OCIBUNDLE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

func boolFlag(name, alias, usage string) *cli.BoolFlag {
	f := &cli.BoolFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

func stringFlag(name, alias, value, usage string) *cli.StringFlag {
	f := &cli.StringFlag{Name: name, Value: value, Usage: usage, EnvVars: envVars(name)}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

func sliceFlag(name, alias, usage string) *cli.StringSliceFlag {
	f := &cli.StringSliceFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

func newApp() *cli.App {
	jsonFlag := boolFlag("json", "", "print the result as JSON")
	app := &cli.App{
		Name:                 "ocibundle",
		Usage:                "move files across air gaps as standard OCI image layouts",
		HideHelpCommand:      true,
		Writer:               os.Stdout,
		ErrWriter:            os.Stderr,
		EnableBashCompletion: false,
		ExitErrHandler:       func(*cli.Context, error) {}, // main prints and exits
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%w: %v", errUsage, err)
		},
		Flags: []cli.Flag{
			boolFlag("quiet", "q", "no progress bars, no warnings"),
			stringFlag("progress", "", "auto", "progress bars on stderr: auto (on a terminal), always or never"),
		},
		Commands: []*cli.Command{
			{
				Name:      "pack",
				Usage:     "pack files and directories into a bundle in an OCI layout; prints the manifest digest",
				ArgsUsage: "PATH...",
				Flags: []cli.Flag{
					stringFlag("output", "o", "", "the layout to pack into (created if missing)"),
					sliceFlag("tag", "t", "tag the bundle (repeatable)"),
					sliceFlag("annotation", "a", "manifest annotation K=V (repeatable)"),
					sliceFlag("layer-annotation", "", "layer annotation TITLE:K=V (repeatable)"),
					sliceFlag("index-annotation", "", "index.json annotation K=V (repeatable)"),
					stringFlag("annotation-file", "", "", `JSON annotations: {"$manifest":{…},"$index":{…},"TITLE":{…}}`),
					stringFlag("artifact-type", "", bundle.DefaultArtifactType, "the manifest's artifactType"),
					stringFlag("compression", "c", "zstd", "layer compression: zstd, gzip or none"),
					stringFlag("level", "l", "default", "compression level: fastest, default, better or best"),
					stringFlag("created", "", "", "write org.opencontainers.image.created: an RFC 3339 time or now"),
					&cli.IntFlag{Name: "jobs", Value: runtime.GOMAXPROCS(0), Usage: "layers packed at once (never changes the bytes)", EnvVars: envVars("jobs")},
					jsonFlag,
				},
				Action: packAction,
			},
			{
				Name:      "ls",
				Usage:     "list the bundles in a layout",
				ArgsUsage: "LAYOUT",
				Flags:     []cli.Flag{jsonFlag},
				Action:    lsAction,
			},
			{
				Name:      "inspect",
				Usage:     "describe one bundle: manifest, annotations, layers",
				ArgsUsage: "LAYOUT[:TAG|@DIGEST]",
				Flags:     []cli.Flag{jsonFlag},
				Action:    inspectAction,
			},
			{
				Name:      "verify",
				Usage:     "audit a layout or archive offline: structure, every blob's size and digest, the graph",
				ArgsUsage: "LAYOUT[:TAG|@DIGEST] | ARCHIVE | - | FILE.sha256 | PARTS...",
				Flags: []cli.Flag{
					boolFlag("deep", "", "also decompress every tar layer: uncompressed digests, diff_ids, tar entry safety"),
					boolFlag("strict", "", "unknown digest algorithms are errors, unreferenced blobs warnings"),
					stringFlag("digest", "", "", "the bundle must have this manifest digest"),
					boolFlag("allow-missing", "", "a referenced blob that is missing is a warning, not an error"),
					jsonFlag,
				},
				Action: verifyAction,
			},
			tagCommand(),
			untagCommand(),
			gcCommand(),
			extractCommand(),
			exportCommand(),
			importCommand(),
			pushCommand(),
			pullCommand(),
		},
	}
	app.Action = func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usagef("unknown command %q (see ocibundle --help)", c.Args().First())
		}
		_ = cli.ShowAppHelp(c)
		return usagef("name a command")
	}
	// The global flags are accepted after the command name too, and a bad
	// flag is a one-line usage error (exit 2), never a help dump.
	for _, cmd := range app.Commands {
		cmd.Flags = append(cmd.Flags, app.Flags...)
		cmd.OnUsageError = app.OnUsageError
	}
	return app
}

func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", usagef("%s: want exactly one %s, got %d arguments", c.Command.Name, what, c.NArg())
	}
	return c.Args().First(), nil
}

// cmdErr prefixes an error with the command name.
func cmdErr(c *cli.Context, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", c.Command.Name, err)
}

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
	packMemoryLimit(c.Int("jobs"))
	opts := bundle.PackOptions{
		Tags:         c.StringSlice("tag"),
		ArtifactType: c.String("artifact-type"),
		Compression:  codec,
		Level:        level,
		Jobs:         c.Int("jobs"),
		Progress:     progress,
	}
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
			return cmdErr(c, fmt.Errorf("--layer-annotation %q: %w: want TITLE:K=V", s, bundle.ErrBadInput))
		}
		if opts.LayerAnnotations == nil {
			opts.LayerAnnotations = map[string]map[string]string{}
		}
		if opts.LayerAnnotations[title], err = addPairs(opts.LayerAnnotations[title], []string{kv}); err != nil {
			return cmdErr(c, err)
		}
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
	res, err := bundle.Pack(c.Context, out, c.Args().Slice(), opts)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, res, func(w io.Writer) error { return printDigest(w, res.Digest) })
}

// emit writes a command's result: as JSON with --json, else with text.
func emit(c *cli.Context, w io.Writer, result any, text func(io.Writer) error) error {
	if c.Bool("json") {
		return bundle.WriteJSON(w, result)
	}
	return text(w)
}

// warn writes each warning as one line on stderr, unless --quiet.
func warn(c *cli.Context, warnings []string) {
	if c.Bool("quiet") {
		return
	}
	for _, w := range warnings {
		fmt.Fprintf(c.App.ErrWriter, "ocibundle: %s: warning: %s\n", c.Command.Name, w)
	}
}

// printDigest writes a digest on a line of its own, the text result of the
// commands whose result is one manifest.
func printDigest(w io.Writer, d fmt.Stringer) error {
	_, err := fmt.Fprintln(w, d)
	return err
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (reproducible-builds.org): nil
// when it is unset or empty.
func sourceDateEpoch(c *cli.Context) (*time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return nil, nil
	}
	secs, err := strconv.ParseInt(s, 10, 64)
	if err != nil || secs < 0 {
		return nil, usagef("%s: SOURCE_DATE_EPOCH %q: want seconds since 1970", c.Command.Name, s)
	}
	t := time.Unix(secs, 0).UTC()
	return &t, nil
}

// addPairs adds K=V strings to m (allocating it when needed).
func addPairs(m map[string]string, pairs []string) (map[string]string, error) {
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("annotation %q: %w: want K=V", p, bundle.ErrBadInput)
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	return m, nil
}

func lsAction(c *cli.Context) error {
	dir, err := oneArg(c, "LAYOUT")
	if err != nil {
		return err
	}
	entries, err := bundle.List(c.Context, dir)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, entries, func(w io.Writer) error { return bundle.WriteListText(w, entries) })
}

func inspectAction(c *cli.Context) error {
	ref, err := oneArg(c, "REFERENCE")
	if err != nil {
		return err
	}
	in, err := bundle.Inspect(c.Context, ref)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, in, func(w io.Writer) error { return bundle.WriteInspectText(w, in) })
}

func verifyAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usagef("verify: name a TARGET")
	}
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	opts := verify.Options{
		Strict:       c.Bool("strict"),
		AllowMissing: c.Bool("allow-missing"),
		Deep:         c.Bool("deep"),
		Digest:       c.String("digest"),
		Progress:     progress,
	}
	target := c.Args().First()
	var rep *verify.Report
	switch {
	case c.NArg() > 1 || (strings.HasSuffix(target, ".sha256") && isRegularFile(target)):
		// A split archive: its parts in order, or the checksum list that
		// names them (each part and the whole are then checked as read).
		rep, err = verifyParts(c, opts)
	default:
		rep, err = verify.Verify(c.Context, target, opts)
	}
	if err != nil {
		return cmdErr(c, err)
	}
	if c.Bool("json") {
		err = rep.WriteJSON(c.App.Writer)
	} else {
		err = rep.WriteText(c.App.Writer)
	}
	if err != nil {
		return err
	}
	return cmdErr(c, rep.Err())
}

func isRegularFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// verifyParts verifies the split archive the arguments name: FILE.sha256,
// or the parts FILE.000 FILE.001 … in order.
func verifyParts(c *cli.Context, opts verify.Options) (*verify.Report, error) {
	args := c.Args().Slice()
	for _, a := range args {
		if !isRegularFile(a) {
			return nil, usagef("verify: %s: several arguments are the parts of a split archive, and this is not a file", a)
		}
	}
	var parts []bundle.Part
	var whole digest.Digest
	if len(args) == 1 {
		var err error
		if parts, whole, err = bundle.ReadChecksumFile(args[0]); err != nil {
			return nil, err
		}
	} else {
		for _, a := range args {
			parts = append(parts, bundle.Part{Name: a})
		}
	}
	r := bundle.NewPartsReader(parts, whole)
	defer r.Close()
	rep, err := verify.VerifyArchive(c.Context, r, strings.Join(args, " "), opts)
	return rep, r.Explain(err)
}

// barProgress shows a progress bar by bytes on stderr.
type barProgress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

// newProgress returns the progress sink for c: a bar on stderr when asked
// (--progress always) or when stderr is a terminal (auto), and otherwise a
// nil interface (never a nil *barProgress in one: the workflows would take
// it for a working sink), which the workflows replace with progress.Nop.
func newProgress(c *cli.Context) (progress.Progress, error) {
	mode := c.String("progress")
	if mode != "auto" && mode != "always" && mode != "never" {
		return nil, usagef("--progress %q: want auto, always or never", mode)
	}
	show := mode == "always" || (mode == "auto" && term.IsTerminal(int(os.Stderr.Fd())))
	if c.Bool("quiet") || !show {
		return nil, nil
	}
	return &barProgress{}, nil
}

func (p *barProgress) Start(label string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(io.Writer(os.Stderr)),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowBytes(true),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *barProgress) Add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Add64(n)
	}
}

func (p *barProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
