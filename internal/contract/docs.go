package contract

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/switchboard-dev/switchboard"
)

//go:embed docs
var docsFS embed.FS

// The API reference page's view of the OpenAPI document.
type (
	docPage struct {
		Title, Version, Description string
		Tags                        []docTag
		Schemas                     []docSchema
		Webhooks                    []docWebhook
		Versions                    []string
		CSS                         template.CSS
	}
	docTag struct {
		Name string
		Ops  []docOp
	}
	docOp struct {
		ID, Method, Path, Summary, Description string
		Public, Operator                       bool
		Params                                 []docField
		Body                                   string
		BodyRequired                           bool
		Responses                              []docResponse
	}
	docResponse struct{ Status, Description, Type string }
	docSchema   struct {
		Name, Description string
		Fields            []docField
	}
	docField struct {
		Name, In, Type, Description, Constraints string
		Required                                 bool
	}
	docWebhook struct{ Type, Schema, Description string }
)

var docsPage struct {
	once sync.Once
	html []byte
	err  error
}

func serveDocs(w http.ResponseWriter, r *http.Request) {
	docsPage.once.Do(func() { docsPage.html, docsPage.err = renderDocs() })
	if docsPage.err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "internalError", "An internal error occurred.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(docsPage.html)
}

// renderDocs renders the API reference from the encoded OpenAPI document,
// the same bytes /openapi.json serves.
func renderDocs() ([]byte, error) {
	fs, err := Files()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(fs[OpenAPIFile], &doc); err != nil {
		return nil, err
	}
	page, err := docView(doc)
	if err != nil {
		return nil, err
	}
	css, err := docsFS.ReadFile("docs/style.css")
	if err != nil {
		return nil, err
	}
	page.CSS = template.CSS(css)
	page.Versions = switchboard.Versions
	tmpl, err := template.New("page.html").Funcs(template.FuncMap{"lower": strings.ToLower}).ParseFS(docsFS, "docs/page.html")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, page); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type obj = map[string]any

func str(m obj, k string) string { s, _ := m[k].(string); return s }

func docView(doc obj) (docPage, error) {
	info, _ := doc["info"].(obj)
	page := docPage{Title: str(info, "title"), Version: str(info, "version"), Description: str(info, "description")}
	components, _ := doc["components"].(obj)
	params, _ := components["parameters"].(obj)
	responses, _ := components["responses"].(obj)
	byTag := map[string]*docTag{}
	var tagOrder []string
	for _, t := range doc["tags"].([]any) {
		name := str(t.(obj), "name")
		tagOrder = append(tagOrder, name)
		byTag[name] = &docTag{Name: name}
	}
	paths, _ := doc["paths"].(obj)
	for _, op := range Operations { // the document's operations, in the table's order
		item, _ := paths[op.Path].(obj)
		o, ok := item[strings.ToLower(op.Method)].(obj)
		if !ok {
			return page, fmt.Errorf("contract: docs: %s %s is not in the document", op.Method, op.Path)
		}
		d := docOp{ID: str(o, "operationId"), Method: op.Method, Path: op.Path, Summary: str(o, "summary"),
			Description: str(o, "description")}
		if sec, ok := o["security"].([]any); ok {
			d.Public = len(sec) == 0
			d.Operator = len(sec) > 0 && sec[0].(obj)["operatorKey"] != nil
		}
		for _, p := range asList(o["parameters"]) {
			po := p.(obj)
			if ref := str(po, "$ref"); ref != "" {
				po, _ = params[strings.TrimPrefix(ref, "#/components/parameters/")].(obj)
			}
			s, _ := po["schema"].(obj)
			req, _ := po["required"].(bool)
			d.Params = append(d.Params, docField{Name: str(po, "name"), In: str(po, "in"), Type: typeText(s),
				Description: str(po, "description"), Constraints: constraints(s), Required: req})
		}
		if rb, ok := o["requestBody"].(obj); ok {
			d.BodyRequired, _ = rb["required"].(bool)
			d.Body = typeText(rb["content"].(obj)["application/json"].(obj)["schema"].(obj))
		}
		codes := sortedKeys(o["responses"].(obj))
		for _, code := range codes {
			r := o["responses"].(obj)[code].(obj)
			if ref := str(r, "$ref"); ref != "" {
				r, _ = responses[strings.TrimPrefix(ref, "#/components/responses/")].(obj)
			}
			resp := docResponse{Status: code, Description: str(r, "description")}
			if c, ok := r["content"].(obj); ok {
				for ct, m := range c {
					if s, ok := m.(obj)["schema"].(obj); ok {
						resp.Type = typeText(s)
						if ct != "application/json" {
							resp.Type += " (" + ct + ")"
						}
					}
				}
			}
			d.Responses = append(d.Responses, resp)
		}
		byTag[op.Tag].Ops = append(byTag[op.Tag].Ops, d)
	}
	for _, name := range tagOrder {
		if t := byTag[name]; len(t.Ops) > 0 {
			page.Tags = append(page.Tags, *t)
		}
	}
	schemas, _ := components["schemas"].(obj)
	for _, name := range sortedKeys(schemas) {
		s := schemas[name].(obj)
		ds := docSchema{Name: name, Description: str(s, "description")}
		props, _ := s["properties"].(obj)
		var required []string
		for _, r := range asList(s["required"]) {
			required = append(required, r.(string))
		}
		for _, p := range sortedKeys(props) {
			ps := props[p].(obj)
			ds.Fields = append(ds.Fields, docField{Name: p, Type: typeText(ps), Description: describe(ps),
				Constraints: constraints(ps), Required: slices.Contains(required, p)})
		}
		page.Schemas = append(page.Schemas, ds)
	}
	hooks, _ := doc["webhooks"].(obj)
	for _, t := range sortedKeys(hooks) {
		post := hooks[t].(obj)["post"].(obj)
		schema := post["requestBody"].(obj)["content"].(obj)["application/json"].(obj)["schema"].(obj)
		page.Webhooks = append(page.Webhooks, docWebhook{Type: t, Schema: refName(str(schema, "$ref")), Description: str(post, "description")})
	}
	return page, nil
}

func asList(v any) []any { l, _ := v.([]any); return l }

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func describe(s obj) string {
	if d := str(s, "description"); d != "" {
		return d
	}
	for _, alt := range asList(s["anyOf"]) {
		if d := str(alt.(obj), "description"); d != "" {
			return d
		}
	}
	return ""
}

// typeText writes a schema's type for people: "string | null",
// "array of Porting", "Address | null".
func typeText(s obj) string {
	if ref := str(s, "$ref"); ref != "" {
		return refName(ref)
	}
	if alts := asList(s["anyOf"]); len(alts) > 0 {
		var parts []string
		for _, a := range alts {
			parts = append(parts, typeText(a.(obj)))
		}
		return strings.Join(parts, " | ")
	}
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, v := range t {
			types = append(types, v.(string))
		}
	}
	for i, t := range types {
		if t == "array" {
			if items, ok := s["items"].(obj); ok {
				types[i] = "array of " + typeText(items)
			}
		}
		if t == "string" && str(s, "format") != "" {
			types[i] = "string (" + str(s, "format") + ")"
		}
	}
	if len(types) == 0 {
		return "any"
	}
	return strings.Join(types, " | ")
}

// constraints writes a schema's enum, const, pattern and bounds.
func constraints(s obj) string {
	if s == nil {
		return ""
	}
	if alts := asList(s["anyOf"]); len(alts) > 0 {
		return constraints(alts[0].(obj))
	}
	var parts []string
	if c, ok := s["const"]; ok {
		parts = append(parts, fmt.Sprintf("always %v", c))
	}
	if e := asList(s["enum"]); len(e) > 0 {
		var vals []string
		for _, v := range e {
			if v == nil {
				vals = append(vals, "null")
			} else {
				vals = append(vals, fmt.Sprint(v))
			}
		}
		parts = append(parts, "one of "+strings.Join(vals, ", "))
	}
	if p := str(s, "pattern"); p != "" {
		parts = append(parts, "pattern "+p)
	}
	if items, ok := s["items"].(obj); ok {
		if c := constraints(items); c != "" {
			parts = append(parts, "items: "+c)
		}
	}
	for _, k := range []string{"minimum", "maximum", "maxLength"} {
		if v, ok := s[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	return strings.Join(parts, "; ")
}
