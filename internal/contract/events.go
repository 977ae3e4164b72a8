package contract

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/wirejson"
)

// Resources are the wire types events carry, by the resource named in the
// event type (com.gigs.<resource>.<action>).
var Resources = map[string]reflect.Type{
	"porting":            typeOf[switchboard.Porting](),
	"subscription":       typeOf[switchboard.Subscription](),
	"user":               typeOf[switchboard.User](),
	"portOutCredentials": typeOf[switchboard.PortOutCredentials](),
	"apiKey":             typeOf[switchboard.APIKey](),
	"sim":                typeOf[switchboard.Sim](),
}

// resourceOf returns the wire type of an event type's data.
func resourceOf(eventType string) (reflect.Type, error) {
	rest, ok := strings.CutPrefix(eventType, "com.gigs.")
	name, _, ok2 := strings.Cut(rest, ".")
	t, known := Resources[name]
	if !ok || !ok2 || !known {
		return nil, fmt.Errorf("contract: no resource type for event type %q", eventType)
	}
	return t, nil
}

// KnownEventType reports whether the platform emits the event type.
func KnownEventType(t string) bool { return slices.Contains(switchboard.EventTypes, t) }

// envelopeShape is what the version-change chain of internal/eventlog
// leaves of an event in one version: the envelope fields rendered, and the
// data fields the resource's type has that the version drops.
type envelopeShape struct {
	fields  []string
	dropped map[string]bool
}

// probe renders an event with every optional part present (actor,
// previousData on *.updated) through eventlog.Render in the version, and
// reads back which envelope and data fields the chain left: the schemas
// follow the renderer rather than a second description of the versions.
func probe(eventType, version string, resource reflect.Type) (envelopeShape, error) {
	data, err := wirejson.Marshal(reflect.New(resource).Interface())
	if err != nil {
		return envelopeShape{}, fmt.Errorf("contract: probe %s: %w", eventType, err)
	}
	row := store.EventRow{ID: "evt_probe", Project: "probe", Type: eventType, Source: eventlog.DefaultSource,
		Time: time.Unix(0, 0), Data: data, Actor: []byte(`{"type":"system"}`)}
	if strings.HasSuffix(eventType, ".updated") {
		row.PreviousData = []byte(`{}`)
	}
	out, err := eventlog.Render(row, version)
	if err != nil {
		return envelopeShape{}, fmt.Errorf("contract: probe %s in %s: %w", eventType, version, err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(out, &env); err != nil {
		return envelopeShape{}, fmt.Errorf("contract: probe %s in %s: %w", eventType, version, err)
	}
	var before, after map[string]json.RawMessage
	if err := json.Unmarshal(data, &before); err != nil {
		return envelopeShape{}, err
	}
	if err := json.Unmarshal(env["data"], &after); err != nil {
		return envelopeShape{}, fmt.Errorf("contract: probe %s in %s: data: %w", eventType, version, err)
	}
	shape := envelopeShape{dropped: map[string]bool{}}
	for k := range env {
		shape.fields = append(shape.fields, k)
	}
	slices.Sort(shape.fields)
	for k := range before {
		if _, ok := after[k]; !ok {
			shape.dropped[k] = true
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			return envelopeShape{}, fmt.Errorf("contract: %s in %s renders data field %q that %v lacks", eventType, version, k, resource)
		}
	}
	return shape, nil
}

// eventSchema builds the schema of one event type's envelope in a version,
// its data and previousData referring to definitions in g.
func (g *generator) eventSchema(eventType, version string) (Schema, error) {
	resource, err := resourceOf(eventType)
	if err != nil {
		return nil, err
	}
	shape, err := probe(eventType, version, resource)
	if err != nil {
		return nil, err
	}
	data := g.schema(resource, response)
	name := resource.Name()
	nulls := eventNulls[resource]
	if len(shape.dropped) > 0 || len(nulls) > 0 {
		// Events show less than the type: fields the version does not
		// render, secrets that are null in every event.
		variant := name + "InEvents"
		if len(shape.dropped) > 0 {
			variant += "V" + strings.ReplaceAll(version, "-", "")
		}
		def := clone(g.defs[name])
		props := clone(def["properties"].(Schema))
		var req []any
		for _, r := range def["required"].([]any) {
			if !shape.dropped[r.(string)] {
				req = append(req, r)
			}
		}
		for k := range shape.dropped {
			delete(props, k)
		}
		for _, k := range nulls {
			props[k] = Schema{"type": "null", "description": "Always null in events: the secret is shown only once, in the response that issues it."}
		}
		def["properties"], def["required"] = props, req
		g.defs[variant] = def
		name, data = variant, Schema{"$ref": g.refPrefix + variant}
	}
	props := Schema{}
	for _, f := range shape.fields {
		switch f {
		case "object":
			props[f] = Schema{"type": "string", "const": "event"}
		case "id":
			props[f] = eventID.apply(Schema{"type": "string"})
		case "data":
			props[f] = data
		case "actor":
			props[f] = g.schema(typeOf[switchboard.Actor](), response)
		case "datacontenttype":
			props[f] = Schema{"type": "string", "const": "application/json"}
		case "previousData":
			changes := name + "Changes"
			if _, ok := g.defs[changes]; !ok {
				def := clone(g.defs[name])
				delete(def, "required")
				def["description"] = "For every top-level field of data that changed, its value before the change."
				g.defs[changes] = def
			}
			props[f] = Schema{"$ref": g.refPrefix + changes}
		case "project":
			props[f] = Schema{"type": "string", "description": "The project where the event occurred."}
		case "source":
			props[f] = Schema{"type": "string", "format": "uri"}
		case "specversion":
			props[f] = Schema{"type": "string", "const": "1.0"}
		case "time":
			props[f] = Schema{"type": "string", "format": "date-time"}
		case "type":
			props[f] = Schema{"type": "string", "const": eventType}
		case "version":
			props[f] = Schema{"type": "string", "const": version}
		default:
			return nil, fmt.Errorf("contract: %s in %s renders envelope field %q the contract does not know", eventType, version, f)
		}
	}
	return Schema{
		"type": "object", "title": eventType + " (" + version + ")",
		"description": fmt.Sprintf("The %s event, rendered in API version %s.", eventType, version),
		"properties":  props, "required": anys(slices.DeleteFunc(shape.fields, optional)), "additionalProperties": false,
	}, nil
}

// optional reports whether an envelope field may be missing where the
// version renders it: previousData, which the platform's field list does
// not mark required (its example of a *.updated event has none).
func optional(field string) bool { return field == "previousData" }

// eventNulls are the fields of a resource that are null in every event.
var eventNulls = map[reflect.Type][]string{
	typeOf[switchboard.PortOutCredentials](): {"accountPin"},
}

// Draft202012 is the JSON Schema dialect of the event schemas and of
// OpenAPI 3.1.
const Draft202012 = "https://json-schema.org/draft/2020-12/schema"

// SchemaID is the $id of an event type's schema in a version.
func SchemaID(eventType, version string) string {
	return "https://switchboard.dev/schemas/events/" + eventType + "/" + version + ".json"
}

// EventSchema returns the standalone JSON Schema (2020-12) of an event type
// in an API version: the envelope as that version renders it (actor only
// from 2025-05-22, previousData only on *.updated) and its data.
func EventSchema(eventType, version string) (Schema, error) {
	if !KnownEventType(eventType) {
		return nil, fmt.Errorf("contract: unknown event type %q", eventType)
	}
	if !eventlog.Supported(version) {
		return nil, fmt.Errorf("contract: unsupported version %q", version)
	}
	g := newGenerator("#/$defs/")
	s, err := g.eventSchema(eventType, version)
	if err != nil {
		return nil, err
	}
	s["$schema"] = Draft202012
	s["$id"] = SchemaID(eventType, version)
	s["$defs"] = anyDefs(g.defs)
	return s, nil
}

func anyDefs(defs map[string]Schema) Schema {
	out := Schema{}
	for k, v := range defs {
		out[k] = v
	}
	return out
}

// EventSchemas returns every event type's schema in every supported
// version, by version and type.
func EventSchemas() (map[string]map[string]Schema, error) {
	out := map[string]map[string]Schema{}
	for _, v := range switchboard.Versions {
		out[v] = map[string]Schema{}
		for _, t := range switchboard.EventTypes {
			s, err := EventSchema(t, v)
			if err != nil {
				return nil, err
			}
			out[v][t] = s
		}
	}
	return out, nil
}
