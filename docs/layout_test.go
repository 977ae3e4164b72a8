package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeLayoutNamesEveryPackage checks that the Layout section of the
// README names every folder that holds Go code, and nothing else.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no Layout section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	named := map[string]bool{}
	line := regexp.MustCompile(`(?m)^(\./|[a-z][a-z0-9_/]*/)\s`)
	for _, m := range line.FindAllStringSubmatch(section, -1) {
		named[strings.TrimSuffix(strings.TrimPrefix(m[1], "./"), "/")] = true
	}
	if !strings.Contains(section, "docs/architecture.md") {
		t.Error("the Layout section does not link docs/architecture.md")
	}
	have := map[string]bool{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != ".." && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") {
			dir, _ := filepath.Rel("..", filepath.Dir(path))
			if dir == "." {
				dir = ""
			}
			have[filepath.ToSlash(dir)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range have {
		if !named[dir] {
			t.Errorf("the README's Layout does not name %s/", dir)
		}
	}
	for dir := range named {
		if !have[dir] {
			t.Errorf("the README's Layout names %s/, which holds no Go code", dir)
		}
	}
}
