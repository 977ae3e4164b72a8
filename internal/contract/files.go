package contract

import (
	"bytes"
	"encoding/json"
	"path"
	"sync"
)

// Encode returns a document as indented JSON, ending in a newline, with
// <, > and & as they are.
func Encode(doc any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Paths of the committed copies, relative to the repository's root.
const (
	OpenAPIFile  = "openapi.json"
	AsyncAPIFile = "asyncapi.json"
	SchemasDir   = "schemas/events"
)

// EventSchemaFile is the committed path of an event type's schema in a
// version.
func EventSchemaFile(eventType, version string) string {
	return path.Join(SchemasDir, version, eventType+".json")
}

// Files returns every published document, encoded, by its path in the
// repository.
func Files() (map[string][]byte, error) {
	files.once.Do(func() { files.m, files.err = build() })
	return files.m, files.err
}

var files struct {
	once sync.Once
	m    map[string][]byte
	err  error
}

func build() (map[string][]byte, error) {
	out := map[string][]byte{}
	put := func(name string, doc any, err error) error {
		if err != nil {
			return err
		}
		b, err := Encode(doc)
		if err != nil {
			return err
		}
		out[name] = b
		return nil
	}
	doc, err := OpenAPI()
	if err := put(OpenAPIFile, doc, err); err != nil {
		return nil, err
	}
	async, err := AsyncAPI()
	if err := put(AsyncAPIFile, async, err); err != nil {
		return nil, err
	}
	all, err := EventSchemas()
	if err != nil {
		return nil, err
	}
	for v, byType := range all {
		for t, s := range byType {
			if err := put(EventSchemaFile(t, v), s, nil); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
