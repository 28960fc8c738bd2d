package main

import (
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
// it is, for urfave/cli to report.
func normalizeArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := flagTable(app.Flags)
	var globals, cmdFlags, positional []string
	var cmd *cli.Command
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if !isFlag(a) {
			if cmd == nil {
				if cmd = app.Command(a); cmd == nil {
					return args // not a command: urfave/cli says so
				}
				continue
			}
			positional = append(positional, a)
			continue
		}
		name, hasValue := flagName(a)
		n := 1
		if !hasValue && i+1 < len(rest) {
			if takes, ok := global[name]; ok && takes {
				n = 2
			} else if cmd != nil {
				if takes := flagTable(cmd.Flags)[name]; takes {
					n = 2
				}
			}
		}
		words := rest[i:min(i+n, len(rest))]
		i += n - 1
		if _, ok := global[name]; ok {
			globals = append(globals, words...)
		} else {
			cmdFlags = append(cmdFlags, words...)
		}
	}
	if cmd == nil {
		return args
	}
	out := append([]string{args[0]}, globals...)
	out = append(out, cmd.Name)
	out = append(out, cmdFlags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// isFlag reports whether a command-line word is a flag: it starts with a
// dash and is not "-" (standard input or output).
func isFlag(a string) bool {
	return len(a) > 1 && a[0] == '-'
}

// flagName returns the name of the flag word a ("--level=best" → "level",
// "-l" → "l") and whether the word carries its value after "=".
func flagName(a string) (name string, hasValue bool) {
	name = strings.TrimLeft(a, "-")
	name, _, hasValue = strings.Cut(name, "=")
	return name, hasValue
}

// flagTable maps every name and alias of flags to whether the flag takes a
// value (a bool flag does not). A name not in the table (-h, --help, a
// mistyped flag) takes none.
func flagTable(flags []cli.Flag) map[string]bool {
	t := map[string]bool{}
	for _, f := range flags {
		takes := true
		if dv, ok := f.(cli.DocGenerationFlag); ok {
			takes = dv.TakesValue()
		}
		for _, n := range f.Names() {
			t[n] = takes
		}
	}
	return t
}
