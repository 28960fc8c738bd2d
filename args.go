package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Flags anywhere. urfave/cli v2, like Go's flag package, stops reading flags
// at the first argument, so `verify L:v1 --deep` would read --deep as a
// second target. oras, skopeo and regctl accept flags before and after the
// arguments; so does ocibundle. normalizeArgs rewrites the command line once,
// before urfave/cli sees it, into the order it understands:
//
//	ocibundle GLOBAL-FLAGS... COMMAND COMMAND-FLAGS... -- ARGS...
//
// It learns from the flag definitions themselves which flags take a value,
// so a flag added to any command needs no code here. `--` ends the flags:
// everything after it is an argument, even if it starts with a dash. A lone
// `-` (standard input or output) is an argument. An unknown flag is kept
// with the command's flags, where urfave/cli reports it as a usage error.

// normalizeArgs returns args (os.Args: the program name first) reordered as
// described above. A command line without a known command is returned as
// it is, for urfave/cli to report. A shell completion request (urfave/cli's
// completion flag as the last word) becomes `PROGRAM COMMAND FLAG`: urfave/cli
// then calls the command's BashComplete, which reads the words as typed
// (cmd_completion.go). The flags and arguments are left out, since
// urfave/cli would run the actions of the flags (a half-typed
// --progress=n is a usage error) and a "--" switches its completion off.
func normalizeArgs(app *cli.App, args []string) []string {
	if n := len(args); n > 1 && args[n-1] == completionFlag {
		if p := splitArgs(app, args[1:n-1]); p.cmd != nil {
			return []string{args[0], p.cmd.Name, completionFlag}
		}
		return []string{args[0], completionFlag}
	}
	if len(args) < 2 {
		return args
	}
	p := splitArgs(app, args[1:])
	if p.cmd == nil {
		if versionJSON(args[1:]) {
			return []string{args[0], "version", "--json"}
		}
		return args // no command, or not a command: urfave/cli says so
	}
	out := slices.Concat(args[:1], p.globals, []string{p.cmd.Name}, p.cmdFlags)
	if p.dangling != nil {
		return out // the last flag lacks its value: urfave/cli says so (not "--" taken as it)
	}
	if len(p.positional) > 0 {
		out = append(out, "--")
		out = append(out, p.positional...)
	}
	return out
}

// versionJSON reports whether words (a command line without a command)
// are --version (or -v) and --json: `ocibundle --version --json` is
// `ocibundle version --json`.
func versionJSON(words []string) bool {
	var ver, json bool
	for _, w := range words {
		name, _ := flagName(w)
		switch {
		case isFlag(w) && slices.Contains(cli.VersionFlag.Names(), name):
			ver = true
		case w == "--json":
			json = true
		default:
			return false
		}
	}
	return ver && json
}

// completionFlag is the last word of a shell completion request.
var completionFlag = "--" + cli.BashCompletionFlag.Names()[0]

// splitWords is a command line split the way normalizeArgs orders it.
type splitWords struct {
	globals, cmdFlags, positional []string
	cmd                           *cli.Command // nil: no command (yet)
	unknown                       string       // a word before the command that names none
	// dangling is the last word's flag when it takes a value and none
	// follows (what shell completion completes the value of).
	dangling cli.Flag
}

// splitArgs splits words (a command line without the program name): the
// global flags, the command, its flags (unknown flags included) with their
// values, and the arguments. It stops at a word before the command that is
// not a command (unknown).
func splitArgs(app *cli.App, words []string) splitWords {
	var p splitWords
	for i := 0; i < len(words); i++ {
		a := words[i]
		if a == "--" {
			p.positional = append(p.positional, words[i+1:]...)
			break
		}
		if !isFlag(a) {
			if p.cmd == nil {
				if p.cmd = app.Command(a); p.cmd == nil {
					p.unknown = a
					return p
				}
				continue
			}
			p.positional = append(p.positional, a)
			continue
		}
		name, hasValue := flagName(a)
		global := findFlag(app.Flags, name)
		f := global
		if (f == nil || !takesValue(f)) && p.cmd != nil {
			if cf := findFlag(p.cmd.Flags, name); cf != nil {
				f = cf
			}
		}
		n := 1
		if f != nil && takesValue(f) && !hasValue {
			if i+1 < len(words) {
				n = 2
			} else {
				p.dangling = f
			}
		}
		if global != nil {
			p.globals = append(p.globals, words[i:i+n]...)
		} else {
			p.cmdFlags = append(p.cmdFlags, words[i:i+n]...)
		}
		i += n - 1
	}
	return p
}

// isFlag reports whether a command-line word is a flag: it starts with a
// dash and is not "-" (standard input or output), nor "-:TAG" or
// "-@DIGEST" (a bundle of the archive on standard input).
func isFlag(a string) bool {
	return len(a) > 1 && a[0] == '-' && a[1] != ':' && a[1] != '@'
}

// flagName returns the name of the flag word a ("--level=best" → "level",
// "-l" → "l") and whether the word carries its value after "=".
func flagName(a string) (name string, hasValue bool) {
	name = strings.TrimLeft(a, "-")
	name, _, hasValue = strings.Cut(name, "=")
	return name, hasValue
}

// findFlag returns the flag of flags with the name or alias name, or nil
// (-h, --help and a mistyped flag are in no command's list).
func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// takesValue reports whether flag f is followed by a value (a bool flag is not).
func takesValue(f cli.Flag) bool {
	dv, ok := f.(cli.DocGenerationFlag)
	return !ok || dv.TakesValue()
}
