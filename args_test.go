package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeArgs(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ in, want string }{
		{"verify L:v1 --deep", "verify --deep -- L:v1"},
		{"export -o x.tar L:v1 --split 1G", "export -o x.tar --split 1G -- L:v1"},
		{"import -o S X.tar.sha256 --force", "import -o S --force -- X.tar.sha256"},
		{"pull REG/R:v1 -o DIR", "pull -o DIR -- REG/R:v1"},
		{"pack -t -a f", "pack -t -a -- f"}, // -t takes a value, even one with a dash
		{"pack f --level=best -q", "-q pack --level=best -- f"},
		{"-q --progress never ls L", "-q --progress never ls -- L"},
		{"ls L --progress=always", "--progress=always ls -- L"},
		{"ls -- -L --json", "ls -- -L --json"}, // -- ends flags
		{"verify - --json", "verify --json -- -"},
		{"files -:v1 --json", "files --json -- -:v1"}, // a bundle of standard input's archive
		{"extract -@sha256:ab -o out", "extract -o out -- -@sha256:ab"},
		{"ls --bogus L", "ls --bogus -- L"}, // urfave/cli reports it
		{"pack --help", "pack --help"},
		{"nosuch --json", "nosuch --json"}, // not a command: untouched
		{"--progress", "--progress"},
		// A completion request: the command and the flag, nothing else.
		{"verify L:v1 --de --generate-bash-completion", "verify --generate-bash-completion"},
		{"-q pack -o L -- f --generate-bash-completion", "pack --generate-bash-completion"},
		{"--progress --generate-bash-completion", "--generate-bash-completion"},
		{"nosuch x --generate-bash-completion", "--generate-bash-completion"},
	} {
		got := normalizeArgs(app, append([]string{"ocibundle"}, strings.Fields(tc.in)...))
		want := append([]string{"ocibundle"}, strings.Fields(tc.want)...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tc.in, strings.Join(got[1:], " "), tc.want)
		}
	}
}

func TestWantJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"ls --json -- L", true},
		{"ls --json=false -- L", false},
		{"ls -- --json", false},
		{"ls L", false},
	} {
		if got := wantJSON(append([]string{"ocibundle"}, strings.Fields(tc.in)...)); got != tc.want {
			t.Errorf("wantJSON(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
