package units

import (
	"errors"
	"testing"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1B", 1, true}, {"512B", 512, true}, {"700M", 700 << 20, true}, {"1GiB", 1 << 30, true}, {"4G", 4 << 30, true},
		{"4.7GB", 4_700_000_000, true}, {"1KB", 1000, true}, {"2KiB", 2048, true}, {"10B", 10, true},
		{"1.5K", 1536, true}, {"1T", 1 << 40, true}, {"3TB", 3e12, true},
		{"", 0, false}, {"0", 0, false}, {"1", 0, false}, {"700", 0, false}, {"4.7", 0, false}, {"0B", 0, false}, {"-5M", 0, false}, {"M", 0, false}, {"4X", 0, false},
		{"1e9", 0, false}, {"NaN", 0, false}, {"0x10", 0, false}, {"0.1B", 0, false},
		{"9999999T", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("ParseBytes(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
		}
		if !tt.ok && !errors.Is(err, ErrBadSize) {
			t.Errorf("ParseBytes(%q) = %d, %v, want ErrBadSize", tt.in, got, err)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB", 1 << 60: "1.0 EiB",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
