package contract

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/api"
)

// OpenAPIVersion is the version of the OpenAPI specification the document
// follows.
const OpenAPIVersion = "3.1.0"

var pathParam = regexp.MustCompile(`\{([a-zA-Z]+)\}`)

// EventSchemaName is the component name of an event type's schema
// (com.gigs.porting.canceled → PortingCanceledEvent).
func EventSchemaName(eventType string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimPrefix(eventType, "com.gigs."), ".") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Event"
}

// errorStatuses returns the error statuses an operation can answer, from
// what it takes: a key (401; 403 for the operator's), a path naming
// something (404; 422 for an overlong ID), a body (400, 413, 422),
// pagination or a version (422), invalid encodings (400), rate limits (429),
// POST's idempotency key (409), and the store (500, 503).
func errorStatuses(op Operation) []int {
	var out []int
	add := func(s ...int) {
		for _, v := range s {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	add(op.Errors...)
	if op.Auth == Public {
		slices.Sort(out)
		return out
	}
	// Every authenticated request: a path, query or header that is not
	// valid UTF-8 (400 invalidEncoding), a key or client address over its
	// rate limit (429).
	add(http.StatusBadRequest, http.StatusUnauthorized, http.StatusTooManyRequests)
	if op.Auth == OperatorKey {
		add(http.StatusForbidden)
	}
	if op.Simulator {
		add(http.StatusForbidden) // testModeOnly
	}
	if strings.Contains(op.Path, "{") {
		add(http.StatusNotFound, http.StatusUnprocessableEntity) // 422: an ID longer than IDs are
	}
	if op.Request != nil {
		add(http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	}
	if op.List || len(op.Query) > 0 {
		add(http.StatusUnprocessableEntity)
	}
	if op.Method == http.MethodPost || op.Conflict {
		add(http.StatusConflict)
	}
	if op.Method == http.MethodPost {
		// An idempotency key too long; a body too large to keep for it.
		// A body, even where none is expected, is read: 400 when it is not
		// JSON.
		add(http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge)
	}
	add(http.StatusInternalServerError, http.StatusServiceUnavailable)
	slices.Sort(out)
	return out
}

var errorDescriptions = map[int]string{
	400: "Malformed: the body is not JSON, or not an object; or the path, a query value or a header is not valid UTF-8 (invalidEncoding).",
	401: "Unauthenticated: no API key, or not a valid one.",
	403: "Permission denied: the operator key is required (operatorKeyRequired), or the project is live and the route is for test projects (testModeOnly).",
	404: "Not found: the project is not the key's, or the resource does not exist.",
	409: "Conflict: the resource's state does not allow it, or the idempotency key was used with another request, is in progress, or its response showed a secret.",
	413: "The request body is too large (requestTooLarge).",
	422: "Invalid: a field, parameter or value is invalid.",
	429: "Too many requests: slow down, obeying Retry-After.",
	500: "Internal error.",
	501: "Not implemented.",
	503: "Unavailable: retry after Retry-After.",
}

// OpenAPI returns the OpenAPI 3.1 document of the server's routes and
// webhooks.
func OpenAPI() (Schema, error) {
	g := newGenerator("#/components/schemas/")
	g.schema(typeOf[api.ErrorObject](), response)

	// The envelope of any event in any version.
	// The resources events carry: those of the types the platform emits.
	var resources []any
	for _, name := range sortedKeys(Resources) {
		for _, t := range switchboard.EventTypes {
			if r, err := resourceOf(t); err == nil && r == Resources[name] {
				resources = append(resources, g.schema(r, response))
				break
			}
		}
	}
	event := g.object(typeOf[switchboard.Event](), response)
	props := event["properties"].(Schema)
	props["data"] = Schema{"anyOf": resources, "description": "The resource the event is about, as it is after the change."}
	props["previousData"] = Schema{"type": "object", "description": "Only on *.updated events: for every top-level field of data that changed, its value before the change."}
	props["actor"] = Schema{"$ref": g.refPrefix + "Actor", "description": "Who caused the change; from version 2025-05-22 on."}
	g.schema(typeOf[switchboard.Actor](), response)
	g.defs["Event"] = event

	paths := Schema{}
	for _, op := range Operations {
		item, _ := paths[op.Path].(Schema)
		if item == nil {
			item = Schema{}
			paths[op.Path] = item
		}
		o, err := g.operation(op)
		if err != nil {
			return nil, err
		}
		item[strings.ToLower(op.Method)] = o
	}

	webhooks := Schema{}
	for _, t := range switchboard.EventTypes {
		s, err := g.eventSchema(t, switchboard.LatestVersion)
		if err != nil {
			return nil, err
		}
		name := EventSchemaName(t)
		g.defs[name] = s
		webhooks[t] = Schema{"post": Schema{
			"operationId": "on" + name,
			"summary":     t,
			"description": fmt.Sprintf("Delivered to the webhook endpoints that enabled %s, rendered in the endpoint's version "+
				"(the schema shows %s; /schemas/events/%s?version=… gives every version), signed per Standard Webhooks.",
				t, switchboard.LatestVersion, t),
			"tags":       []any{"Webhooks"},
			"parameters": webhookHeaders(),
			"requestBody": Schema{"required": true, "content": Schema{"application/json": Schema{
				"schema": Schema{"$ref": g.refPrefix + name}}}},
			"responses": Schema{
				"2XX": Schema{"description": "Acknowledged: the delivery succeeded."},
				"410": Schema{"description": "Gone: the endpoint is disabled at once."},
				"429": Schema{"description": "Slow down: retried later, obeying Retry-After (up to an hour)."},
			},
		}}
	}

	responses := Schema{}
	for code, d := range errorDescriptions {
		r := Schema{"description": d, "content": Schema{"application/json": Schema{"schema": Schema{"$ref": g.refPrefix + "Error"}}}}
		if code == 429 || code == 503 {
			r["headers"] = Schema{"Retry-After": Schema{"description": "Seconds to wait before retrying.", "schema": Schema{"type": "integer"}}}
		}
		responses["Error"+strconv.Itoa(code)] = r
	}

	return Schema{
		"openapi": OpenAPIVersion,
		"info": Schema{
			"title":   "Switchboard API",
			"version": switchboard.LatestVersion,
			"description": "Switchboard is an open implementation of a mobile connectivity platform's event system, " +
				"in the conventions of the Gigs API: users, plans, SIMs, subscriptions, number portings and port-out " +
				"credentials, every change recorded as a CloudEvents event and delivered to webhook endpoints " +
				"signed per Standard Webhooks. Lists are newest first and take after or before (an ID) and limit " +
				"(1–200). Errors are the error object and change nothing. Every POST takes an Idempotency-Key.",
		},
		"servers":  []any{Schema{"url": "http://127.0.0.1:8080", "description": "switchboard serve"}},
		"security": []any{Schema{"bearerAuth": []any{}}},
		"tags":     tags(),
		"paths":    paths,
		"webhooks": webhooks,
		"components": Schema{
			"schemas": anyDefs(g.defs),
			"securitySchemes": Schema{
				"bearerAuth": Schema{"type": "http", "scheme": "bearer",
					"description": "A project's API key, Authorization: Bearer <key>, which sees its own project only; or the operator key, which sees every project."},
				"operatorKey": Schema{"type": "http", "scheme": "bearer",
					"description": "The operator key (SWITCHBOARD_ADMIN_KEY): Authorization: Bearer <key>."},
			},
			"parameters": Schema{
				"ProjectID": Schema{"name": "project", "in": "path", "required": true, "description": "The project's ID.", "schema": Schema{"type": "string"}},
				"after":     Schema{"name": "after", "in": "query", "description": "Answer the items after this ID (exclusive); not with before.", "schema": Schema{"type": "string"}},
				"before":    Schema{"name": "before", "in": "query", "description": "Answer the items before this ID (exclusive); not with after.", "schema": Schema{"type": "string"}},
				"limit": Schema{"name": "limit", "in": "query", "description": "How many items to answer, 1 to 200; 10 when absent.",
					"schema": Schema{"type": "integer", "minimum": 1, "maximum": 200, "default": 10}},
				"IdempotencyKey": Schema{"name": "Idempotency-Key", "in": "header",
					"description": "Makes the POST safe to retry: a retry with the same key and body gets the first response and changes nothing; another body gets 409 idempotencyKeyReused.",
					"schema":      Schema{"type": "string", "maxLength": 255}},
			},
			"responses": responses,
		},
	}, nil
}

func webhookHeaders() []any {
	return []any{
		Schema{"name": "webhook-id", "in": "header", "required": true, "description": "The event's ID: the same on every retry; de-duplicate on it.", "schema": eventID.apply(Schema{"type": "string"})},
		Schema{"name": "webhook-timestamp", "in": "header", "required": true, "description": "Unix seconds; reject values more than 5 minutes off.", "schema": Schema{"type": "string", "pattern": "^[0-9]+$"}},
		Schema{"name": "webhook-signature", "in": "header", "required": true, "description": "Space-separated v1,<base64 HMAC-SHA256> over <webhook-id>.<webhook-timestamp>.<body>.", "schema": Schema{"type": "string"}},
	}
}

func tags() []any {
	var out []any
	var seen []string
	for _, op := range Operations {
		if !slices.Contains(seen, op.Tag) {
			seen = append(seen, op.Tag)
			out = append(out, Schema{"name": op.Tag})
		}
	}
	return append(out, Schema{"name": "Webhooks", "description": "The events delivered to webhook endpoints."})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// operation builds the OpenAPI operation object of op.
func (g *generator) operation(op Operation) (Schema, error) {
	o := Schema{"operationId": op.ID, "summary": op.Summary, "tags": []any{op.Tag}}
	desc := op.Description
	if op.Simulator {
		desc = strings.TrimSpace(desc + " For test projects only: a live project answers 403 testModeOnly.")
	}
	if op.ShowsSecret {
		desc = strings.TrimSpace(desc + " A retry with the same Idempotency-Key answers 409 idempotentSecretNotReplayed: secrets are shown once.")
	}
	if desc != "" {
		o["description"] = desc
	}
	switch op.Auth {
	case Public:
		o["security"] = []any{}
	case OperatorKey:
		o["security"] = []any{Schema{"operatorKey": []any{}}}
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(op.Path, -1) {
		switch m[1] {
		case "project":
			params = append(params, Schema{"$ref": "#/components/parameters/ProjectID"})
		case "type":
			params = append(params, Schema{"name": m[1], "in": "path", "required": true,
				"description": "An event type, e.g. com.gigs.porting.declined.", "schema": Schema{"type": "string"}})
		default:
			params = append(params, Schema{"name": m[1], "in": "path", "required": true,
				"description": "The resource's ID.", "schema": Schema{"type": "string"}})
		}
	}
	if op.List {
		for _, p := range []string{"after", "before", "limit"} {
			params = append(params, Schema{"$ref": "#/components/parameters/" + p})
		}
	}
	for _, q := range op.Query {
		p := Schema{"name": q.Name, "in": "query", "schema": q.Schema}
		if q.Description != "" {
			p["description"] = q.Description
		}
		params = append(params, p)
	}
	if op.Method == http.MethodPost && op.Auth == ProjectKey {
		params = append(params, Schema{"$ref": "#/components/parameters/IdempotencyKey"})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.Request != nil {
		g.rename[op.Request] = requestName(op)
		s := g.schema(op.Request, request)
		required := false
		if def, ok := g.defs[g.nameOf(op.Request, request)]; ok {
			_, required = def["required"]
		}
		o["requestBody"] = Schema{"required": required, "content": Schema{"application/json": Schema{"schema": s}}}
	}

	status := op.Status
	if status == 0 {
		status = http.StatusOK
	}
	ok := Schema{"description": op.Summary}
	switch {
	case status == http.StatusSeeOther:
	case op.Content != "" && op.ResponseSchema == "":
		ok["content"] = Schema{op.Content: Schema{"schema": Schema{"type": "string"}}}
	case op.ResponseSchema == "-object":
		ct := op.Content
		if ct == "" {
			ct = "application/json"
		}
		ok["content"] = Schema{ct: Schema{"schema": Schema{"type": "object"}}}
	default:
		var item Schema
		var name string
		if op.ResponseSchema != "" {
			name, item = op.ResponseSchema, Schema{"$ref": g.refPrefix + op.ResponseSchema}
		} else if op.Response != nil {
			item = g.schema(op.Response, response)
			name = g.nameOf(op.Response, response)
		} else {
			return nil, fmt.Errorf("contract: operation %s has no response", op.ID)
		}
		body := item
		if op.List {
			body = g.list(name, item)
		}
		ok["content"] = Schema{"application/json": Schema{"schema": body}}
	}
	if op.Method == http.MethodPost && op.Auth == ProjectKey {
		ok["headers"] = Schema{"Idempotent-Replayed": Schema{"description": "true when the response is a replay of an idempotent request's first response.",
			"schema": Schema{"type": "string", "enum": []any{"true"}}}}
	}
	responses := Schema{strconv.Itoa(status): ok}
	if op.Redirects {
		responses["303"] = Schema{"description": "See Other: where to go (the dashboard, or its sign-in page).",
			"headers": Schema{"Location": Schema{"required": true, "schema": Schema{"type": "string"}}},
			"content": Schema{"text/html": Schema{"schema": Schema{"type": "string"}}}}
	}
	for _, code := range errorStatuses(op) {
		if op.Auth == Public && op.Content == "text/plain" {
			responses[strconv.Itoa(code)] = Schema{"description": errorDescriptions[code], "content": Schema{"text/plain": Schema{"schema": Schema{"type": "string"}}}}
			continue
		}
		responses[strconv.Itoa(code)] = Schema{"$ref": "#/components/responses/Error" + strconv.Itoa(code)}
	}
	o["responses"] = responses
	return o, nil
}

// list returns a reference to the list envelope of the items.
func (g *generator) list(name string, item Schema) Schema {
	listName := name + "List"
	if _, ok := g.defs[listName]; !ok {
		cursor := Schema{"type": []any{"string", "null"}}
		g.defs[listName] = Schema{
			"type": "object", "additionalProperties": false,
			"description": "A page of " + name + " items, newest first.",
			"properties": Schema{
				"object":          Schema{"type": "string", "const": "list"},
				"items":           Schema{"type": "array", "items": item},
				"moreItemsAfter":  clone(cursor),
				"moreItemsBefore": clone(cursor),
			},
			"required": []any{"object", "items", "moreItemsAfter", "moreItemsBefore"},
		}
	}
	return Schema{"$ref": g.refPrefix + listName}
}

// requestName names an operation's request body schema: createPorting →
// CreatePortingRequest.
func requestName(op Operation) string { return strings.ToUpper(op.ID[:1]) + op.ID[1:] + "Request" }
