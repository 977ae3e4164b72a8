package dashboard

import (
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			if t.IsZero() {
				return "–"
			}
			return t.UTC().Format("2006-01-02 15:04:05")
		case *time.Time:
			if t == nil {
				return "–"
			}
			return t.UTC().Format("2006-01-02 15:04:05")
		case string:
			if tt, err := time.Parse(time.RFC3339, t); err == nil {
				return tt.UTC().Format("2006-01-02 15:04:05")
			}
			return t
		}
		return "–"
	},
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join": strings.Join,
	"path": url.PathEscape,
	"deref": func(p any) string {
		switch p := p.(type) {
		case *string:
			if p != nil {
				return *p
			}
		case *int:
			if p != nil {
				return fmt.Sprint(*p)
			}
		}
		return ""
	},
	"f1": func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"str": func(v any) string {
		if v == nil {
			return "–"
		}
		return fmt.Sprint(v)
	},
	"checked":  func(f url.Values, k string) bool { return f.Get(k) == "on" },
	"selected": func(a, b string) bool { return a == b },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	"add":  func(a, b int) int { return a + b },
	"add2": func(a, b float64) float64 { return a + b },
	"sub":  func(a, b float64) float64 { return a - b },
}

// parsePages parses each page with the layout.
func parsePages() map[string]*template.Template {
	layout := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/*.tmpl"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return pages
}
