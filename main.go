// Command ocibundle moves files across air gaps as standard OCI image
// layouts. This file is CLI wiring only: flags become options for the bundle
// and verify packages, errors become one line on stderr and an exit code.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/layout"
)

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
			packCommand(),
			lsCommand(),
			inspectCommand(),
			verifyCommand(),
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

// reportMoves prints, on stderr, each tag an authoring command (pack, tag)
// moved from another manifest: `moved TAG: OLD -> NEW` (the tag rule).
func reportMoves(c *cli.Context, moves []layout.TagMove) {
	if c.Bool("quiet") {
		return
	}
	for _, m := range moves {
		fmt.Fprintf(c.App.ErrWriter, "moved %s: %s -> %s\n", m.Tag, m.From, m.To)
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
