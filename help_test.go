package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestExamples: every command a user sees has one or two examples, each
// running that command with flags it has (each flag that takes a value
// given one), and no examples name a command that does not exist.
func TestExamples(t *testing.T) {
	app := newApp()
	for _, cmd := range app.VisibleCommands() {
		ex := commandExamples[cmd.Name]
		if len(ex) < 1 || len(ex) > 2 {
			t.Errorf("%s has %d examples, want one or two", cmd.Name, len(ex))
		}
		for _, e := range ex {
			if e.about == "" {
				t.Errorf("%s: example %q says not what it does", cmd.Name, e.line)
			}
			words := strings.Fields(e.line)
			i := slices.IndexFunc(words, func(w string) bool { return strings.TrimPrefix(w, "<(") == "ocibundle" })
			if i < 0 || i+1 >= len(words) || strings.TrimSuffix(words[i+1], ")") != cmd.Name {
				t.Errorf("%s: example %q does not run ocibundle %s", cmd.Name, e.line, cmd.Name)
				continue
			}
			words = words[i+2:]
			if j := slices.IndexFunc(words, func(w string) bool { return w == ">" || w == "|" }); j >= 0 {
				words = words[:j]
			}
			for k, w := range words {
				if !isFlag(w) {
					continue
				}
				name, hasValue := flagName(w)
				f := findFlag(cmd.Flags, name)
				if f == nil {
					f = findFlag(app.Flags, name)
				}
				if f == nil {
					t.Errorf("%s: example %q: %s has no flag %s", cmd.Name, e.line, cmd.Name, w)
				} else if takesValue(f) && !hasValue && k+1 >= len(words) {
					t.Errorf("%s: example %q: %s without its value", cmd.Name, e.line, w)
				}
			}
		}
	}
	for name := range commandExamples {
		if app.Command(name) == nil {
			t.Errorf("examples for %s, which is no command", name)
		}
	}
}

// TestCompletions: what the completion scripts get back for the words typed,
// the word at the cursor last (in any order: the shells sort them).
func TestCompletions(t *testing.T) {
	app := newApp()
	app.Setup() // as urfave/cli has done when BashComplete runs: --help, --version
	shells := []string{"bash", "zsh", "fish", "powershell"}
	for _, tc := range []struct {
		words string // | separates words, so that the last can be empty
		want  string
	}{
		{"", "pack ls inspect verify tag sign untag gc extract files diff export import inventory push pull version completion"},
		{"p", "pack push pull"},
		{"-q|", "pack ls inspect verify tag sign untag gc extract files diff export import inventory push pull version completion"},
		{"--progress|", "auto always never"},
		{"--progress|a", "auto always"},
		{"--progress=n", "--progress=never"},
		{"--v", "--version"},
		{"pack|-c|", "zstd gzip none"},
		{"pack|--compression|g", "gzip"},
		{"pack|--compression=", "--compression=zstd --compression=gzip --compression=none"},
		{"pack|-o|x|f|--level|b", "better best"},
		{"pack|-l|", "fastest default better best"},
		{"pack|--progress|", "auto always never"}, // a global flag after the command
		{"pack|--l", "--layer-annotation --level"},
		{"ls|-", "--json --help -h --quiet -q --progress"}, // no --version after a command
		{"pack|-c", "-c"},   // the flag itself, not its values
		{"pack|-o|", ""},    // a value that is a file name
		{"pack|-o|-c|", ""}, // -c is the value of -o
		{"ls|L|", ""},       // an argument: a file name
		{"verify|--|-", ""}, // after --, only arguments
		{"nosuch|", ""},
		{"completion|", strings.Join(shells, " ")},
		{"completion|z", "zsh"},
	} {
		cmdShells := []string(nil)
		if strings.HasPrefix(tc.words, "completion|") {
			cmdShells = shells
		}
		got := completions(app, strings.Split(tc.words, "|"), cmdShells)
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(strings.Fields(tc.want)))) {
			t.Errorf("completions(%q) = %q, want %q", tc.words, got, tc.want)
		}
	}
}

// TestRoffASCII: the man page is ASCII, its other characters roff escapes.
func TestRoffASCII(t *testing.T) {
	if got, want := roffASCII(`{"$manifest":{…}} é`), `{"$manifest":{\[u2026]}} \[u00E9]`; got != want {
		t.Errorf("roffASCII = %s, want %s", got, want)
	}
}

// TestFlagUsageNoBackticks: urfave/cli takes a `quoted` word of a flag's
// usage as the placeholder of its value, so `files --help` showed
// "--format sha256sum -c" for --format. No flag of any command may have one.
func TestFlagUsageNoBackticks(t *testing.T) {
	app := newApp()
	check := func(cmd string, flags []cli.Flag) {
		for _, f := range flags {
			if u, ok := f.(cli.DocGenerationFlag); ok && strings.Contains(u.GetUsage(), "`") {
				t.Errorf("%s --%s: usage has a backtick: %s", cmd, f.Names()[0], u.GetUsage())
			}
		}
	}
	check("ocibundle", app.Flags)
	for _, c := range app.Commands {
		check(c.Name, c.Flags)
	}
}
