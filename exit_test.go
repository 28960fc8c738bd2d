package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/ocibundle/ocibundle/compress"
)

// sentinelsInSource finds the exported sentinels of every package of the
// module below root: package-level vars named Err… in non-test files. It
// returns them as "pkg.ErrName", the way exit.go spells them.
func sentinelsInSource(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "e2e" || name == "scripts") {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Dir(path) == root || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil // main's own errors are not exported
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					if strings.HasPrefix(n.Name, "Err") && n.IsExported() {
						out = append(out, f.Name.Name+"."+n.Name)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// sentinelsInTable returns the "pkg.ErrName" selectors that exit.go's
// exitTable lists.
func sentinelsInTable(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "exit.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Names) != 1 || vs.Names[0].Name != "exitTable" {
				continue
			}
			ast.Inspect(vs, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok {
						found[id.Name+"."+sel.Sel.Name] = true
					}
				}
				return true
			})
		}
	}
	if len(found) == 0 {
		t.Fatal("exit.go: no exitTable found")
	}
	return found
}

// TestExitTableClassifiesEverySentinel fails when a package declares an
// exported sentinel that exit.go's table does not classify: a sentinel
// added later must be given its exit class.
func TestExitTableClassifiesEverySentinel(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	all := sentinelsInSource(t, wd)
	if len(all) < 10 {
		t.Fatalf("found only %d sentinels (%v): the source walk is broken", len(all), all)
	}
	table := sentinelsInTable(t)
	for _, s := range all {
		if !table[s] {
			t.Errorf("%s is not in exit.go's exitTable: give it an exit class", s)
		}
	}
}

// TestExitTableCodes checks that each sentinel, wrapped with detail as the
// packages wrap it, gives the code of its row (no row shadows another).
func TestExitTableCodes(t *testing.T) {
	for _, row := range exitTable {
		for _, s := range row.sentinels {
			err := fmt.Errorf("cmd: thing: %w", s)
			if got := exitCode(err); got != row.class.Code {
				t.Errorf("exitCode(%v) = %d, want %d (%s)", err, got, row.class.Code, row.class.Name)
			}
		}
	}
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{usagef("pack: -o LAYOUT is required"), 2},
		{usagef("--level %w", errors.New("bad")), 2},
		{fmt.Errorf("write x: %w", syscall.ENOSPC), 3},
		{fmt.Errorf("open x: %w", fs.ErrPermission), 3},
		{errors.New("anything else"), 3},
		{errInterrupted, 130},
		{fmt.Errorf("pack: %w", compress.ErrAborted), 130},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestUsagefMessage: a usage error reads as its own message, no prefix.
func TestUsagefMessage(t *testing.T) {
	err := usagef("pack: --created %q: want an RFC 3339 time or now", "x")
	if got, want := err.Error(), `pack: --created "x": want an RFC 3339 time or now`; got != want {
		t.Errorf("usagef() = %q, want %q", got, want)
	}
}
