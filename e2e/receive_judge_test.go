//go:build linux

// End-to-end tests that the commands reading an archive in place (ls,
// inspect, files, extract, diff) judge it as import judges it: data after
// the end of the tar, a damaged or missing part, a stream cut short, parts
// out of order, a tampered layer blob. Helpers are prefixed rj.

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rjSetup packs the new-user tester's bundle (L:1.0), exports it whole
// (A.tar) and split in 2 KiB parts (and L2:1.0, another app) (S.tar.000 …, S.tar.sha256); it returns
// the work directory and the digest of the layer titled app.
func rjSetup(t *testing.T) (string, string) {
	t.Helper()
	work := t.TempDir()
	xtWrite(t, filepath.Join(work, "src/app/bin/app"), "hello\n", 0o644)
	xtWrite(t, filepath.Join(work, "src/README.md"), "readme\n", 0o644)
	mustRun(t, work, nil, "pack", "-q", "-o", "L:1.0", "src/app", "src/README.md")
	xtWrite(t, filepath.Join(work, "src2/app/bin/app"), "bye\n", 0o644)
	mustRun(t, work, nil, "pack", "-q", "-o", "L2:1.0", "src2/app", "src/README.md")
	mustRun(t, work, nil, "export", "-q", "-o", "A.tar", "L")
	mustRun(t, work, nil, "export", "-q", "-o", "S.tar", "--split", "2KiB", "L")
	var in struct {
		Layers []struct{ Digest, Title string }
	}
	if err := json.Unmarshal([]byte(mustRun(t, work, nil, "inspect", "--json", "L:1.0")), &in); err != nil {
		t.Fatal(err)
	}
	for _, l := range in.Layers {
		if l.Title == "app" {
			return work, l.Digest
		}
	}
	t.Fatalf("no layer titled app in %+v", in.Layers)
	return "", ""
}

// rjSplitCopy copies the split set into dir (the parts, and the list when
// list is set) and returns the parts' names there.
func rjSplitCopy(t *testing.T, work, dir string, list bool) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(work, "S.tar.[0-9][0-9][0-9]"))
	if err != nil || len(names) < 5 {
		t.Fatalf("the split export made %d parts, want 5 (%v)", len(names), err)
	}
	if list {
		names = append(names, filepath.Join(work, "S.tar.sha256"))
	}
	rjMust(t, os.MkdirAll(filepath.Join(work, dir), 0o755))
	var parts []string
	for _, n := range names {
		data, err := os.ReadFile(n)
		rjMust(t, err)
		to := filepath.Join(dir, filepath.Base(n))
		rjMust(t, os.WriteFile(filepath.Join(work, to), data, 0o644))
		if !strings.HasSuffix(n, ".sha256") {
			parts = append(parts, to)
		}
	}
	return parts
}

// rjDamage overwrites one byte of name at offset off (off < 0: from the
// end), or of the first copy of blob in it, off bytes into it.
func rjDamage(t *testing.T, name string, off int, blob []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	rjMust(t, err)
	if blob != nil {
		at := bytes.Index(data, blob)
		if at < 0 {
			t.Fatalf("%s does not hold the blob", name)
		}
		off += at
	}
	data[off] ^= 0x5a
	rjMust(t, os.WriteFile(name, data, 0o644))
}

func TestReceiveJudgesLikeImport(t *testing.T) {
	work, layerDigest := rjSetup(t)
	whole, err := os.ReadFile(filepath.Join(work, "A.tar"))
	rjMust(t, err)
	// Junk after the end of the tar.
	rjMust(t, os.WriteFile(filepath.Join(work, "G.tar"), append(whole, "garbage\n"...), 0o644))
	// The stream cut right after its last member: no end-of-archive marker.
	cut := len(bytes.TrimRight(whole, "\x00"))
	cut += -cut & 511
	// A damaged last part; a damaged first part; the last part missing.
	p4 := rjSplitCopy(t, work, "d4", true)
	rjDamage(t, filepath.Join(work, p4[4]), 1000, nil)
	p0 := rjSplitCopy(t, work, "d0", true)
	rjDamage(t, filepath.Join(work, p0[0]), 1100, nil)
	short := strings.Join(rjSplitCopy(t, work, "d3", false)[:4], " ")
	parts := rjSplitCopy(t, work, "ds", true)
	swapped := strings.Join(append([]string{parts[1], parts[0]}, parts[2:]...), " ")
	// A tampered layer blob, in a layout and in an archive.
	blob, err := os.ReadFile(filepath.Join(work, "L/blobs/sha256", strings.TrimPrefix(layerDigest, "sha256:")))
	rjMust(t, err)
	rjMust(t, os.CopyFS(filepath.Join(work, "LT"), os.DirFS(filepath.Join(work, "L"))))
	rjDamage(t, filepath.Join(work, "LT/blobs/sha256", strings.TrimPrefix(layerDigest, "sha256:")), 50, nil)
	rjMust(t, os.WriteFile(filepath.Join(work, "T.tar"), whole, 0o644))
	rjDamage(t, filepath.Join(work, "T.tar"), 50, blob)

	// What import says of each input (the same words in the commands
	// that read it in place), then the commands that read it in place.
	tests := []struct {
		name, imp string
		want      string
		reads     []string
	}{
		{"junk after the tar", "G.tar", "8 bytes of data after the end of the tar",
			[]string{"ls G.tar", "inspect G.tar", "files G.tar", "extract -o OUT G.tar", "diff G.tar L:1.0", "files - < G.tar", "extract -o OUT - < G.tar"}},
		{"damaged last part", "d4/S.tar.sha256", "S.tar.004: damaged part",
			[]string{"ls d4/S.tar.sha256", "extract -o OUT d4/S.tar.sha256", "files " + strings.Join(p4, " ")}},
		{"damaged first part", "d0/S.tar.sha256", "S.tar.000: damaged part",
			[]string{"ls d0/S.tar.sha256", "inspect " + strings.Join(p0, " ")}},
		{"last part missing", short, "no end-of-archive marker",
			[]string{"files " + short, "ls " + short, "extract -o OUT " + short}},
		{"stream cut short", "- < A.cut", "no end-of-archive marker",
			[]string{"extract -o OUT - < A.cut", "ls - < A.cut", "files - < A.cut"}},
		{"parts out of order", swapped, "parts out of order: given as part 1, ds/S.tar.sha256 lists it as part 2",
			[]string{"files " + swapped, "extract -o OUT " + swapped}},
		{"tampered layer in a layout", "", layerDigest + ": digest mismatch",
			[]string{"extract -o OUT LT:1.0", "files LT:1.0", "diff LT:1.0 L2:1.0"}},
		{"tampered layer in an archive", "T.tar", layerDigest + ": digest mismatch",
			[]string{"extract -o OUT T.tar", "files T.tar", "files - < T.tar"}},
	}
	rjMust(t, os.WriteFile(filepath.Join(work, "A.cut"), whole[:cut], 0o644))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.imp != "" {
				r := rcSh(t, work, "OCB import -o "+filepath.Join(t.TempDir(), "I")+" "+tt.imp)
				if r.code != 1 {
					t.Fatalf("import %s: exit %d, stderr %q; want 1", tt.imp, r.code, r.stderr)
				}
			}
			for _, read := range tt.reads {
				out := filepath.Join(t.TempDir(), "out")
				r := rcSh(t, work, "OCB "+strings.Replace(read, "OUT", out, 1))
				if r.code != 1 || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("%s: exit %d, stderr %q; want 1 and one line with %q", read, r.code, r.stderr, tt.want)
				}
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("%s: %s exists after a failure (%v)", read, out, err)
				}
			}
		})
	}
}

func rjMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
