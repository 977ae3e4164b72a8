package docs

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/switchboard-dev/switchboard"

// layers parses the table of architecture.md's "The packages, by layer":
// each package's row, 0 for the top row.
func layers(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## The packages, by layer\n")
	if !ok {
		t.Fatal("architecture.md has no section The packages, by layer")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	name := regexp.MustCompile("`([a-z][a-z0-9/]*)`")
	out := map[string]int{}
	row := 0
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "layer" {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[2], -1) {
			pkg := m[1]
			if pkg == "switchboard" {
				pkg = "" // the root
			}
			if _, dup := out[pkg]; dup {
				t.Errorf("architecture.md places %s twice", m[1])
			}
			out[pkg] = row
		}
		row++
	}
	return out
}

// TestLayers checks that every package is in the layer table and imports
// no package of a row above its own.
func TestLayers(t *testing.T) {
	layer := layers(t)
	show := func(p string) string {
		if p == "" {
			return "switchboard (the root)"
		}
		return p
	}
	for _, dir := range goDirs(t) {
		rel, _ := filepath.Rel("..", dir)
		pkg := filepath.ToSlash(rel)
		if pkg == "." {
			pkg = ""
		}
		own, ok := layer[pkg]
		if !ok {
			t.Errorf("architecture.md's layer table does not place %s", show(pkg))
			continue
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkgs {
			for _, f := range p.Files {
				for _, imp := range f.Imports {
					path, _ := strconv.Unquote(imp.Path.Value)
					if path != module && !strings.HasPrefix(path, module+"/") {
						continue
					}
					dep := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
					if l, ok := layer[dep]; ok && l < own {
						t.Errorf("%s imports %s, a layer above it", show(pkg), show(dep))
					}
				}
			}
		}
	}
}
