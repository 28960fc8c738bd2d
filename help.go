package main

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
)

// Examples: every command's --help ends with one or two, and the man page
// shows them under the command. They live here, in one table; setHelp puts
// each command's in its Description, which commandHelpTemplate prints last
// as EXAMPLES (help_test.go checks that every command has some and that
// they use only flags the command has).

// example is one line of a command's examples: what it does, and the command.
type example struct{ about, line string }

var commandExamples = map[string][]example{
	"pack": {
		{"pack a directory and a file into the layout site-a, tagged 1.0", "ocibundle pack -o site-a -t 1.0 dist/app README.md"},
		{"the same bytes on any checkout: file times clamped, gzip layers", "SOURCE_DATE_EPOCH=1700000000 ocibundle pack -o site-a -t 1.0 -c gzip dist/app"},
	},
	"ls": {
		{"list the bundles (tags, digests, sizes) of a layout", "ocibundle ls site-a"},
	},
	"inspect": {
		{"manifest, annotations and layers of the bundle tagged 1.0", "ocibundle inspect site-a:1.0"},
	},
	"verify": {
		{"check a layout offline, decompressing every layer", "ocibundle verify --deep site-a:1.0"},
		{"check a received archive against the published digest and its signer's CA", "ocibundle verify --deep --digest sha256:ea20a3... --cert ca.pem received.tar"},
	},
	"tag": {
		{"tag the bundle 1.0 also as stable", "ocibundle tag site-a:1.0 stable"},
	},
	"sign": {
		{"sign the bundle 1.0 as notation does (JWS), reproducibly dated", "SOURCE_DATE_EPOCH=1700000000 ocibundle sign site-a:1.0 --key signer.key --cert signer-chain.pem"},
	},
	"untag": {
		{"remove the tag stable (the manifest stays until gc)", "ocibundle untag site-a:stable"},
	},
	"gc": {
		{"list what gc would remove", "ocibundle gc --dry-run site-a"},
		{"remove the blobs no tag reaches", "ocibundle gc site-a"},
	},
	"extract": {
		{"write the files of the bundle 1.0 into out/", "ocibundle extract -o out site-a:1.0"},
		{"one file and a directory, straight from a received archive, verified as it is read", "ocibundle extract -o out received.tar:1.0 bin/app 'docs/**'"},
	},
	"files": {
		{"what a received archive holds, file by file, with sha256", "ocibundle files received.tar:1.0"},
		{"a record sha256sum -c checks in the extracted directory", "ocibundle files --format sha256sum received.tar:1.0 > SHA256SUMS"},
	},
	"diff": {
		{"what changed between two releases, file by file", "ocibundle diff site-a:1.0 site-a:1.1"},
		{"compare a received archive with the layout it was exported from", "ocibundle diff --json received.tar:1.0 site-a:1.0"},
	},
	"export": {
		{"one archive of the bundle 1.0", "ocibundle export -o app-1.0.tar site-a:1.0"},
		{"split into DVD-sized parts, with app-1.0.tar.sha256 naming them", "ocibundle export -o app-1.0.tar --split 4.7GB site-a:1.0"},
	},
	"inventory": {
		{"at the site: record what the layout holds, for the sender's export --since", "ocibundle inventory -o site.inventory site"},
	},
	"import": {
		{"import a received archive (treated as hostile) into the layout site", "ocibundle import -o site received.tar"},
		{"the parts of a split archive, through their checksum file", "ocibundle import -o site app-1.0.tar.sha256"},
	},
	"push": {
		{"copy the bundle 1.0 to a registry", "ocibundle push site-a:1.0 registry.example.com/releases/app"},
	},
	"pull": {
		{"copy a bundle from a registry into the layout carry, verified", "ocibundle pull -o carry registry.example.com/releases/app:1.0"},
	},
	"version": {
		{"the version, and the klauspost/compress version built in", "ocibundle version --json"},
	},
	"completion": {
		{"bash completion in this shell (add it to ~/.bashrc to keep it)", "source <(ocibundle completion bash)"},
		{"zsh: save it as _ocibundle in a directory of $fpath", "ocibundle completion zsh > ~/.zfunc/_ocibundle"},
	},
}

// examplesText is the text of a command's examples, as --help and the man
// page show them.
func examplesText(name string) string {
	var b strings.Builder
	for i, e := range commandExamples[name] {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# %s\n%s", e.about, e.line)
	}
	return b.String()
}

// commandHelpTemplate is urfave/cli v2's CommandHelpTemplate with the
// Description, the examples, moved to the end as EXAMPLES.
const commandHelpTemplate = `NAME:
   {{template "helpNameTemplate" .}}

USAGE:
   {{template "usageTemplate" .}}{{if .VisibleFlagCategories}}

OPTIONS:{{template "visibleFlagCategoryTemplate" .}}{{else if .VisibleFlags}}

OPTIONS:{{template "visibleFlagTemplate" .}}{{end}}{{if .Description}}

EXAMPLES:
   {{template "descriptionTemplate" .}}{{end}}
`

// setHelp gives every command its examples and the template that prints them.
func setHelp(app *cli.App) {
	for _, cmd := range app.Commands {
		cmd.Description = examplesText(cmd.Name)
		cmd.CustomHelpTemplate = commandHelpTemplate
	}
}

// manCommand is `ocibundle man` (hidden; make man): the man page, in roff,
// from the command definitions (urfave/cli's ToMan, through go-md2man), with
// each command's usage line and examples.
func manCommand() *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the man page (roff)",
		Hidden: true,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("man: takes no arguments, got %d", c.NArg())
			}
			for _, cmd := range c.App.Commands {
				usage := c.App.Name + " " + cmd.Name + " [options] " + cmd.ArgsUsage
				cmd.UsageText = strings.TrimSpace(usage) + "\n\n" + examplesText(cmd.Name)
			}
			page, err := c.App.ToManWithSection(1)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(c.App.Writer, roffASCII(page))
			return err
		},
	}
}

// roffASCII escapes every non-ASCII character of a roff page as \[uXXXX]:
// groff reads its input as Latin-1 unless told otherwise (preconv, man -l).
func roffASCII(page string) string {
	var b strings.Builder
	for _, r := range page {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "\\[u%04X]", r)
		}
	}
	return b.String()
}
