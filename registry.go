package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/bundle"
)

// registryFlags are the flags push and pull share.
func registryFlags() []cli.Flag {
	return append(referrerFlags(),
		&cli.IntFlag{Name: "concurrency", Value: 3, Usage: "blobs copied at once", EnvVars: envVars("concurrency")},
		stringFlag("username", "u", "", "registry user name (with --password-stdin); otherwise the Docker config's credentials"),
		boolFlag("password-stdin", "", "read the registry password from standard input"),
		boolFlag("plain-http", "", "speak HTTP, not HTTPS (a registry on loopback)"),
		stringFlag("ca-file", "", "", "PEM file of certificate authorities to trust besides the system's"),
		boolFlag("insecure", "", "accept any TLS certificate (self-signed test registries)"),
		boolFlag("json", "", "print the result as JSON"),
	)
}

// registryOptions reads the shared flags; the password comes only from
// standard input.
func registryOptions(c *cli.Context) (bundle.RegistryOptions, error) {
	progress, err := newProgress(c)
	if err != nil {
		return bundle.RegistryOptions{}, err
	}
	concurrency, err := countFlag(c, "concurrency")
	if err != nil {
		return bundle.RegistryOptions{}, err
	}
	opts := bundle.RegistryOptions{
		PlainHTTP:   c.Bool("plain-http"),
		Insecure:    c.Bool("insecure"),
		CAFile:      c.String("ca-file"),
		Username:    c.String("username"),
		Concurrency: concurrency,
		NoReferrers: noReferrers(c),
		Progress:    progress,
	}
	if c.Bool("password-stdin") {
		if opts.Username == "" {
			return opts, usagef("%s: --password-stdin needs --username", c.Command.Name)
		}
		if opts.Password, err = readPassword(os.Stdin); err != nil {
			return opts, fmt.Errorf("%s: --password-stdin: %w", c.Command.Name, err)
		}
		if opts.Password == "" {
			return opts, usagef("%s: --password-stdin: standard input is empty", c.Command.Name)
		}
	} else if opts.Username != "" {
		return opts, usagef("%s: --username needs --password-stdin (a password is never taken on the command line)", c.Command.Name)
	}
	return opts, nil
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
