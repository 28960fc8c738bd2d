//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The --json schema (docs/json.md), checked on every command's real output
// (issue 11: size meant the graph in ls, the manifest in inspect, the
// archive in export; digest was sometimes the archive's; layers a number in
// one command and an array in another; tag vs tags, bundles vs entries;
// snake_case next to camelCase; errors never JSON).

// jsonObject parses out as exactly one JSON object.
func jsonObject(t *testing.T, what, out string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s --json: not a JSON object: %v\n%s", what, err, out)
	}
	if dec.More() {
		t.Fatalf("%s --json: more than one JSON value:\n%s", what, out)
	}
	return m
}

var camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// checkSchema walks v and reports every key that breaks a rule that holds
// in all commands. Keys under "annotations" are the user's, not ours.
func checkSchema(t *testing.T, what, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case nil:
		t.Errorf("%s: %s is null (lists are arrays, absent values are left out)", what, path)
	case []any:
		for i, e := range v {
			checkSchema(t, what, fmt.Sprintf("%s[%d]", path, i), e)
		}
	case map[string]any:
		for k, e := range v {
			p := path + "." + k
			if strings.HasSuffix(path, ".annotations") {
				continue
			}
			if !camelCase.MatchString(k) {
				t.Errorf("%s: key %s is not camelCase", what, p)
			}
			switch k {
			case "tags", "layers", "bundles", "manifests", "findings", "warnings", "referrers", "moved", "parts", "removed", "entries":
				if _, ok := e.([]any); !ok {
					t.Errorf("%s: %s = %v, want a list", what, p, e)
				}
			case "size", "totalSize", "layerCount", "bundleCount", "blobs", "bytes":
				if _, ok := e.(float64); !ok {
					t.Errorf("%s: %s = %v, want a number", what, p, e)
				}
			case "tag", "content_digest", "content_size", "duration_ms":
				t.Errorf("%s: %s: the key is %q (docs/json.md)", what, p, k)
			}
			checkSchema(t, what, p, e)
		}
	}
}

func TestJSONSchema(t *testing.T) {
	work := t.TempDir()
	lay := cliBundle(t, work)
	manifest := jsonField(t, mustRun(t, work, nil, "inspect", "--json", lay+":v1"), "digest")
	archive := filepath.Join(work, "x.tar")
	for _, args := range [][]string{
		{"pack", "-o", lay, "-t", "v2", "f.txt"},
		{"ls", lay},
		{"inspect", lay + ":v1"},
		{"verify", lay + ":v1"},
		{"tag", lay + ":v1", "v3"},
		{"untag", lay + ":v3"},
		{"export", "-o", archive, lay + ":v1"},
		{"export", "-o", filepath.Join(work, "y.tar"), "--split", "1K", lay + ":v1"},
		{"import", "-o", filepath.Join(work, "M"), archive},
		{"extract", "-o", filepath.Join(work, "X"), lay + ":v1"},
		{"gc", "--dry-run", lay},
		{"diff", lay + ":v1", lay + ":v1"},
		{"version"},
	} {
		what := args[0]
		m := jsonObject(t, what, mustRun(t, work, nil, append(args, "--json")...))
		checkSchema(t, what, what, m)
		// digest at the top level is the manifest's, never an archive's.
		if d, ok := m["digest"]; ok && d != manifest {
			t.Errorf("%s: digest = %v, want the manifest digest %s", what, d, manifest)
		}
		switch what {
		case "export", "import":
			a, ok := m["archive"].(map[string]any)
			if !ok || a["digest"] == nil || a["size"] == nil || a["path"] == "" {
				t.Errorf("%s: archive = %v, want {path, digest, size}", what, m["archive"])
			}
			if _, ok := m["size"]; ok {
				t.Errorf("%s: size at the top level (the archive's belongs under archive)", what)
			}
		case "ls", "inspect":
			// size is the manifest's bytes, totalSize the graph's.
			obj := m
			if what == "ls" {
				obj = m["bundles"].([]any)[0].(map[string]any)
			}
			if obj["size"].(float64) >= obj["totalSize"].(float64) {
				t.Errorf("%s: size %v, totalSize %v: want the manifest's bytes and its graph's", what, obj["size"], obj["totalSize"])
			}
		}
	}

	// A failure with --json is one JSON error object, with the exit code
	// of its class, before and after the arguments alike.
	for _, tc := range []struct {
		args  []string
		code  int
		class string
	}{
		{[]string{"inspect", "--json", filepath.Join(work, "nosuch")}, 3, "operational"},
		{[]string{"pack", "-o", lay, "-c", "lz4", "f.txt", "--json"}, 2, "usage"},
		{[]string{"ls", "--json", "--bogus", lay}, 2, "usage"},
	} {
		r := run(t, work, nil, tc.args...)
		m := jsonObject(t, tc.args[0], r.stdout)
		e, _ := m["error"].(map[string]any)
		if r.code != tc.code || e == nil || e["exitCode"] != float64(tc.code) || e["class"] != tc.class || e["message"] == "" {
			t.Errorf("ocibundle %s: exit %d, stdout %s; want exit %d and {\"error\":{message, exitCode %d, class %q}}",
				strings.Join(tc.args, " "), r.code, r.stdout, tc.code, tc.code, tc.class)
		}
	}
}
