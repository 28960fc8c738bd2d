package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ocibundle/ocibundle/signature"
	"github.com/ocibundle/ocibundle/verify"
)

// verifyCommand is `ocibundle verify`.
func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "audit a layout or archive offline: structure, every blob's size and digest, the graph",
		ArgsUsage: "LAYOUT[:TAG|@DIGEST] | ARCHIVE | - | FILE.sha256 | PARTS...",
		Flags: append([]cli.Flag{
			boolFlag("deep", "", "also decompress every tar layer: uncompressed digests, diff_ids, tar entry safety"),
			boolFlag("strict", "", "unknown digest algorithms are errors, unreferenced blobs warnings"),
			stringFlag("digest", "", "", "the bundle must have this manifest digest"),
			stringFlag("base", "", "", "a layout holding what an archive leaves out (a delta's base): those blobs are checked there"),
			boolFlag("allow-missing", "", "a referenced blob that is missing is a warning, not an error"),
			boolFlag("allow-outside-links", "", "with --deep, a symlink that leaves its layer is a warning, not an error"),
			maxLayerSizeFlag(),
			jsonFlag(),
		}, trustFlags()...),
		Action: verifyAction,
	}
}

func verifyAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usagef("verify: name a TARGET")
	}
	progress, err := newProgress(c)
	if err != nil {
		return err
	}
	maxLayer, err := maxLayerSize(c)
	if err != nil {
		return err
	}
	opts := verify.Options{
		MaxLayerSize:      maxLayer,
		Strict:            c.Bool("strict"),
		AllowMissing:      c.Bool("allow-missing"),
		Deep:              c.Bool("deep"),
		AllowOutsideLinks: c.Bool("allow-outside-links"),
		Digest:            c.String("digest"),
		Base:              c.String("base"),
		Progress:          progress,
		Trust:             trustOf(c),
	}
	target := c.Args().First()
	var rep *verify.Report
	switch {
	case isSplitArchive(c.Args().Slice()):
		// A split archive: its parts in order, or the checksum list that
		// names them (each part and the whole are then checked as read).
		parts, _, err := openSplitArchive(c, c.Args().Slice())
		if err != nil {
			return err
		}
		defer parts.Close()
		rep, err = verify.VerifyArchive(c.Context, parts, strings.Join(c.Args().Slice(), " "), opts)
		if err = parts.Explain(err); err != nil {
			return cmdErr(c, err)
		}
	default:
		if opts.Stdin, err = archiveStdin(c, target); err != nil {
			return err
		}
		rep, err = verify.Verify(c.Context, target, opts)
	}
	if err != nil {
		return cmdErr(c, err)
	}
	if c.Bool("json") {
		err = rep.WriteJSON(c.App.Writer)
	} else {
		err = rep.WriteText(c.App.Writer)
	}
	if err != nil {
		return err
	}
	if err := rep.Err(); err != nil && c.Bool("json") {
		return markedError{cmdErr(c, err), errShown}
	}
	return cmdErr(c, rep.Err())
}

// trustFlags are verify's trust options (package signature's Trust): with
// none, signatures are listed; with trust for a format, its signatures are
// judged and a bundle needs one the trust accepts.
func trustFlags() []cli.Flag {
	return []cli.Flag{
		stringFlag("trust-policy", "", "", "Notary Project: notation's trust policy FILE (trustpolicy.json)"),
		stringFlag("trust-store", "", "", "Notary Project: notation's trust store DIR (holding x509/ca/NAME/*.pem)"),
		stringFlag("scope", "", "", "Notary Project: the registry scope the trust policy is asked for (default: a statement for \"*\")"),
		sliceFlag("cert", "", "Notary Project: trust signatures whose chain ends in the CA certificates of PEM FILE (repeatable)"),
		sliceFlag("key", "", "Sigstore: trust signatures made with the public key of PEM FILE (cosign.pub; repeatable)"),
		stringFlag("trusted-root", "", "", "Sigstore keyless: the trusted_root.json certificates and Rekor entries are checked against, offline"),
		stringFlag("certificate-identity", "", "", "Sigstore keyless: the identity the signing certificate must name"),
		stringFlag("certificate-oidc-issuer", "", "", "Sigstore keyless: the OIDC issuer the signing certificate must name"),
	}
}

// trustOf reads the trust flags.
func trustOf(c *cli.Context) signature.Trust {
	return signature.Trust{
		TrustPolicy:         c.String("trust-policy"),
		TrustStore:          c.String("trust-store"),
		Scope:               c.String("scope"),
		CACerts:             c.StringSlice("cert"),
		Keys:                c.StringSlice("key"),
		TrustedRoot:         c.String("trusted-root"),
		CertificateIdentity: c.String("certificate-identity"),
		CertOIDCIssuer:      c.String("certificate-oidc-issuer"),
	}
}
