package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// declared is what the module declares, by package name: its functions,
// types and package-level values, and each type's methods and fields.
type declared struct {
	top     map[string]map[string]bool            // package → name
	members map[string]map[string]map[string]bool // package → type → method or field
}

func declarations(t *testing.T) declared {
	t.Helper()
	d := declared{top: map[string]map[string]bool{}, members: map[string]map[string]map[string]bool{}}
	member := func(pkg, typ, name string) {
		if d.members[pkg] == nil {
			d.members[pkg] = map[string]map[string]bool{}
		}
		if d.members[pkg][typ] == nil {
			d.members[pkg][typ] = map[string]bool{}
		}
		d.members[pkg][typ][name] = true
	}
	for _, dir := range goDirs(t) {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range pkgs {
			if d.top[name] == nil {
				d.top[name] = map[string]bool{}
			}
			for _, f := range p.Files {
				for _, decl := range f.Decls {
					switch x := decl.(type) {
					case *ast.FuncDecl:
						if x.Recv == nil {
							d.top[name][x.Name.Name] = true
							continue
						}
						recv := x.Recv.List[0].Type
						if s, ok := recv.(*ast.StarExpr); ok {
							recv = s.X
						}
						if id, ok := recv.(*ast.Ident); ok {
							member(name, id.Name, x.Name.Name)
						}
					case *ast.GenDecl:
						for _, spec := range x.Specs {
							switch s := spec.(type) {
							case *ast.TypeSpec:
								d.top[name][s.Name.Name] = true
								if st, ok := s.Type.(*ast.StructType); ok {
									for _, fl := range st.Fields.List {
										for _, n := range fl.Names {
											member(name, s.Name.Name, n.Name)
										}
									}
								}
							case *ast.ValueSpec:
								for _, n := range s.Names {
									d.top[name][n.Name] = true
								}
							}
						}
					}
				}
			}
		}
	}
	return d
}

// exists reports whether a dotted name names a declaration: pkg.Type.member,
// pkg.name, or Type.member of any package.
func (d declared) exists(name string) bool {
	parts := strings.Split(name, ".")
	switch len(parts) {
	case 3:
		return d.members[parts[0]][parts[1]][parts[2]]
	case 2:
		if d.top[parts[0]][parts[1]] {
			return true
		}
		for _, types := range d.members {
			if types[parts[0]][parts[1]] {
				return true
			}
		}
	}
	return false
}

// TestSequenceNamesExist checks that every dotted name in architecture.md's
// sequence diagram names a function, method, type, field or value the code
// declares, so that the path it draws cannot silently go stale.
func TestSequenceNamesExist(t *testing.T) {
	b, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, diagram, ok := strings.Cut(string(b), "```mermaid\nsequenceDiagram\n")
	if !ok {
		t.Fatal("architecture.md has no sequence diagram")
	}
	diagram, _, _ = strings.Cut(diagram, "```")
	d := declarations(t)
	names := regexp.MustCompile(`\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b`).FindAllString(diagram, -1)
	if len(names) < 30 {
		t.Fatalf("found only %d dotted names in the sequence diagram", len(names))
	}
	for _, n := range names {
		if !d.exists(n) {
			t.Errorf("the sequence diagram names %s, which the code does not declare", n)
		}
	}
	if d.exists("store.Store.noSuchMethod") || d.exists("nosuchpkg.Func") {
		t.Error("exists accepts names the code does not declare")
	}
}
