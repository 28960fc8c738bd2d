package compress

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// sample returns n bytes that compress like real data: text lines mixed
// with stretches of pseudo-random bytes, from a fixed seed.
func sample(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	words := []string{"bundle", "layer", "digest", "air", "gap", "manifest", "blob", "verify", "0x1f", "\n"}
	for b.Len() < n {
		if r.IntN(8) == 0 {
			chunk := make([]byte, r.IntN(4096))
			for i := range chunk {
				chunk[i] = byte(r.Uint32())
			}
			b.Write(chunk)
			continue
		}
		for range 64 {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func encode(t testing.TB, data []byte, c Codec, l Level) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, c, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func decode(t testing.TB, data []byte, c Codec) ([]byte, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), c)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func TestRoundTrip(t *testing.T) {
	data := sample(3 << 20)
	for _, c := range []Codec{Zstd, Gzip, None} {
		for _, l := range []Level{Fastest, Default, Better, Best} {
			t.Run(fmt.Sprintf("%s/%s", c, l), func(t *testing.T) {
				enc := encode(t, data, c, l)
				if c != None && len(enc) >= len(data) {
					t.Errorf("compressed %d bytes to %d", len(data), len(enc))
				}
				got, err := decode(t, enc, c)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("decode(encode(data)) = %d bytes, %v; want the %d input bytes", len(got), err, len(data))
				}
				if again := encode(t, data, c, l); !bytes.Equal(again, enc) {
					t.Error("two encodings of the same input differ")
				}
			})
		}
	}
}

// TestZstdIndependentOfCores is the determinism promise: the bytes do not
// depend on GOMAXPROCS. The input spans several concurrent-block jobs (8 MiB
// each at the default level: 4 windows of 2 MiB) so that the parallel path really runs.
func TestZstdIndependentOfCores(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: compresses 80 MiB several times")
	}
	data := sample(80 << 20)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first []byte
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		got := encode(t, data, Zstd, Default)
		if first == nil {
			first = got
			continue
		}
		if !bytes.Equal(got, first) {
			t.Errorf("GOMAXPROCS=%d: %d bytes, differs from GOMAXPROCS=1 (%d bytes)", procs, len(got), len(first))
		}
	}
	// The golden digest pins the format: it changes if klauspost/compress or
	// the encoder options change, which is a breaking change for bundles.
	sum := sha256.Sum256(first)
	if got, want := hex.EncodeToString(sum[:]), goldenZstd80MiB; got != want {
		t.Errorf("sha256(zstd(sample 80 MiB)) = %s, want %s", got, want)
	}
}

const goldenZstd80MiB = "481aa2dd0bfc1811f3e7c2d350ea1bd256dd7f4157e403924cfb609793580686"

func TestForMediaType(t *testing.T) {
	tests := []struct {
		mt   string
		want Codec
		err  error
	}{
		{ocispec.MediaTypeImageLayerZstd, Zstd, nil},
		{ocispec.MediaTypeImageLayerGzip, Gzip, nil},
		{"application/vnd.docker.image.rootfs.diff.tar.gzip", Gzip, nil},
		{ocispec.MediaTypeImageLayer, None, nil},
		{"application/vnd.oci.image.layer.v1.tar+lz4", "", ErrUnknownMediaType},
		{"text/plain", "", ErrUnknownMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.mt, func(t *testing.T) {
			got, err := ForMediaType(tt.mt)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("ForMediaType(%q) = %q, %v; want %q, %v", tt.mt, got, err, tt.want, tt.err)
			}
		})
	}
	for _, c := range []Codec{Zstd, Gzip, None} {
		if got, err := ForMediaType(c.LayerMediaType()); got != c || err != nil {
			t.Errorf("ForMediaType(%s.LayerMediaType()) = %q, %v", c, got, err)
		}
	}
}

func TestParse(t *testing.T) {
	if _, err := ParseCodec("lz4"); !errors.Is(err, ErrUnknownCodec) {
		t.Errorf("ParseCodec(lz4) = %v, want ErrUnknownCodec", err)
	}
	if c, err := ParseCodec("gzip"); c != Gzip || err != nil {
		t.Errorf("ParseCodec(gzip) = %q, %v", c, err)
	}
	if _, err := ParseLevel("max"); !errors.Is(err, ErrUnknownLevel) {
		t.Errorf("ParseLevel(max) = %v, want ErrUnknownLevel", err)
	}
	for name, want := range levelNames {
		if l, err := ParseLevel(name); l != want || err != nil || l.String() != name {
			t.Errorf("ParseLevel(%q) = %v (%s), %v", name, l, l, err)
		}
	}
}

// TestNames: CodecNames and LevelNames (what shell completion offers) are
// exactly what ParseCodec and ParseLevel accept and their errors list.
func TestNames(t *testing.T) {
	_, codecErr := ParseCodec("lz4")
	for _, n := range CodecNames() {
		if _, err := ParseCodec(n); err != nil {
			t.Errorf("ParseCodec(%q) = %v", n, err)
		}
		if !strings.Contains(codecErr.Error(), n) {
			t.Errorf("ParseCodec error %q does not list %q", codecErr, n)
		}
	}
	if got, want := strings.Join(CodecNames(), ", "), "zstd, gzip, none"; got != want {
		t.Errorf("CodecNames() = %s, want %s", got, want)
	}
	if len(LevelNames()) != len(levelNames) {
		t.Errorf("LevelNames() = %q, want the %d levels", LevelNames(), len(levelNames))
	}
	_, levelErr := ParseLevel("max")
	for _, n := range LevelNames() {
		if l, err := ParseLevel(n); err != nil || l.String() != n {
			t.Errorf("ParseLevel(%q) = %v, %v", n, l, err)
		}
		if !strings.Contains(levelErr.Error(), n) {
			t.Errorf("ParseLevel error %q does not list %q", levelErr, n)
		}
	}
}

func TestGzipHeaderHasNoHostData(t *testing.T) {
	enc := encode(t, []byte("x"), Gzip, Default)
	// RFC 1952: flags (byte 3) 0 = no name/comment/extra, mtime (4..7) 0, OS (9) 255 = unknown.
	if enc[3] != 0 || !bytes.Equal(enc[4:8], []byte{0, 0, 0, 0}) || enc[9] != 255 {
		t.Errorf("gzip header = % x, want no flags, mtime 0, OS 255", enc[:10])
	}
}

func TestZstdDecoderRefuses(t *testing.T) {
	data := sample(1 << 20)
	good := encode(t, data, Zstd, Default)

	// A frame that declares a 256 MiB window, above MaxWindow.
	var big bytes.Buffer
	w, _ := zstd.NewWriter(&big, zstd.WithWindowSize(256<<20), zstd.WithSingleSegment(false), zstd.WithEncoderConcurrency(1))
	w.Write(data)
	w.Close()

	flipped := bytes.Clone(good)
	flipped[len(flipped)-2] ^= 0xff // inside the checksum

	tests := []struct {
		name string
		in   []byte
	}{
		{"window above cap", big.Bytes()},
		{"truncated", good[:len(good)/2]},
		{"bad checksum", flipped},
		{"trailing garbage", append(bytes.Clone(good), "garbage!"...)},
		{"not zstd", []byte("plain text, not a frame")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decode(t, tt.in, Zstd); err == nil {
				t.Errorf("decode(%s) = nil error, want a refusal", tt.name)
			}
		})
	}
}

func BenchmarkZstdEncode(b *testing.B) {
	data := sample(64 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		w, _ := NewWriter(io.Discard, Zstd, Default)
		w.Write(data)
		w.Close()
	}
}

func BenchmarkZstdDecode(b *testing.B) {
	data := sample(64 << 20)
	enc := encode(b, data, Zstd, Default)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, _ := NewReader(bytes.NewReader(enc), Zstd)
		io.Copy(io.Discard, r)
		r.Close()
	}
}

// TestEncoderAbort: after Abort nothing more reaches the writer, and the
// encoder's flush fails with ErrAborted, for every codec.
func TestEncoderAbort(t *testing.T) {
	for _, c := range []Codec{Zstd, Gzip, None} {
		t.Run(string(c), func(t *testing.T) {
			var out bytes.Buffer
			w, err := NewWriter(&out, c, Default)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(sample(1 << 20)); err != nil && c != Zstd {
				t.Fatal(err)
			}
			before := out.Len()
			w.Abort()
			w.Abort() // idempotent
			_, werr := w.Write(sample(1 << 20))
			cerr := w.Close()
			if out.Len() != before {
				t.Errorf("%d bytes reached the writer after Abort", out.Len()-before)
			}
			if !errors.Is(werr, ErrAborted) && !errors.Is(cerr, ErrAborted) {
				t.Errorf("Write, Close after Abort = %v, %v; want ErrAborted from one of them", werr, cerr)
			}
		})
	}
}
