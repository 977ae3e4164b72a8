package contract

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Schema is a JSON Schema (2020-12, as OpenAPI 3.1 uses it), kept as a map
// so that it encodes with sorted keys: the generated documents are stable.
type Schema = map[string]any

// mode says how a Go type reads: as a response the platform writes, where a
// field is required unless tagged omitempty and a pointer may be null; or
// as a request body, where a field is required only when annotated so.
type mode int

const (
	response mode = iota
	request
)

// generator turns Go types into schemas; named struct types become
// definitions referenced by refPrefix + name.
type generator struct {
	refPrefix string
	defs      map[string]Schema
	named     map[string]reflect.Type
	// rename gives explicit names to types whose Go name is ambiguous
	// (porting.CreateParams and subscription.CreateParams).
	rename map[reflect.Type]string
	// visited are the struct types whose fields were described.
	visited map[reflect.Type]bool
}

func newGenerator(refPrefix string) *generator {
	return &generator{refPrefix: refPrefix, defs: map[string]Schema{}, named: map[string]reflect.Type{},
		rename: map[reflect.Type]string{}, visited: map[reflect.Type]bool{}}
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// nullable returns s that also admits null.
func nullable(s Schema) Schema {
	if t, ok := s["type"].(string); ok && len(s) > 0 {
		if _, hasEnum := s["enum"]; !hasEnum {
			out := clone(s)
			out["type"] = []any{t, "null"}
			return out
		}
	}
	return Schema{"anyOf": []any{s, Schema{"type": "null"}}}
}

func clone(s Schema) Schema {
	out := make(Schema, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// schema returns the schema of t: a reference for a named struct, inline for
// anything else.
func (g *generator) schema(t reflect.Type, m mode) Schema {
	switch {
	case t == timeType:
		return Schema{"type": "string", "format": "date-time"}
	case t == rawType:
		return Schema{}
	case isNullableWrapper(t):
		return nullable(g.schema(t.Field(1).Type.Elem(), m))
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem(), m))
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.Slice, reflect.Array:
		return Schema{"type": "array", "items": g.schema(t.Elem(), m)}
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": g.schema(t.Elem(), m)}
	case reflect.Interface:
		return Schema{}
	case reflect.Struct:
		name := g.nameOf(t, m)
		if name == "" {
			return g.object(t, m)
		}
		if prev, ok := g.named[name]; ok && prev != t {
			panic(fmt.Sprintf("contract: two types are named %s: %v and %v", name, prev, t))
		}
		if _, ok := g.defs[name]; !ok {
			g.named[name] = t
			g.defs[name] = Schema{} // a placeholder for recursive types
			g.defs[name] = g.object(t, m)
		}
		return Schema{"$ref": g.refPrefix + name}
	}
	panic(fmt.Sprintf("contract: no schema for %v", t))
}

// isNullableWrapper reports whether t is a PATCH field that may be absent,
// null or a value, like endpoint.Nullable[T]: a struct {Set bool; Value *T}
// with its own JSON decoding.
func isNullableWrapper(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() == 2 && t.Field(0).Name == "Set" &&
		t.Field(1).Name == "Value" && t.Field(1).Type.Kind() == reflect.Pointer
}

func (g *generator) nameOf(t reflect.Type, m mode) string {
	if n, ok := g.rename[t]; ok {
		return n
	}
	if n, ok := publicNames[t]; ok {
		return n
	}
	name := t.Name()
	if name == "" {
		return ""
	}
	if name[0] < 'A' || name[0] > 'Z' {
		panic(fmt.Sprintf("contract: the unexported type %v needs a name in publicNames", t))
	}
	if m == request {
		name += "Input"
	}
	return name
}

// object builds the schema of a struct's JSON object: its fields in order,
// embedded structs flattened, annotations applied.
func (g *generator) object(t reflect.Type, m mode) Schema {
	props := Schema{}
	var required []any
	outer := annotations[t]
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		notes := annotations[t]
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			n, noted := outer[name]
			if !noted {
				n, noted = notes[name]
			}
			ft := f.Type
			if m == request && n.required && ft.Kind() == reflect.Pointer {
				ft = ft.Elem() // a required field may not be null
			}
			s := g.schema(ft, m)
			if noted {
				s = n.apply(s)
			}
			g.visited[t] = true
			if d := descriptions[typeKey(t)+"."+f.Name]; d != "" && n.description == "" {
				s = withDescription(s, d)
			}
			props[name] = s
			omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
			if m == response && !omit || m == request && n.required {
				required = append(required, name)
			}
		}
	}
	walk(t)
	for name := range outer {
		if _, ok := props[name]; !ok && name != "" {
			panic(fmt.Sprintf("contract: annotation of %v.%s names no field", t, name))
		}
	}
	s := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	if n, ok := outer[""]; ok && n.description != "" {
		s["description"] = n.description
	} else if d := descriptions[typeKey(t)]; d != "" {
		s["description"] = d
	}
	return s
}

// withDescription returns s described (beside a $ref too: JSON Schema
// 2020-12, and so OpenAPI 3.1, allows it).
func withDescription(s Schema, d string) Schema {
	out := clone(s)
	out["description"] = d
	return out
}
