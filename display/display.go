// Package display owns how a string read from a bundle (a file name, an
// annotation, a tag, a media type, a message quoting one) is shown to a
// person in a text line or table. A bundle is untrusted input: a newline,
// a carriage return, an escape sequence, a tab or a bidirectional override
// in such a string would forge rows, move columns or rewrite the terminal.
// Every human text output passes bundle strings through String; JSON output
// does not (encoding/json escapes already).
package display

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s unchanged when every rune is printable (letters, marks,
// numbers, punctuation, symbols and the ASCII space) and s holds no
// backslash or double quote; otherwise it returns s as a Go double-quoted
// string (strconv.Quote: "\n", "\t", "\x1b", "\u202e", "\\"), so a quoted
// name can never be mistaken for a plain one. Invalid UTF-8 bytes are
// shown as "\xNN".
func String(s string) string {
	if plain(s) {
		return s
	}
	return strconv.Quote(s)
}

// Strings applies String to each element of ss, in a new slice.
func Strings(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = String(s)
	}
	return out
}

// Line returns a composed line (a message that already names its objects,
// an error) with each rune String would escape, other than the backslash
// and the double quote, written as strconv writes it ("\n", "\x1b",
// "\xff"): the line stays one line and keeps its own quoting.
func Line(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r != '\\' && r != '"' && !printable(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' || r == '"' || printable(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

func plain(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r == '\\' || r == '"' || !printable(r) }) < 0
}

// printable reports whether r shows as itself on one line: a printable
// rune or the ASCII space, not the rune an invalid UTF-8 byte decodes to.
func printable(r rune) bool {
	return r != utf8.RuneError && (r == ' ' || unicode.IsPrint(r))
}

// ChecksumName returns name as a line of `sha256sum` output writes it
// (GNU coreutils): "\\" for a backslash, "\n" for a newline and "\r" for a
// carriage return, and true when any was escaped, in which case the line
// must start with a backslash. That is a file format `sha256sum -c` reads
// back, not a display: other bytes are kept as they are.
func ChecksumName(name string) (string, bool) {
	if !strings.ContainsAny(name, "\n\\\r") {
		return name, false
	}
	return checksumEscaper.Replace(name), true
}

var checksumEscaper = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r")
