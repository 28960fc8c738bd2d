// Package units owns how ocibundle reads and writes byte counts for people:
// the sizes a user types (export --split 700M) and the sizes the text
// outputs show (ls, inspect, verify, gc, extract). JSON outputs carry plain
// byte counts and never use it.
package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrBadSize: a size string is not a number with a unit, or is below one
// byte or too large (a usage error).
var ErrBadSize = errors.New("invalid size")

// suffixes are tried in order, longest first within each family: K, M, G,
// T (and KiB, MiB, …) are powers of 1024; KB, MB, GB, TB powers of 1000.
var suffixes = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

// ParseBytes reads a size in bytes with its unit, as split(1) reads them:
// "700M", "4G", "2KiB" (powers of 1024), "4.7GB", "1KB" (powers of 1000),
// "10B" (bytes). The unit is required: a bare "700" is refused rather than
// read as 700 bytes, a size nobody means for a DVD or a layer. Fractions
// are allowed; the result is rounded down and must be at least one byte and
// at most 2^62. Errors wrap ErrBadSize and quote s.
func ParseBytes(s string) (int64, error) {
	num, mult := "", 0.0
	for _, u := range suffixes {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	if mult == 0 {
		return 0, fmt.Errorf("size %q: %w: a unit is required (700M, 4.7G, 1GiB; 10B for bytes)", s, ErrBadSize)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eExXpP+-_") || math.IsNaN(f) {
		return 0, fmt.Errorf("size %q: %w: want a number with a unit (700M, 4.7G, 1GiB)", s, ErrBadSize)
	}
	n := f * mult
	if n < 1 || n > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q: %w: out of range", s, ErrBadSize)
	}
	return int64(n), nil
}

// FormatBytes writes n bytes for a person, with a binary unit and one
// decimal ("1023 B", "1.5 KiB", "5.0 GiB").
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
