package call

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"balcao/web"
)

// TestNoRecording guards the promise that calls are never recorded: this package
// (like package sfu, whose own test checks it) touches no file, imports no Pion media
// writer, and its only database write is the token secret (chat and call state live
// in memory); the call pages' scripts never use MediaRecorder.
func TestNoRecording(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := []string{"os", "io/ioutil", "path/filepath", "github.com/pion/webrtc/v4/pkg/media"}
	fset := token.NewFileSet()
	statements := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if path == b || strings.HasPrefix(path, b+"/") {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
		// Every statement the package sends the database reads, but for the one that
		// keeps the token secret.
		ast.Inspect(af, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := c.Fun.(*ast.SelectorExpr)
			if !ok || len(c.Args) < 2 || (sel.Sel.Name != "Exec" && sel.Sel.Name != "QueryRow" && sel.Sel.Name != "Query") {
				return true
			}
			statements++
			sql := ""
			if lit, ok := c.Args[1].(*ast.BasicLit); ok {
				sql, _ = strconv.Unquote(lit.Value)
			}
			if !strings.HasPrefix(sql, "SELECT ") && !strings.HasPrefix(sql, "INSERT INTO settings ") {
				t.Errorf("%s: %s sends the database %q", f, fset.Position(c.Pos()), sql)
			}
			return true
		})
	}
	if statements < 3 {
		t.Errorf("found %d database statements: the check has lost track of them", statements)
	}
	scripts, err := fs.Glob(web.FS, "static/*.js")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, name := range scripts {
		b, err := fs.ReadFile(web.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "MediaRecorder") {
			t.Errorf("%s uses MediaRecorder", name)
		}
	}
}
