package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func sample(n int) Inventory {
	inv := Inventory{Tags: map[string]digest.Digest{}}
	for i := range n {
		mt := ocispec.MediaTypeImageLayerZstd
		if i%10 == 0 {
			mt = ocispec.MediaTypeImageManifest
		}
		d := digest.FromString(fmt.Sprint(i))
		inv.Blobs = append(inv.Blobs, ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(i) * 123457})
		if i%10 == 0 {
			inv.Tags[fmt.Sprintf("v%d", i)] = d
		}
	}
	// Parse sorts; so must whoever builds one (verify's Report.Held is).
	return mustParse(inv.Marshal())
}

func mustParse(data []byte) Inventory {
	inv, err := Parse(data)
	if err != nil {
		panic(err)
	}
	return inv
}

func TestMarshalParse(t *testing.T) {
	inv := sample(1000)
	data := inv.Marshal()
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Marshal(), data) {
		t.Errorf("Marshal(Parse(Marshal())) differs")
	}
	if back.Digest() != digest.FromBytes(data) {
		t.Errorf("Digest() = %s, want %s", back.Digest(), digest.FromBytes(data))
	}
	// Small: well under 100 bytes per blob (the tags of this sample are
	// one in ten blobs).
	if per := len(data) / 1000; per >= 90 {
		t.Errorf("%d bytes per blob, want well under 100", per)
	}
	for _, b := range inv.Blobs {
		if !back.Has(b) {
			t.Fatalf("Has(%s) = false", b.Digest)
		}
	}
	other := inv.Blobs[3]
	other.Size++
	if back.Has(other) {
		t.Errorf("Has() = true for another size")
	}
}

func TestParseRefuses(t *testing.T) {
	hex := strings.Repeat("a", 64)
	good := `{"mediaType":"` + MediaType + `","blobs":{"sha256":{"x/y":{"` + hex + `":1}}},"tags":{}}`
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("Parse(good) = %v", err)
	}
	for _, tc := range []struct{ name, doc string }{
		{"not JSON", "garbage"},
		{"a tar", "oci-layout\x00\x00\x00"},
		{"an array", "[]"},
		{"unknown field", `{"mediaType":"` + MediaType + `","blobs":{},"tags":{},"extra":1}`},
		{"no blobs", `{"mediaType":"` + MediaType + `","tags":{}}`},
		{"other mediaType", `{"mediaType":"x/y","blobs":{},"tags":{}}`},
		{"duplicate key", `{"mediaType":"` + MediaType + `","mediaType":"` + MediaType + `","blobs":{},"tags":{}}`},
		{"bad hex", `{"mediaType":"` + MediaType + `","blobs":{"sha256":{"x/y":{"zz":1}}},"tags":{}}`},
		{"unknown algorithm", `{"mediaType":"` + MediaType + `","blobs":{"md5":{"x/y":{"` + hex[:32] + `":1}}},"tags":{}}`},
		{"negative size", `{"mediaType":"` + MediaType + `","blobs":{"sha256":{"x/y":{"` + hex + `":-1}}},"tags":{}}`},
		{"size not a number", `{"mediaType":"` + MediaType + `","blobs":{"sha256":{"x/y":{"` + hex + `":"1"}}},"tags":{}}`},
		{"blob twice", `{"mediaType":"` + MediaType + `","blobs":{"sha256":{"x/y":{"` + hex + `":1},"x/z":{"` + hex + `":1}}},"tags":{}}`},
		{"bad tag", `{"mediaType":"` + MediaType + `","blobs":{},"tags":{"a b":"sha256:` + hex + `"}}`},
		{"bad tag digest", `{"mediaType":"` + MediaType + `","blobs":{},"tags":{"v1":"sha256:1"}}`},
		{"trailing data", good + "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.doc)); !errors.Is(err, ErrBadInventory) {
				t.Errorf("Parse(%q) = %v, want ErrBadInventory", tc.doc, err)
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	inv := sample(10)
	file := filepath.Join(dir, "site.inv")
	if err := os.WriteFile(file, inv.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // named relative to another working directory
	got, d, err := Read("site.inv")
	if err != nil || d != inv.Digest() || len(got.Blobs) != 10 {
		t.Errorf("Read() = %d blobs, %s, %v; want 10, %s", len(got.Blobs), d, err, inv.Digest())
	}
	if err := os.WriteFile("bad.inv", []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Read("bad.inv"); !errors.Is(err, ErrBadInventory) || !strings.HasPrefix(err.Error(), "bad.inv: ") {
		t.Errorf("Read(bad.inv) = %v, want ErrBadInventory naming the file", err)
	}
	if !Sniff([]byte(" \n{\"a\"")) || Sniff([]byte("oci-layout")) || Sniff(nil) {
		t.Errorf("Sniff() judges wrongly")
	}
}

// FuzzParse: Parse never panics, and what it accepts marshals to bytes it
// reads back the same (an inventory has one canonical form).
func FuzzParse(f *testing.F) {
	f.Add(sample(3).Marshal())
	f.Add([]byte(`{"mediaType":"` + MediaType + `","blobs":{},"tags":{}}`))
	f.Add([]byte(`{"mediaType":"` + MediaType + `","blobs":{"sha512":{"":{}}},"tags":{"a":"sha256:x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrBadInventory) {
				t.Fatalf("Parse() = %v, not ErrBadInventory", err)
			}
			return
		}
		canon := inv.Marshal()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(Marshal()) = %v", err)
		}
		if !bytes.Equal(again.Marshal(), canon) {
			t.Fatalf("Marshal() is not stable:\n%s\n%s", canon, again.Marshal())
		}
	})
}
