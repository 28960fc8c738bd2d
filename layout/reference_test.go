package layout

import (
	"context"
	"os"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestParseOutput: the layout a command writes is LAYOUT:TAG, as ORAS's
// --oci-layout dir:tag, when LAYOUT does not exist or is a layout; every
// other string is the path as written (what -o always meant).
func TestParseOutput(t *testing.T) {
	t.Chdir(t.TempDir())
	if _, err := Create(context.Background(), "lay"); err != nil {
		t.Fatal(err)
	}
	os.Mkdir("plain", 0o755)
	os.Mkdir("odd:name", 0o755)
	d := digest.FromString("x")
	for _, tt := range []struct {
		in   string
		want Reference
	}{
		{"new:v1", Reference{Path: "new", Tag: "v1"}},           // DIR does not exist
		{"sub/new:1.0", Reference{Path: "sub/new", Tag: "1.0"}}, // nor does its parent
		{"lay:v1", Reference{Path: "lay", Tag: "v1"}},           // DIR is a layout
		{"lay", Reference{Path: "lay"}},
		{"plain:v1", Reference{Path: "plain:v1"}}, // DIR is not a layout: the path, as before
		{"odd:name", Reference{Path: "odd:name"}}, // an existing path is a path
		{"new:-bad", Reference{Path: "new:-bad"}}, // not a tag
		{`C:\lay`, Reference{Path: `C:\lay`}},     // a Windows path
		{"new@" + d.String(), Reference{Path: "new@" + d.String()}},
	} {
		if got := ParseOutput(tt.in); got != tt.want {
			t.Errorf("ParseOutput(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
