package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// decode reads a JSON body into v: unknown fields, trailing data, wrong
// types and malformed JSON are errors the caller sees.
func decode(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// readBody reads the request body: one over limits.MaxRequestBody is requestTooLarge
// (413), one that cannot be read malformedBody.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limits.MaxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, failure.New(failure.Invalid, "requestTooLarge", "The request body exceeds %d bytes.", limits.MaxRequestBody)
		}
		return nil, failure.New(failure.Malformed, "malformedBody", "The request body could not be read.")
	}
	return body, nil
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if bytes.Contains(body, []byte(`\u0000`)) {
		// No text field may hold NUL (PostgreSQL cannot store it).
		return failure.New(failure.Invalid, "invalidCharacters", "The request body must not contain NUL characters.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			field := typ.Field
			if field == "" {
				return failure.New(failure.Malformed, "malformedBody", "The request body must be a JSON object.")
			}
			return failure.New(failure.Invalid, "invalidType", "The field %q must be of type %s.", field, typeName(typ.Type.String()))
		case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return failure.New(failure.Malformed, "malformedJson", "The request body is not valid JSON.")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.TrimPrefix(err.Error(), "json: unknown field ")
			return failure.New(failure.Invalid, "unknownField", "The field %s is not known.", name)
		}
		var f *failure.Error
		if errors.As(err, &f) {
			return f
		}
		return failure.New(failure.Invalid, "invalidBody", "The request body is invalid: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return failure.New(failure.Malformed, "malformedJson", "The request body has data after the JSON object.")
	}
	return nil
}

func typeName(goType string) string {
	switch {
	case strings.Contains(goType, "string"):
		return "string"
	case strings.Contains(goType, "bool"):
		return "boolean"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "number"
	case strings.HasPrefix(strings.TrimPrefix(goType, "*"), "[]"):
		return "array"
	}
	return "object"
}

// page reads the pagination parameters of a list request.
func page(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{After: q.Get("after"), Before: q.Get("before"), Limit: 10}
	if p.After != "" && p.Before != "" {
		return p, failure.New(failure.Invalid, "invalidPagination", "Only one of after and before may be given.")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return p, failure.New(failure.Invalid, "invalidLimit", "The limit must be an integer from 1 to 200.")
		}
		p.Limit = n
	}
	return p, nil
}

// list is the platform's list object.
type list struct {
	Object          string  `json:"object"`
	Items           any     `json:"items"`
	MoreItemsAfter  *string `json:"moreItemsAfter"`
	MoreItemsBefore *string `json:"moreItemsBefore"`
}

func newList[T any](items []T, c store.Cursors) list {
	if items == nil {
		items = []T{}
	}
	l := list{Object: "list", Items: items}
	if c.MoreAfter != "" {
		l.MoreItemsAfter = &c.MoreAfter
	}
	if c.MoreBefore != "" {
		l.MoreItemsBefore = &c.MoreBefore
	}
	return l
}

// rawList renders a page of stored JSON documents as a list.
func rawList(items [][]byte, c store.Cursors) list {
	raw := make([]json.RawMessage, len(items))
	for i, b := range items {
		raw[i] = b
	}
	return newList(raw, c)
}

// notFound is the error for an ID that names nothing the caller may see.
func notFound(resource, id string) error {
	return failure.New(failure.NotFound, resource+"NotFound", "The %s %s was not found.", resource, id)
}

// required is the error for a missing field.
func required(field string) error {
	return failure.New(failure.Invalid, "fieldRequired", "The field %s is required.", field)
}
