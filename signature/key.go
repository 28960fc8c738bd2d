package signature

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/youmark/pkcs8"
)

// MaxKeyBytes caps, in bytes, a key file ReadKey reads.
const MaxKeyBytes = 1 << 20

// ReadKey reads a PEM private key: PKCS#8 ("PRIVATE KEY"), an encrypted
// PKCS#8 key ("ENCRYPTED PRIVATE KEY", PBES2: its passphrase from
// passphrase, called only then), SEC 1 ("EC PRIVATE KEY") or PKCS#1 ("RSA
// PRIVATE KEY"). The key is never written anywhere. Errors wrap ErrBadTrust
// and name the file, never the key's bytes.
func ReadKey(path string, passphrase func() ([]byte, error)) (any, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > MaxKeyBytes {
		return nil, fmt.Errorf("%s: %w: more than %d bytes, not a key", path, ErrBadTrust, MaxKeyBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: %w: not a PEM private key", path, ErrBadTrust)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		var pass []byte
		if pass, err = passphrase(); err != nil {
			return nil, fmt.Errorf("%s: passphrase: %w", path, err)
		}
		key, err = pkcs8.ParsePKCS8PrivateKey(block.Bytes, pass)
		clear(pass)
	default:
		return nil, fmt.Errorf("%s: %w: a PEM %q, not a private key", path, ErrBadTrust, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrBadTrust, err)
	}
	return key, nil
}
