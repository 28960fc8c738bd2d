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
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/display"
	"github.com/ocibundle/ocibundle/layer"
	"github.com/ocibundle/ocibundle/layout"
	"github.com/ocibundle/ocibundle/units"
)

func main() {
	stopProfiles := startProfiles()
	app := newApp()
	args := normalizeArgs(app, os.Args)
	ctx := onSignal(wantJSON(args))
	err := app.RunContext(layout.WithLockWait(ctx, waitingForLock), args)
	if err != nil && ctx.Err() != nil {
		// A signal came: whatever the command was doing failed because of
		// it, so the outcome is "interrupted", whatever err wraps.
		err = errInterrupted
	}
	stopProfiles()
	os.Exit(report(os.Stdout, os.Stderr, err, wantJSON(args)))
}

// errInterrupted is the message of a command stopped by SIGINT or SIGTERM.
// It matches context.Canceled, which exit.go classifies as interrupted.
var errInterrupted = markedError{errors.New("interrupted"), context.Canceled}

// interruptGrace is how long a command has, after SIGINT or SIGTERM, to
// stop by itself (every workflow checks its context between and within
// blobs, files and lock attempts) before main exits 130 anyway: a read that
// never returns (an idle standard input, a silent network peer) cannot
// check a context, and the promise is to stop within a second.
const interruptGrace = 500 * time.Millisecond

// onSignal returns a context that SIGINT or SIGTERM cancels, and starts the
// watchdog of interruptGrace.
func onSignal(asJSON bool) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		time.Sleep(interruptGrace)
		os.Exit(report(os.Stdout, os.Stderr, errInterrupted, asJSON))
	}()
	return ctx
}

// waitingForLock tells the user why a command has not started yet.
func waitingForLock(layout string) {
	fmt.Fprintf(os.Stderr, "ocibundle: waiting for lock on %s\n", layout)
}

// report writes err as one line on stderr (and, when asJSON, as the JSON
// error object of docs/json.md on stdout, unless the command's JSON output
// already told it) and returns the exit code.
func report(stdout, stderr io.Writer, err error, asJSON bool) int {
	class := classify(err)
	if err == nil {
		return class.Code
	}
	fmt.Fprintf(stderr, "ocibundle: %s\n", display.Line(err.Error()))
	if asJSON && !errors.Is(err, errShown) {
		_ = bundle.WriteJSON(stdout, jsonError{Error: jsonErrorBody{
			Message: err.Error(), ExitCode: class.Code, Class: class.Name,
		}})
	}
	return class.Code
}

// errShown marks an error that the command's JSON output already reports
// (verify --json prints its report, findings included, then fails).
var errShown = errors.New("reported in the output")

// jsonError is what --json prints on stdout for a failure (docs/json.md).
type jsonError struct {
	Error jsonErrorBody `json:"error"`
}

type jsonErrorBody struct {
	Message  string `json:"message"`
	ExitCode int    `json:"exitCode"`
	Class    string `json:"class"`
}

// wantJSON reports whether the command line (normalized: flags before "--")
// or OCIBUNDLE_JSON asks for JSON output. It reads the words, not the parsed
// flags, so that a command line that fails to parse still gets a JSON error.
func wantJSON(args []string) bool {
	on, _ := strconv.ParseBool(os.Getenv("OCIBUNDLE_JSON"))
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		if name, hasValue := flagName(a); isFlag(a) && name == "json" {
			on = true
			if hasValue {
				_, v, _ := strings.Cut(a, "=")
				on, _ = strconv.ParseBool(v)
			}
		}
	}
	return on
}

// countFlag returns the value of an int flag that counts workers (pack
// --jobs, push and pull --concurrency): 1 or more, else a usage error.
func countFlag(c *cli.Context, name string) (int, error) {
	n := c.Int(name)
	if n < 1 {
		return 0, usagef("%s: --%s %d: want 1 or more", c.Command.Name, name, n)
	}
	return n, nil
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

// maxLayerSizeFlag is extract's and verify --deep's cap on the uncompressed
// size of a layer that declares none (layer.ContentLimit).
func maxLayerSizeFlag() *cli.StringFlag {
	return stringFlag("max-layer-size", "", "", fmt.Sprintf("stop a layer without io.ocibundle.content.size that decompresses past SIZE (default: %d times its compressed size, at least %s, at most %s)",
		layer.DefaultLayerRatio, units.FormatBytes(layer.MinLayerCap), units.FormatBytes(layer.DefaultMaxLayerSize)))
}

// maxLayerSize reads --max-layer-size (0 when not set: the default).
func maxLayerSize(c *cli.Context) (int64, error) {
	s := c.String("max-layer-size")
	if s == "" {
		return 0, nil
	}
	n, err := units.ParseBytes(s)
	if err != nil {
		return 0, usagef("%s: --max-layer-size: %v", c.Command.Name, err)
	}
	return n, nil
}

// enumFlag is a string flag whose value parse must accept: any other value,
// from the command line or the environment, is a usage error (exit 2) naming
// the flag, the value and, through parse's error, the allowed values. values
// are those allowed values, from parse's owner: shell completion offers them.
func enumFlag(name, alias, value, usage string, values []string, parse func(string) error) *enumStringFlag {
	f := stringFlag(name, alias, value, usage)
	f.Action = func(_ *cli.Context, v string) error {
		if err := parse(v); err != nil {
			return usagef("--%s %w", name, err)
		}
		return nil
	}
	return &enumStringFlag{StringFlag: f, values: values}
}

// enumStringFlag is a string flag with a fixed set of values (enumFlag).
type enumStringFlag struct {
	*cli.StringFlag
	values []string
}

func sliceFlag(name, alias, usage string) *cli.StringSliceFlag {
	f := &cli.StringSliceFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

// jsonFlag is --json, which every command has.
func jsonFlag() *cli.BoolFlag {
	return boolFlag("json", "", "print the result as JSON")
}

// referrerFlags are the flags export, push and pull share: the referrers
// (signatures, SBOMs) of every manifest of the graph travel with it unless
// --no-referrers. --include-referrers, once needed by push and pull, is
// accepted and does nothing, so that old scripts keep working.
func referrerFlags() []cli.Flag {
	return []cli.Flag{
		boolFlag("no-referrers", "", "leave out the referrers (signatures, SBOMs) of the manifests of the graph; by default they go along, and theirs"),
		boolFlag("include-referrers", "", "does nothing, kept for old scripts: referrers go along by default and --no-referrers leaves them out"),
	}
}

// noReferrers reads referrerFlags.
func noReferrers(c *cli.Context) bool {
	return c.Bool("no-referrers")
}

func newApp() *cli.App {
	app := &cli.App{
		Name:                 "ocibundle",
		Usage:                "move files across air gaps as standard OCI image layouts",
		Version:              readBuildInfo().Version,
		HideHelpCommand:      true,
		Writer:               os.Stdout,
		ErrWriter:            os.Stderr,
		EnableBashCompletion: true, // cmd_completion.go
		// A repeatable flag takes one value per use: a comma belongs to the
		// value (an annotation "a, b", a glob "{a,b}", a title "x,y.txt").
		DisableSliceFlagSeparator: true,
		BashComplete:              completeWith(nil),
		ExitErrHandler:            func(*cli.Context, error) {}, // main prints and exits
		OnUsageError:              onUsageError,
		Flags: []cli.Flag{
			boolFlag("quiet", "q", "no progress bars, no warnings"),
			enumFlag("progress", "", "auto", "progress bars on stderr: auto (on a terminal), always or never", progressModes, parseProgressMode),
		},
		Commands: []*cli.Command{
			packCommand(),
			lsCommand(),
			inspectCommand(),
			verifyCommand(),
			tagCommand(),
			signCommand(),
			untagCommand(),
			gcCommand(),
			extractCommand(),
			filesCommand(),
			diffCommand(),
			exportCommand(),
			importCommand(),
			inventoryCommand(),
			pushCommand(),
			pullCommand(),
			versionCommand(),
			completionCommand(),
			manCommand(),
		},
	}
	cli.VersionPrinter = printVersion
	setHelp(app)
	app.Action = func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usagef("unknown command %q (see ocibundle --help)", c.Args().First())
		}
		_ = cli.ShowAppHelp(c)
		return usagef("name a command")
	}
	// A bad flag is a one-line usage error (exit 2), never a help dump. The
	// global flags are accepted after the command name too: normalizeArgs
	// moves them before it.
	for _, cmd := range app.Commands {
		cmd.OnUsageError = app.OnUsageError
		if cmd.BashComplete == nil {
			cmd.BashComplete = completeWith(nil)
		}
	}
	return app
}

// onUsageError is every command's cli.OnUsageError: a usage error (exit
// 2) naming the command, and an unknown flag as Go's flag package reports
// it ("flag provided but not defined: -bogus") spelled as typed:
// "ls: unknown flag --bogus".
func onUsageError(c *cli.Context, err error, _ bool) error {
	msg := goFlagName.ReplaceAllString(err.Error(), "$1--$2")
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		msg = "unknown flag " + name
	}
	if c != nil && c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		return usagef("%s: %s", c.Command.Name, msg)
	}
	return usagef("%s", msg)
}

// goFlagName is a long flag as Go's flag package writes it in a message
// ("-json"), to be written as typed ("--json").
var goFlagName = regexp.MustCompile(`(^|[\s:])-([a-zA-Z][a-zA-Z0-9-]+)`)

func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", usagef("%s: want exactly one %s, got %d arguments", c.Command.Name, what, c.NArg())
	}
	return c.Args().First(), nil
}

// cmdErr prefixes an error with the command name, and names the way out of
// a failure to find referrers where the command has one (--no-referrers).
func cmdErr(c *cli.Context, err error) error {
	if err == nil {
		return nil
	}
	var re *bundle.ReferrersError
	if errors.As(err, &re) && findFlag(c.Command.Flags, "no-referrers") != nil {
		return fmt.Errorf("%s: %w (--no-referrers skips it)", c.Command.Name, err)
	}
	return fmt.Errorf("%s: %w", c.Command.Name, err)
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
		fmt.Fprintf(c.App.ErrWriter, "ocibundle: %s: warning: %s\n", c.Command.Name, display.Line(w))
	}
}

// reportMoves prints, on stderr, each tag a command moved from another
// manifest: `moved TAG: OLD -> NEW` (the tag rule: pack and tag move tags;
// import and pull only with --force).
func reportMoves(c *cli.Context, moves []layout.TagMove) {
	if c.Bool("quiet") {
		return
	}
	for _, m := range moves {
		fmt.Fprintf(c.App.ErrWriter, "moved %s: %s -> %s\n", display.String(m.Tag), m.From, m.To)
	}
}

// printDigest writes a digest on a line of its own, the text result of the
// commands whose result is one manifest.
func printDigest(w io.Writer, d fmt.Stringer) error {
	_, err := fmt.Fprintln(w, d)
	return err
}

// archiveStdin returns standard input for a command whose argument arg is
// "-" (an archive on standard input), and nil when arg is not "-". A
// terminal is refused (a usage error): keystrokes are not an archive.
func archiveStdin(c *cli.Context, arg string) (io.Reader, error) {
	if arg != "-" {
		return nil, nil
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, usagef("%s: - reads an archive from standard input, which is a terminal; redirect a file or a pipe into it", c.Command.Name)
	}
	return os.Stdin, nil
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
