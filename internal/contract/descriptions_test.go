package contract

import (
	"bytes"
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/api"
)

// updating reports whether the test runs with -update (the flag is the
// external test package's).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// module is the module path; the repository's root is two levels up.
const module = "github.com/switchboard-dev/switchboard"

// TestDescriptionsCurrent extracts the doc comments of every wire type the
// documents use, and of their fields, from the Go source, and compares them
// with descriptions.json (rewritten with -update).
func TestDescriptionsCurrent(t *testing.T) {
	g := newGenerator("#/")
	for _, op := range Operations {
		if op.Request != nil {
			g.rename[op.Request] = requestName(op)
			g.schema(op.Request, request)
		}
		if op.Response != nil {
			g.schema(op.Response, response)
		}
	}
	for _, r := range Resources {
		g.schema(r, response)
	}
	for _, typ := range []reflect.Type{typeOf[switchboard.Event](), typeOf[switchboard.Actor](), typeOf[api.ErrorObject]()} {
		g.schema(typ, response)
	}

	want := map[string]string{}
	parsed := map[string][]*ast.File{}
	for typ := range g.visited {
		dir := filepath.Join("..", "..", strings.TrimPrefix(strings.TrimPrefix(typ.PkgPath(), module), "/"))
		files, ok := parsed[dir]
		if !ok {
			files = parseDir(t, dir)
			parsed[dir] = files
		}
		spec, decl := findType(files, genericBase(typ.Name()))
		if spec == nil {
			t.Errorf("no declaration of %v in %s", typ, dir)
			continue
		}
		doc := spec.Doc
		if doc == nil && len(decl.Specs) == 1 {
			doc = decl.Doc
		}
		if doc != nil {
			want[typeKey(typ)] = typeProse(spec.Name.Name, docText(doc.Text()))
		}
		st, ok := spec.Type.(*ast.StructType)
		if !ok {
			continue
		}
		for _, f := range st.Fields.List {
			text := f.Doc.Text()
			if text == "" {
				text = f.Comment.Text()
			}
			for _, name := range f.Names {
				if text != "" && name.IsExported() {
					want[typeKey(typ)+"."+name.Name] = fieldProse(name.Name, jsonName(f), docText(text))
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(want); err != nil {
		t.Fatal(err)
	}
	if updating() {
		if err := os.WriteFile("descriptions.json", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(buf.Bytes(), descriptionsJSON) {
		t.Errorf("descriptions.json is stale: run go test ./internal/contract -update (twice: the documents use it)")
	}
}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func findType(files []*ast.File, name string) (*ast.TypeSpec, *ast.GenDecl) {
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				if ts := s.(*ast.TypeSpec); ts.Name.Name == name {
					return ts, gd
				}
			}
		}
	}
	return nil, nil
}

// typeProse words a type's doc for the documents: an unexported Go name
// does not show ("endpointObject is a webhook endpoint" → "A webhook
// endpoint").
func typeProse(name, doc string) string {
	if ast.IsExported(name) {
		return doc
	}
	if rest, ok := strings.CutPrefix(doc, name+" is "); ok {
		return strings.ToUpper(rest[:1]) + rest[1:]
	}
	if rest, ok := strings.CutPrefix(doc, name+" "); ok {
		return "This " + rest
	}
	return doc
}

// fieldProse names the field by its JSON name where the doc begins with
// its Go name.
func fieldProse(goName, jsonName, doc string) string {
	if rest, ok := strings.CutPrefix(doc, goName+" "); ok && jsonName != "" {
		return jsonName + " " + rest
	}
	return doc
}

func jsonName(f *ast.Field) string {
	if f.Tag == nil {
		return ""
	}
	tag := reflect.StructTag(strings.Trim(f.Tag.Value, "`"))
	name, _, _ := strings.Cut(tag.Get("json"), ",")
	return name
}
