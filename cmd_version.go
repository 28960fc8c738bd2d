package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// The release stamp, set by `make release` (scripts/release.sh) with
// -ldflags "-X main.version=v1.2.3 -X main.revision=... -X main.revisionTime=...",
// which builds with -buildvcs=false so that the binaries depend on the
// source and the stamp alone. Empty in any other build, where the build
// information the Go toolchain embeds stands in for them.
var version, revision, revisionTime string

// compressModule is the module whose encoder writes the layer bytes: its
// version is part of the bundle format, since zstd and gzip output can
// change between its releases (README, "Reproducibility promise").
const compressModule = "github.com/klauspost/compress"

// buildInfo is what `ocibundle version` reports (docs/json.md).
type buildInfo struct {
	Version         string `json:"version"`
	Revision        string `json:"revision,omitempty"`
	RevisionTime    string `json:"revisionTime,omitempty"`
	Modified        bool   `json:"modified"`
	GoVersion       string `json:"goVersion"`
	CompressVersion string `json:"compressVersion"`
	OS              string `json:"os"`
	Arch            string `json:"arch"`
}

// readBuildInfo reads the version stamp and the build information the Go
// toolchain embeds: the main module's version ("(devel)" in a plain
// `go build`, the tag or a pseudo-version after `go install ...@version`),
// the VCS revision and commit time (absent with -buildvcs=false, outside a
// checkout, and in a git worktree, whose .git the toolchain does not
// recognise), and the version of compressModule as built in (a replace
// directive shows as its replacement's version).
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Revision: revision, RevisionTime: revisionTime, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CompressVersion: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "unknown"
		}
		return b
	}
	if b.Version == "" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && b.Revision == "":
			b.Revision = s.Value
		case s.Key == "vcs.time" && b.RevisionTime == "":
			b.RevisionTime = s.Value
		case s.Key == "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path == compressModule {
			if d.Replace != nil {
				d = d.Replace
			}
			b.CompressVersion = d.Version
		}
	}
	return b
}

// writeText writes b as `ocibundle --version` and `ocibundle version` print it.
func (b buildInfo) writeText(w io.Writer) error {
	rev := b.Revision
	if rev == "" {
		rev = "unknown"
	}
	if b.RevisionTime != "" {
		rev += " (" + b.RevisionTime + ")"
	}
	if b.Modified {
		rev += " modified"
	}
	_, err := fmt.Fprintf(w, "ocibundle %s\nrevision: %s\ngo: %s\n%s: %s\nplatform: %s/%s\n",
		b.Version, rev, b.GoVersion, compressModule, b.CompressVersion, b.OS, b.Arch)
	return err
}

// versionCommand is `ocibundle version`; the global --version prints the
// same text (newApp sets cli.VersionPrinter).
func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, VCS revision, Go and klauspost/compress versions, OS and architecture",
		Flags: []cli.Flag{jsonFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("version: takes no arguments, got %d", c.NArg())
			}
			b := readBuildInfo()
			return emit(c, c.App.Writer, b, b.writeText)
		},
	}
}

// printVersion is cli.VersionPrinter: `ocibundle --version`.
func printVersion(c *cli.Context) {
	_ = readBuildInfo().writeText(c.App.Writer)
}
