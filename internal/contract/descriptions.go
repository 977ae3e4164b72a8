package contract

import (
	_ "embed"
	"encoding/json"
	"reflect"
	"strings"
)

// descriptionsJSON holds the Go doc comments of the wire types and their
// fields, extracted from the source (go test ./internal/contract -update
// rewrites it; a test fails while it is stale), so that the documents
// describe the fields as the code does.
//
//go:embed descriptions.json
var descriptionsJSON []byte

// descriptions are the doc comments by "<package path>.<Type>" and
// "<package path>.<Type>.<Field>".
var descriptions = func() map[string]string {
	m := map[string]string{}
	if err := json.Unmarshal(descriptionsJSON, &m); err != nil {
		panic("contract: descriptions.json: " + err.Error())
	}
	return m
}()

// typeKey names a type in descriptions.
func typeKey(t reflect.Type) string { return t.PkgPath() + "." + genericBase(t.Name()) }

// genericBase strips type arguments: Nullable[string] → Nullable.
func genericBase(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		return name[:i]
	}
	return name
}

// docText turns a doc comment into one paragraph of prose.
func docText(s string) string { return strings.Join(strings.Fields(s), " ") }
