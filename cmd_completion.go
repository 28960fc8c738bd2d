package main

import (
	"embed"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Shell completion. The scripts in completion/ hand the words typed so far,
// the word at the cursor last (empty after a space), to
// `ocibundle WORDS... --generate-bash-completion`: urfave/cli's completion
// flag, which normalizeArgs keeps last. urfave/cli then calls the
// BashComplete of the command named, completeWith below, which prints the
// candidates one a line: nothing means "complete file names". One protocol
// for the four shells; the candidates come from the command definitions
// themselves (names, flags, enumFlag's values), so a new command or flag
// needs no code here. The word at the cursor is always passed, so that
// `pack -c <TAB>` (a value for -c) and `pack -c<TAB>` (a flag) differ:
// urfave/cli's own scripts leave an empty word out and cannot tell them apart.

//go:embed completion
var completionScripts embed.FS

// completionShells maps each shell `ocibundle completion` knows to its script.
var completionShells = map[string]string{
	"bash":       "completion/ocibundle.bash",
	"zsh":        "completion/ocibundle.zsh",
	"fish":       "completion/ocibundle.fish",
	"powershell": "completion/ocibundle.ps1",
}

// completionCommand is `ocibundle completion SHELL`.
func completionCommand() *cli.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cli.Command{
		Name:         "completion",
		Usage:        "print the shell completion script for bash, zsh, fish or powershell",
		ArgsUsage:    strings.Join(shells, "|"),
		Flags:        []cli.Flag{},
		BashComplete: completeWith(shells),
		Action: func(c *cli.Context) error {
			shell, err := oneArg(c, "SHELL")
			if err != nil {
				return err
			}
			name, ok := completionShells[shell]
			if !ok {
				return usagef("completion: %q: want bash, zsh, fish or powershell", shell)
			}
			script, err := completionScripts.ReadFile(name)
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(script)
			return err
		},
	}
}

// completeWith is the BashComplete of the app and of every command: it
// prints completions(app, words) for the words of the command line as the
// shell gave them (os.Args, as urfave/cli's own completion reads them:
// normalizeArgs reorders what urfave/cli sees). positional are the values of
// the command's arguments, when they are a fixed set.
func completeWith(positional []string) cli.BashCompleteFunc {
	return func(c *cli.Context) {
		words := os.Args[1 : len(os.Args)-1] // program and completion flag left out
		for _, s := range completions(c.App, words, positional) {
			fmt.Fprintln(c.App.Writer, s)
		}
	}
}

// completions returns what may replace the last word of words (the word at
// the cursor, maybe empty; the ones before it are complete), each starting
// with it: a flag name (the command's and the global ones) for a word that
// starts with a dash, an enumerated value after a flag that takes one (or in
// --flag=VALUE), a command name before the command, then positional. None
// means a file name (what the scripts then complete), as after "--".
func completions(app *cli.App, words []string, positional []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	typed, cur := words[:len(words)-1], words[len(words)-1]
	p := splitArgs(app, typed)
	if p.unknown != "" || slices.Contains(typed, "--") {
		return nil
	}
	flags := app.VisibleFlags()
	if p.cmd != nil {
		// The command's flags, then the global ones that may follow it
		// (normalizeArgs): not --version, and --help is the command's.
		flags = slices.Clip(p.cmd.VisibleFlags())
		for _, f := range app.VisibleFlags() {
			if f != cli.VersionFlag && findFlag(flags, f.Names()[0]) == nil {
				flags = append(flags, f)
			}
		}
	}
	var out []string
	switch {
	case p.dangling != nil:
		out = enumValues(p.dangling)
	case isFlag(cur) && strings.Contains(cur, "="):
		name, _ := flagName(cur)
		flag, _, _ := strings.Cut(cur, "=")
		for _, v := range enumValues(findFlag(flags, name)) {
			out = append(out, flag+"="+v)
		}
	case strings.HasPrefix(cur, "-"):
		for _, f := range flags {
			for _, n := range f.Names() {
				out = append(out, flagWord(n))
			}
		}
	case p.cmd == nil:
		for _, c := range app.VisibleCommands() {
			out = append(out, c.Name)
		}
	default:
		out = positional
	}
	return slices.DeleteFunc(slices.Clone(out), func(s string) bool { return !strings.HasPrefix(s, cur) })
}

// enumValues returns the values of an enumFlag, nil for any other flag.
func enumValues(f cli.Flag) []string {
	if e, ok := f.(*enumStringFlag); ok {
		return e.values
	}
	return nil
}

// flagWord is a flag name as typed: -x for one letter, --name otherwise.
func flagWord(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
