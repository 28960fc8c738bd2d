//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// shellPATH is the environment that runs the built ocibundle by its name,
// as a completion script calls it.
func shellPATH() []string {
	return []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")}
}

// completionCases are command lines up to the cursor and the candidates the
// shell must offer: a command name, an enumerated flag value (after the
// flag, and in --flag=VALUE), a flag name, the shells of completion.
var completionCases = []struct{ line, want string }{
	{"ocibundle ", "pack ls inspect verify tag sign untag gc extract files diff export import inventory push pull version completion"},
	{"ocibundle ver", "verify version"},
	{"ocibundle pack -c ", "zstd gzip none"},
	{"ocibundle pack dist -o L --level b", "better best"},
	{"ocibundle --progress ", "auto always never"},
	{"ocibundle pack --compression=g", "gzip"},
	{"ocibundle verify L:v1 --al", "--allow-missing --allow-outside-links"},
	{"ocibundle completion ", "bash zsh fish powershell"},
	{"ocibundle ls ", ""}, // a layout: the shell completes file names
}

// shellLines runs shell with args and then every line of completionCases
// as arguments, in dir, with the built ocibundle on PATH, and returns the
// lines it prints. A failure or anything on stderr fails the test.
func shellLines(t *testing.T, dir, shell string, args ...string) []string {
	t.Helper()
	for _, c := range completionCases {
		args = append(args, c.line)
	}
	r := runCmd(t, dir, shellPATH(), shell, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%s: exit %d\n%s%s", shell, r.code, r.stdout, r.stderr)
	}
	return strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
}

// TestCompletionBash: the bash script loads without error in a
// non-interactive bash, registers itself for ocibundle, and its function,
// run on a command line as bash runs it on TAB (COMP_LINE, COMP_POINT),
// offers what completionCases want. For --flag=VALUE bash replaces only
// the text after "=", so that is what the script must return.
func TestCompletionBash(t *testing.T) {
	bash := requireTool(t, "bash")
	script := `set -eu
source <(ocibundle completion bash)
complete -p ocibundle
for line in "$@"; do
	COMP_LINE=$line COMP_POINT=${#line}
	_ocibundle
	echo "${COMPREPLY[*]}"
done`
	got := shellLines(t, "", bash, "-c", script, "bash")
	if got[0] != "complete -o default -F _ocibundle ocibundle" {
		t.Errorf("complete -p ocibundle = %q", got[0])
	}
	for i, c := range completionCases {
		want := c.want
		if strings.Contains(c.line, "=") {
			want = strings.TrimPrefix(want, "--compression=") // bash shows the value only
		}
		if i+1 >= len(got) || got[i+1] != want {
			t.Errorf("bash: %q offers %q, want %q", c.line, at(got, i+1), want)
		}
	}
}

// TestCompletionZsh: the zsh script loads without error after compinit and
// registers _ocibundle for ocibundle; its function, run with words and
// CURRENT as zsh's completion system sets them, hands compadd what
// completionCases want, and leaves file names to _files when there is none.
// (compadd and _files work only inside a completion widget, which a shell
// without a terminal has not: the test defines them to print their
// arguments.)
func TestCompletionZsh(t *testing.T) {
	zsh := requireTool(t, "zsh")
	dump := filepath.Join(t.TempDir(), "zcompdump")
	script := `autoload -Uz compinit && compinit -u -d ` + dump + ` || exit 1
source <(ocibundle completion zsh) || exit 1
print -r -- "$_comps[ocibundle]"
compadd() { [[ $1 == -- ]] && shift; print -r -- "$*"; }
_files() { print -r -- "(files)"; }
for line in "$@"; do
	words=(${(z)line})
	[[ $line == *' ' ]] && words+=('')
	CURRENT=${#words}
	_ocibundle
done`
	got := shellLines(t, "", zsh, "-f", "-c", script, "zsh")
	if got[0] != "_ocibundle" {
		t.Errorf("$_comps[ocibundle] = %q, want _ocibundle", got[0])
	}
	for i, c := range completionCases {
		want := c.want
		if want == "" {
			want = "(files)"
		} else if strings.Contains(c.line, "=") {
			want = "--compression=" + want
		}
		if i+1 >= len(got) || got[i+1] != want {
			t.Errorf("zsh: %q offers %q, want %q", c.line, at(got, i+1), want)
		}
	}
}

// TestCompletionFish: fish's own completion machinery (complete -C, what
// TAB runs) offers, with the script loaded, what completionCases want, and
// file names where they want none.
func TestCompletionFish(t *testing.T) {
	fish := requireTool(t, "fish")
	script := `ocibundle completion fish | source; or exit 1
for line in $argv
	echo (complete -C"$line" | sort)
end`
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "a-layout"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := shellLines(t, work, fish, "--no-config", "-c", script)
	for i, c := range completionCases {
		want := strings.Fields(c.want)
		if len(want) == 0 {
			want = []string{"a-layout"}
		} else if strings.Contains(c.line, "=") {
			want[0] = "--compression=" + want[0]
		}
		slices.Sort(want)
		if at(got, i) != strings.Join(want, " ") {
			t.Errorf("fish: %q offers %q, want %q", c.line, at(got, i), strings.Join(want, " "))
		}
	}
}

// at returns s[i], or "(nothing)" past its end.
func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(nothing)"
}

// TestCompletionScripts: completion prints a script for each of the four
// shells, and refuses another shell as a usage error (2).
func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "complete -o default -F _ocibundle ocibundle", "zsh": "#compdef ocibundle",
		"fish": "complete -c ocibundle", "powershell": "Register-ArgumentCompleter -Native -CommandName ocibundle",
	} {
		if out := mustRun(t, "", nil, "completion", shell); !strings.Contains(out, want) || !strings.Contains(out, "--generate-bash-completion") {
			t.Errorf("completion %s does not say %q and call --generate-bash-completion:\n%s", shell, want, out)
		}
	}
	r := run(t, "", nil, "completion", "tcsh")
	if r.code != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", r.code)
	}
	oneLine(t, "completion tcsh", r.stderr, "tcsh", "bash, zsh, fish or powershell")
}

// TestHelpExamples: every command's --help ends with EXAMPLES, one or two
// of them, each running that command (the commands are read from
// ocibundle --help, so a new command without examples fails here).
func TestHelpExamples(t *testing.T) {
	top := mustRun(t, "", nil, "--help")
	_, list, _ := strings.Cut(top, "COMMANDS:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	var cmds []string
	for _, l := range strings.Split(list, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			cmds = append(cmds, strings.TrimSuffix(f[0], ","))
		}
	}
	if len(cmds) < 14 {
		t.Fatalf("ocibundle --help lists %d commands: %q", len(cmds), cmds)
	}
	for _, c := range cmds {
		help := mustRun(t, "", nil, c, "--help")
		_, ex, ok := strings.Cut(help, "\nEXAMPLES:\n")
		if !ok || strings.Contains(ex, "\n\n") {
			t.Errorf("%s --help does not end with EXAMPLES:\n%s", c, help)
			continue
		}
		runs := regexp.MustCompile(`(?m)^   [^#\n]*\bocibundle `+c+`\b`).FindAllString(ex, -1)
		if n := len(runs); n < 1 || n > 2 {
			t.Errorf("%s --help: %d examples run ocibundle %s, want one or two:\n%s", c, n, c, ex)
		}
	}
}

// TestManPage: make man's page (ocibundle man) is well-formed roff that
// groff accepts with every warning on, and man -l renders it with every
// command and its examples.
func TestManPage(t *testing.T) {
	groff := requireTool(t, "groff")
	man := requireTool(t, "man")
	page := filepath.Join(t.TempDir(), "ocibundle.1")
	if err := os.WriteFile(page, []byte(mustRun(t, "", nil, "man")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCmd(t, "", nil, groff, "-man", "-Tutf8", "-z", "-ww", page); r.code != 0 || r.stderr != "" {
		t.Errorf("groff -man -z -ww: exit %d\n%s", r.code, r.stderr)
	}
	r := runCmd(t, "", []string{"MANWIDTH=100", "MANPAGER=cat", "PAGER=cat"}, man, "-l", page)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("man -l: exit %d\n%s", r.code, r.stderr)
	}
	for _, w := range []string{
		"ocibundle - move files across air gaps", "GLOBAL OPTIONS", "--progress",
		"ocibundle pack -o site-a -t 1.0 dist/app README.md", "--compression, -c",
		"ocibundle completion [options] bash|zsh|fish|powershell", "ocibundle version --json",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("man -l does not show %q", w)
		}
	}
}
