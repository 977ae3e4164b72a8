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

// goDirs returns the module's folders that hold Go code (not tests only).
func goDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			if dir := filepath.Dir(path); !seen[dir] {
				seen[dir] = true
				out = append(out, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPackageDocs checks that every package has its doc comment in doc.go,
// and only there, and that every exported name has a doc comment: types,
// functions, methods of exported types, and constants and variables (a
// group's comment counts for its members).
func TestPackageDocs(t *testing.T) {
	for _, dir := range goDirs(t) {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel("..", dir)
		for _, pkg := range pkgs {
			docIn := []string{}
			for name, f := range pkg.Files {
				if ast.IsGenerated(f) {
					continue // generated code follows its generator's conventions
				}
				if f.Doc != nil {
					docIn = append(docIn, filepath.Base(name))
				}
				undocumented(t, fset, f)
			}
			if len(docIn) != 1 || docIn[0] != "doc.go" {
				t.Errorf("%s: the package doc is in %v, want doc.go alone", rel, docIn)
			}
		}
	}
}

func undocumented(t *testing.T, fset *token.FileSet, f *ast.File) {
	t.Helper()
	report := func(pos token.Pos, what string) {
		p := fset.Position(pos)
		rel, _ := filepath.Rel("..", p.Filename)
		t.Errorf("%s:%d: %s has no doc comment", rel, p.Line, what)
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv != nil {
				recv := d.Recv.List[0].Type
				if s, ok := recv.(*ast.StarExpr); ok {
					recv = s.X
				}
				if g, ok := recv.(*ast.IndexExpr); ok {
					recv = g.X
				}
				if id, ok := recv.(*ast.Ident); ok && !id.IsExported() {
					continue // a method of an unexported type
				}
				report(d.Pos(), "method "+d.Name.Name)
				continue
			}
			report(d.Pos(), "func "+d.Name.Name)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						report(s.Pos(), "type "+s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && s.Doc == nil && d.Doc == nil && s.Comment == nil {
							report(n.Pos(), n.Name)
						}
					}
				}
			}
		}
	}
}
