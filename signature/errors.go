package signature

import "errors"

// Sentinels. A Result's Err wraps one of the first five; ErrBadTrust is an
// error of Check (a usage error: the option names the file).
var (
	ErrInvalid   = errors.New("signature invalid")           // does not match the subject, or broken
	ErrUntrusted = errors.New("signature not trusted")       // valid, but no trusted root, key or policy accepts it
	ErrExpired   = errors.New("signature expired")           // its certificate or the signature expired
	ErrIdentity  = errors.New("signature identity wrong")    // keyless: another identity or issuer
	ErrMalformed = errors.New("signature malformed")         // the manifest or envelope cannot be read
	ErrBadTrust  = errors.New("trust option cannot be used") // a policy, store, key, root or certificate file
	ErrMissing   = errors.New("no trusted signature")        // trust was given and no signature satisfies it
)
