package layout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocibundle/ocibundle/internal/testfs"
)

var ctx = context.Background()

func TestValidateTag(t *testing.T) {
	tests := []struct {
		tag  string
		want error
	}{
		{"v1.0", nil}, {"a/b", nil}, {"1.0.0_rc1", nil}, {"latest", nil}, {"a--b", nil},
		{"sha256:abc", nil}, {"x@y+z", nil}, {"a/b/c.d", nil},
		{"", ErrBadTag}, {"a..b", ErrBadTag}, {"-a", ErrBadTag}, {"a-", ErrBadTag},
		{"a//b", ErrBadTag}, {"/a", ErrBadTag}, {"a b", ErrBadTag}, {"a---b", ErrBadTag},
		{"ä", ErrBadTag}, {strings.Repeat("a", maxTagLen+1), ErrBadTag},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			if err := ValidateTag(tt.tag); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ValidateTag(%q) = %v, want %v", tt.tag, err, tt.want)
			}
		})
	}
}

func TestValidateDigest(t *testing.T) {
	hex64 := strings.Repeat("a", 64)
	tests := []struct {
		d    string
		want error
	}{
		{"sha256:" + hex64, nil},
		{"sha512:" + strings.Repeat("b", 128), nil},
		{"sha256:" + strings.ToUpper(hex64), ErrBadDigest},
		{"sha256:" + hex64[:63], ErrBadDigest},
		{"sha512:" + hex64, ErrBadDigest},
		{"sha1:" + strings.Repeat("a", 40), ErrBadDigest},
		{"md5:abc", ErrBadDigest},
		{"sha256:../../etc/passwd", ErrBadDigest},
		{"", ErrBadDigest},
		{hex64, ErrBadDigest},
	}
	for _, tt := range tests {
		t.Run(tt.d, func(t *testing.T) {
			err := ValidateDigest(digest.Digest(tt.d))
			if (tt.want == nil) != (err == nil) || !errors.Is(err, tt.want) {
				t.Errorf("ValidateDigest(%q) = %v, want %v", tt.d, err, tt.want)
			}
			_, perr := BlobPath(digest.Digest(tt.d))
			if (perr == nil) != (err == nil) {
				t.Errorf("BlobPath(%q) error = %v, want %v", tt.d, perr, err)
			}
		})
	}
}

func TestCheckStrictJSON(t *testing.T) {
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"object", `{"a":1,"b":[{"c":null}]}`, true},
		{"whitespace after", "{}\n\t ", true},
		{"duplicate", `{"a":1,"a":2}`, false},
		{"nested duplicate", `{"x":[{"a":1,"a":1}]}`, false},
		{"case variant", `{"mediaType":"a","MediaType":"b"}`, false},
		{"kelvin sign", "{\"k\":1,\"\u212a\":2}", false},
		{"long s", "{\"s\":1,\"\u017f\":2}", false},
		{"same key in sibling objects", `[{"a":1},{"a":2}]`, true},
		{"trailing data", `{} {}`, false},
		{"trailing garbage", `{}x`, false},
		{"invalid utf-8", "{\"a\":\"\xff\"}", false},
		{"truncated", `{"a":`, false},
		{"empty", ``, false},
		{"too deep", strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckStrictJSON([]byte(tt.doc))
			if (err == nil) != tt.ok {
				t.Fatalf("CheckStrictJSON(%q) = %v, want ok=%v", tt.doc, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadJSON) {
				t.Errorf("CheckStrictJSON(%q) = %v, want ErrBadJSON", tt.doc, err)
			}
			if dup := strings.Contains(tt.name, "duplicate") || strings.Contains(tt.name, "variant") ||
				strings.Contains(tt.name, "sign") || strings.Contains(tt.name, "long s"); dup != errors.Is(err, ErrDuplicateKey) {
				t.Errorf("CheckStrictJSON(%q) = %v, ErrDuplicateKey = %v, want %v", tt.doc, err, !dup, dup)
			}
		})
	}
}

func FuzzCheckStrictJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":null}]}`, `{"a":1,"A":2}`, `[]`, `"x"`, `{"a":1} 2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if CheckStrictJSON(data) == nil && !json.Valid(data) {
			t.Fatalf("CheckStrictJSON accepted %q, which is not valid JSON", data)
		}
	})
}

func TestReadCapped(t *testing.T) {
	if _, err := ReadCapped(bytes.NewReader(make([]byte, 11)), 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadCapped(11 bytes, 10) = %v, want ErrTooLarge", err)
	}
	data, err := ReadCapped(bytes.NewReader(make([]byte, 10)), 10)
	if err != nil || len(data) != 10 {
		t.Errorf("ReadCapped(10 bytes, 10) = %d bytes, %v; want 10, nil", len(data), err)
	}
}

func TestCreate(t *testing.T) {
	t.Run("missing directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		s, err := Create(context.Background(), dir)
		if err != nil {
			t.Fatalf("Create() = %v", err)
		}
		idx, err := s.ReadIndex(ctx)
		if err != nil || idx.Manifests == nil || len(idx.Manifests) != 0 {
			t.Fatalf("ReadIndex() = %+v, %v; want empty manifests", idx, err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, LayoutFile))
		if string(data) != `{"imageLayoutVersion":"1.0.0"}` {
			t.Errorf("oci-layout = %s", data)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, IndexFile))
		if !bytes.Contains(raw, []byte(`"manifests":[]`)) {
			t.Errorf("index.json = %s, want manifests []", raw)
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		dir := t.TempDir()
		s, _ := Create(context.Background(), dir)
		if _, err := s.PutBytes(ctx, "text/plain", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := Create(context.Background(), dir); err != nil {
			t.Fatalf("second Create() = %v", err)
		}
	})
	t.Run("not empty, not a layout", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
		if _, err := Create(context.Background(), dir); !errors.Is(err, ErrNotLayout) {
			t.Fatalf("Create() = %v, want ErrNotLayout", err)
		}
		if _, err := os.Stat(filepath.Join(dir, LayoutFile)); err == nil {
			t.Error("Create() wrote oci-layout into a foreign directory")
		}
	})
	t.Run("finishes an interrupted create", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, LayoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
		s, err := Create(context.Background(), dir)
		if err != nil {
			t.Fatalf("Create() = %v", err)
		}
		if _, err := s.ReadIndex(ctx); err != nil {
			t.Errorf("ReadIndex() = %v", err)
		}
	})
	t.Run("concurrent creators", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "L")
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				_, err := Create(context.Background(), dir)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Create() = %v", err)
			}
		}
	})
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); !errors.Is(err, ErrNotLayout) {
		t.Errorf("Open(empty dir) = %v, want ErrNotLayout", err)
	}
	Create(context.Background(), dir)
	if _, err := Open(dir); err != nil {
		t.Errorf("Open(layout) = %v", err)
	}
	os.Remove(filepath.Join(dir, IndexFile))
	os.Symlink("/etc/passwd", filepath.Join(dir, IndexFile))
	if _, err := Open(dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Open(symlinked index.json) = %v, want ErrNotRegular", err)
	}
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := Create(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func descOf(data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(data), Size: int64(len(data))}
}

// failReader fails the test's expectation that Put does not read it.
type failReader struct{ read *bool }

func (f failReader) Read([]byte) (int, error) { *f.read = true; return 0, io.ErrUnexpectedEOF }

func TestPut(t *testing.T) {
	data := []byte("hello, air gap")
	good := descOf(data)
	tests := []struct {
		name string
		desc ocispec.Descriptor
		body []byte
		want error
	}{
		{"good", good, data, nil},
		{"short", good, data[:5], ErrSizeMismatch},
		{"long", good, append(append([]byte{}, data...), '!'), ErrSizeMismatch},
		{"digest", good, []byte("hello, air gaP"), ErrDigestMismatch},
		{"bad digest", ocispec.Descriptor{Digest: "sha256:zz", Size: 1}, data, ErrBadDigest},
		{"sha1", ocispec.Descriptor{Digest: "sha1:" + digest.Digest(strings.Repeat("a", 40)), Size: 1}, data, ErrBadDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			err := s.Put(ctx, tt.desc, bytes.NewReader(tt.body))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Put() = %v, want %v", err, tt.want)
			}
			ok, _ := s.Exists(ctx, good)
			if ok != (tt.want == nil) {
				t.Errorf("Exists() = %v after Put() = %v", ok, err)
			}
			if left, _ := os.ReadDir(filepath.Join(s.Root(), IngestDir)); len(left) != 0 {
				t.Errorf("ingest/ holds %d files after Put()", len(left))
			}
		})
	}
	t.Run("present is a no-op", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, good, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		read := false
		if err := s.Put(ctx, good, failReader{&read}); err != nil || read {
			t.Errorf("second Put() = %v, read the reader = %v; want nil, false", err, read)
		}
		fi, _ := os.Stat(filepath.Join(s.Root(), "blobs", "sha256", good.Digest.Encoded()))
		if fi.Mode().Perm() != 0o444 {
			t.Errorf("blob mode = %v, want read-only 0444", fi.Mode().Perm())
		}
	})
	t.Run("sha512", func(t *testing.T) {
		s := newStore(t)
		d := ocispec.Descriptor{Digest: digest.SHA512.FromBytes(data), Size: int64(len(data))}
		if err := s.Put(ctx, d, bytes.NewReader(data)); err != nil {
			t.Fatalf("Put(sha512) = %v", err)
		}
		got, err := s.FetchAll(ctx, d, 1<<20)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("FetchAll(sha512) = %q, %v", got, err)
		}
	})
}

func TestWriter(t *testing.T) {
	s := newStore(t)
	w, err := s.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "streamed")
	desc, err := w.Commit(ctx, "text/plain")
	if err != nil {
		t.Fatalf("Commit() = %v", err)
	}
	if want := descOf([]byte("streamed")); desc.Digest != want.Digest || desc.Size != want.Size || desc.MediaType != "text/plain" {
		t.Errorf("Commit() = %+v, want digest %s size %d", desc, want.Digest, want.Size)
	}
	w.Abort() // after Commit: nothing happens
	if ok, err := s.Exists(ctx, desc); !ok || err != nil {
		t.Errorf("Exists() = %v, %v after Commit and Abort", ok, err)
	}
	if _, err := w.Commit(ctx, "text/plain"); err == nil {
		t.Error("second Commit() = nil, want an error")
	}

	w2, _ := s.NewWriter(ctx)
	io.WriteString(w2, "dropped")
	w2.Abort()
	if ok, _ := s.Exists(ctx, descOf([]byte("dropped"))); ok {
		t.Error("an aborted blob exists")
	}
	if left, _ := os.ReadDir(filepath.Join(s.Root(), IngestDir)); len(left) != 0 {
		t.Errorf("ingest/ holds %d files after Abort()", len(left))
	}
}

func TestFetch(t *testing.T) {
	s := newStore(t)
	data := []byte("content")
	desc := descOf(data)
	s.Put(ctx, desc, bytes.NewReader(data))
	path := filepath.Join(s.Root(), "blobs", "sha256", desc.Digest.Encoded())

	if _, err := s.Fetch(ctx, descOf([]byte("absent"))); !errors.Is(err, ErrBlobNotFound) {
		t.Errorf("Fetch(absent) = %v, want ErrBlobNotFound", err)
	}
	wrongSize := desc
	wrongSize.Size++
	if _, err := s.Fetch(ctx, wrongSize); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("Fetch(wrong size) = %v, want ErrSizeMismatch", err)
	}

	os.Chmod(path, 0o644)
	os.WriteFile(path, []byte("CONTENT"), 0o644) // same size, other bytes
	rc, err := s.Fetch(ctx, desc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("reading a corrupt blob = %v, want ErrDigestMismatch", err)
	}

	os.Remove(path)
	other := filepath.Join(t.TempDir(), "target")
	os.WriteFile(other, data, 0o644)
	os.Symlink(other, path)
	if _, err := s.Fetch(ctx, desc); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Fetch(symlink) = %v, want ErrNotRegular", err)
	}
	if _, err := s.Exists(ctx, desc); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Exists(symlink) = %v, want ErrNotRegular", err)
	}
	os.Remove(path)
	if err := testfs.Mkfifo(path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(ctx, desc); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Fetch(FIFO) = %v, want ErrNotRegular", err)
	}
}

func TestVerifier(t *testing.T) {
	data := []byte("0123456789")
	desc := descOf(data)
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"exact", data, nil},
		{"short", data[:9], ErrSizeMismatch},
		{"long", append(append([]byte{}, data...), 'x'), ErrSizeMismatch},
		{"other bytes", []byte("0123456788"), ErrDigestMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := io.ReadAll(NewVerifier(bytes.NewReader(tt.body), desc))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ReadAll(Verifier) = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestIndex(t *testing.T) {
	m1 := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("1"), Size: 1}
	m2 := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("2"), Size: 2}
	tags := func(idx ocispec.Index) []string {
		var out []string
		for _, m := range idx.Manifests {
			out = append(out, m.Annotations[ocispec.AnnotationRefName]+"="+m.Digest.Encoded()[:4])
		}
		return out
	}
	idx := emptyIndex()
	for range 2 {
		if err := AddUntagged(&idx, m1); err != nil {
			t.Fatalf("AddUntagged(%s) = %v", m1.Digest, err)
		}
	}
	if got := len(idx.Manifests); got != 1 {
		t.Fatalf("AddUntagged twice: %d entries, want 1", got)
	}
	bad := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:short", Size: 1}
	if err := AddUntagged(&idx, bad); !errors.Is(err, ErrBadDigest) || len(idx.Manifests) != 1 {
		t.Errorf("AddUntagged(bad digest) = %v with %d entries, want ErrBadDigest and 1", err, len(idx.Manifests))
	}
	SetTag(&idx, m1, "v1") // replaces the untagged entry
	SetTag(&idx, m2, "v2")
	SetTag(&idx, m1, "v3")
	SetTag(&idx, m2, "v1") // moves v1 to m2, in place
	want := []string{"v1=" + m2.Digest.Encoded()[:4], "v2=" + m2.Digest.Encoded()[:4], "v3=" + m1.Digest.Encoded()[:4]}
	if got := tags(idx); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tags = %v, want %v", got, want)
	}
	if err := SetTag(&idx, m1, "-bad"); !errors.Is(err, ErrBadTag) {
		t.Errorf("SetTag(-bad) = %v, want ErrBadTag", err)
	}
	if err := RemoveTag(&idx, "v2"); err != nil {
		t.Errorf("RemoveTag(v2) = %v", err)
	}
	if err := RemoveTag(&idx, "v2"); !errors.Is(err, ErrTagNotFound) {
		t.Errorf("RemoveTag(v2) again = %v, want ErrTagNotFound", err)
	}
}

func TestUpdateIndexConcurrent(t *testing.T) {
	s := newStore(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			d := descOf([]byte{byte(i)})
			err := s.UpdateIndex(ctx, func(idx *ocispec.Index) error {
				return SetTag(idx, d, "t"+string(rune('a'+i)))
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	idx, err := s.ReadIndex(ctx)
	if err != nil || len(idx.Manifests) != 16 {
		t.Fatalf("ReadIndex() = %d entries, %v; want 16", len(idx.Manifests), err)
	}
	before, _ := os.ReadFile(filepath.Join(s.Root(), IndexFile))
	boom := errors.New("boom")
	if err := s.UpdateIndex(ctx, func(idx *ocispec.Index) error { idx.Manifests = nil; return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateIndex(failing fn) = %v, want boom", err)
	}
	after, _ := os.ReadFile(filepath.Join(s.Root(), IndexFile))
	if !bytes.Equal(before, after) {
		t.Error("a failed UpdateIndex changed index.json")
	}
}

func TestReadIndex(t *testing.T) {
	tests := []struct {
		name, doc string
		want      error
	}{
		{"good", `{"schemaVersion":2,"manifests":[]}`, nil},
		{"null manifests", `{"schemaVersion":2,"manifests":null}`, ErrBadDocument},
		{"no manifests", `{"schemaVersion":2}`, ErrBadDocument},
		{"schema 1", `{"schemaVersion":1,"manifests":[]}`, ErrBadDocument},
		{"manifest media type", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}`, ErrBadDocument},
		{"duplicate key", `{"schemaVersion":2,"manifests":[],"manifests":[]}`, ErrBadJSON},
		{"too large", `{"schemaVersion":2,"manifests":[],"x":"` + strings.Repeat("a", MaxDocumentSize) + `"}`, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			os.WriteFile(filepath.Join(s.Root(), IndexFile), []byte(tt.doc), 0o644)
			_, err := s.ReadIndex(ctx)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ReadIndex() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseManifest(t *testing.T) {
	cfg := `"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}`
	tests := []struct {
		name, doc string
		want      error
	}{
		{"good", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` + cfg + `,"layers":[]}`, nil},
		{"ambiguous", `{"schemaVersion":2,` + cfg + `,"layers":[],"manifests":[]}`, ErrBadDocument},
		{"index media type", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",` + cfg + `}`, ErrBadDocument},
		{"no config", `{"schemaVersion":2,"layers":[]}`, ErrBadDocument},
		{"case variant", `{"schemaVersion":2,` + cfg + `,"Config":{}}`, ErrBadJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tt.doc))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("ParseManifest() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseReference(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // references are parsed relative to the working directory
	os.Mkdir("lay", 0o755)
	os.Mkdir("odd:name", 0o755)
	d := digest.FromString("x")
	tests := []struct {
		in   string
		want Reference
		err  error
	}{
		{"lay", Reference{Path: "lay"}, nil},
		{"lay:v1", Reference{Path: "lay", Tag: "v1"}, nil},
		{"lay:a/b", Reference{Path: "lay", Tag: "a/b"}, nil},
		{"lay@" + d.String(), Reference{Path: "lay", Digest: d}, nil},
		{"odd:name", Reference{Path: "odd:name"}, nil}, // an existing path is a path
		{"odd:name:v2", Reference{Path: "odd:name", Tag: "v2"}, nil},
		{"new/dir:v1", Reference{Path: "new/dir", Tag: "v1"}, nil},
		{"new", Reference{Path: "new"}, nil},
		{"lay:-x", Reference{}, ErrBadTag},
		{"lay@sha256:nothex", Reference{}, ErrBadDigest},
		{"lay:a@b", Reference{Path: "lay", Tag: "a@b"}, nil},
		{"", Reference{}, ErrBadReference},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseReference(tt.in)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) || got != tt.want {
				t.Errorf("ParseReference(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	s := newStore(t)
	data := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"x/y","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	desc, err := s.PutBytes(ctx, ocispec.MediaTypeImageManifest, data)
	if err != nil {
		t.Fatal(err)
	}
	s.UpdateIndex(ctx, func(idx *ocispec.Index) error { return SetTag(idx, desc, "v1") })
	got, err := s.Resolve(ctx, Reference{Path: s.Root(), Tag: "v1"})
	if err != nil || got.Digest != desc.Digest {
		t.Errorf("Resolve(tag) = %v, %v; want %s", got.Digest, err, desc.Digest)
	}
	if _, err := s.Resolve(ctx, Reference{Path: s.Root(), Tag: "v2"}); !errors.Is(err, ErrTagNotFound) {
		t.Errorf("Resolve(missing tag) = %v, want ErrTagNotFound", err)
	}
	s.UpdateIndex(ctx, func(idx *ocispec.Index) error { return RemoveTag(idx, "v1") })
	got, err = s.Resolve(ctx, Reference{Path: s.Root(), Digest: desc.Digest})
	if err != nil || got.Size != desc.Size || got.MediaType != ocispec.MediaTypeImageManifest || got.ArtifactType != "x/y" {
		t.Errorf("Resolve(digest only in blobs/) = %+v, %v", got, err)
	}
	if _, err := s.Resolve(ctx, Reference{Path: s.Root(), Digest: digest.FromString("nope")}); !errors.Is(err, ErrBlobNotFound) {
		t.Errorf("Resolve(absent digest) = %v, want ErrBlobNotFound", err)
	}
}
