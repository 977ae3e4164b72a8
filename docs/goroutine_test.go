package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFatalFromGoroutines checks every test file for goroutines (go
// statements, WaitGroup.Go, http.HandlerFunc and time.AfterFunc bodies)
// that stop the test: FailNow, Fatal and Skip must run on the test's own
// goroutine. A call that hands the test's t to a helper (helper(t, …)) counts
// too, since helpers fail with Fatal; build what the goroutine needs first,
// or have it return an error.
func TestNoFatalFromGoroutines(t *testing.T) {
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, body := range goroutineBodies(f) {
			ast.Inspect(body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if what := stopsTheTest(call); what != "" {
					p := fset.Position(call.Pos())
					rel, _ := filepath.Rel("..", p.Filename)
					t.Errorf("%s:%d: %s in a goroutine", rel, p.Line, what)
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// goroutineBodies returns the function literals the file runs on goroutines
// of their own.
func goroutineBodies(f *ast.File) []*ast.FuncLit {
	var out []*ast.FuncLit
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			if lit, ok := n.Call.Fun.(*ast.FuncLit); ok {
				out = append(out, lit)
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch sel.Sel.Name {
			case "Go", "HandlerFunc", "AfterFunc":
				for _, a := range n.Args {
					if lit, ok := a.(*ast.FuncLit); ok {
						out = append(out, lit)
					}
				}
			}
		}
		return true
	})
	return out
}

// stopsTheTest names what the call does if it may stop the test: t.Fatal and
// its kin, or a helper handed t.
func stopsTheTest(call *ast.CallExpr) string {
	if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok && (id.Name == "t" || id.Name == "b" || id.Name == "tb") {
			switch sel.Sel.Name {
			case "Fatal", "Fatalf", "FailNow", "Skip", "Skipf", "SkipNow":
				return id.Name + "." + sel.Sel.Name
			}
		}
	}
	if len(call.Args) > 0 {
		if id, ok := call.Args[0].(*ast.Ident); ok && (id.Name == "t" || id.Name == "tb") {
			return "a helper handed " + id.Name
		}
	}
	return ""
}
