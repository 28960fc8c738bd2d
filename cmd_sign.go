package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ocibundle/ocibundle/bundle"
	"github.com/ocibundle/ocibundle/signature"
)

// passphraseEnv holds the passphrase of an encrypted PKCS#8 key for sign;
// without it the passphrase is read from stdin (a prompt on a terminal).
const passphraseEnv = "OCIBUNDLE_KEY_PASSPHRASE"

// signCommand is `ocibundle sign`.
func signCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign a bundle in the Notary Project format (as notation does); the signature is a referrer in the layout",
		ArgsUsage: "LAYOUT[:TAG|@DIGEST]",
		Flags: []cli.Flag{
			stringFlag("key", "", "", "the PEM private key (PKCS#8, encrypted PKCS#8: passphrase from "+passphraseEnv+" or stdin; SEC 1; PKCS#1)"),
			stringFlag("cert", "", "", "the PEM certificate chain, the signing certificate first"),
			enumFlag("envelope", "", "jws", "the signature envelope: jws or cose", []string{"jws", "cose"}, func(s string) error {
				_, err := envelopeMediaType(s)
				return err
			}),
			stringFlag("created", "", "", "the signing time: an RFC 3339 time or now (default: SOURCE_DATE_EPOCH, else now)"),
			jsonFlag(),
		},
		Action: signAction,
	}
}

func signAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("sign: want one REFERENCE, got %d arguments", c.NArg())
	}
	if c.String("key") == "" || c.String("cert") == "" {
		return usagef("sign: --key and --cert are required")
	}
	mt, err := envelopeMediaType(c.String("envelope"))
	if err != nil {
		return usagef("sign: --envelope: %v", err)
	}
	opts := signature.SignOptions{MediaType: mt}
	if opts.SigningTime, err = signingTime(c); err != nil {
		return err
	}
	if opts.Key, err = signature.ReadKey(c.String("key"), func() ([]byte, error) { return passphrase(c) }); err != nil {
		return cmdErr(c, fmt.Errorf("--key %w", err))
	}
	if opts.Chain, err = signature.ReadCertChain(c.String("cert")); err != nil {
		return cmdErr(c, fmt.Errorf("--cert %w", err))
	}
	res, err := bundle.Sign(c.Context, c.Args().First(), opts)
	if err != nil {
		return cmdErr(c, err)
	}
	return emit(c, c.App.Writer, res, func(w io.Writer) error { return printDigest(w, res.Signature) })
}

// envelopeMediaType maps --envelope to the envelope's media type.
func envelopeMediaType(s string) (string, error) {
	switch s {
	case "jws":
		return signature.MediaTypeJWS, nil
	case "cose":
		return signature.MediaTypeCOSE, nil
	}
	return "", fmt.Errorf("%q: want jws or cose", s)
}

// signingTime reads --created, else SOURCE_DATE_EPOCH; the zero time
// means now.
func signingTime(c *cli.Context) (time.Time, error) {
	s := c.String("created")
	switch s {
	case "":
		t, err := sourceDateEpoch(c)
		if err != nil || t == nil {
			return time.Time{}, err
		}
		return *t, nil
	case "now":
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("sign: --created %q: want an RFC 3339 time or now", s)
	}
	return t, nil
}

// passphrase reads the passphrase of an encrypted key: OCIBUNDLE_KEY_PASSPHRASE,
// else a line of stdin (without echo, after a prompt on stderr, when stdin
// is a terminal). It is never printed.
func passphrase(c *cli.Context) ([]byte, error) {
	if p, ok := os.LookupEnv(passphraseEnv); ok {
		return []byte(p), nil
	}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		fmt.Fprint(c.App.ErrWriter, "passphrase of the key: ")
		p, err := term.ReadPassword(fd)
		fmt.Fprintln(c.App.ErrWriter)
		return p, err
	}
	line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
	if err != nil && line == "" {
		return nil, fmt.Errorf("no passphrase: set %s or give it on stdin", passphraseEnv)
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}
