package display

import "testing"

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain name.txt", "plain name.txt"},
		{"héllo/日本", "héllo/日本"},
		{"", ""},
		{"z\n-0644  5 B  passwd", `"z\n-0644  5 B  passwd"`},
		{"a\tb", `"a\tb"`},
		{"a\rb", `"a\rb"`},
		{"\x1b[31mred", `"\x1b[31mred"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"evil\u202etxt.exe", `"evil\u202etxt.exe"`},
		{`back\slash`, `"back\\slash"`},
		{`"quoted"`, `"\"quoted\""`},
		{"x=1\nLayers: forged", `"x=1\nLayers: forged"`},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestChecksumName(t *testing.T) {
	for _, c := range []struct {
		in, want string
		esc      bool
	}{
		{"a b\tc", "a b\tc", false},
		{"a\nb", `a\nb`, true},
		{`a\b`, `a\\b`, true},
		{"a\rb", `a\rb`, true},
	} {
		got, esc := ChecksumName(c.in)
		if got != c.want || esc != c.esc {
			t.Errorf("ChecksumName(%q) = %q, %v; want %q, %v", c.in, got, esc, c.want, c.esc)
		}
	}
}

func TestLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`bundle "a": bad\path`, `bundle "a": bad\path`},
		{"annotation \"k\": x\nLayers: forged", `annotation "k": x\nLayers: forged`},
		{"bad \xff byte \x1b[0m", `bad \xff byte \x1b[0m`},
		{"日本 ok", "日本 ok"},
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
