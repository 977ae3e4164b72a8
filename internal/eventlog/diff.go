package eventlog

import (
	"github.com/switchboard-dev/switchboard/internal/wirejson"

	"bytes"
	"encoding/json"
	"fmt"
)

// member is one top-level field of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// members splits a JSON object into its top-level fields, keeping their order.
func members(obj []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{key: t.(string), value: v})
	}
	return out, nil
}

// Diff returns the shallow diff of two encodings of a resource: for every
// top-level field of after whose value differs in before, before's value (a
// changed nested object whole; null for a field before did not have), in
// after's field order. It returns nil when nothing changed.
func Diff(before, after []byte) (json.RawMessage, error) {
	b, err := members(before)
	if err != nil {
		return nil, fmt.Errorf("before: %w", err)
	}
	a, err := members(after)
	if err != nil {
		return nil, fmt.Errorf("after: %w", err)
	}
	old := make(map[string]json.RawMessage, len(b))
	for _, m := range b {
		old[m.key] = m.value
	}
	var buf bytes.Buffer
	for _, m := range a {
		prev, had := old[m.key]
		if had && bytes.Equal(prev, m.value) {
			continue
		}
		if !had {
			prev = json.RawMessage("null")
		}
		if buf.Len() == 0 {
			buf.WriteByte('{')
		} else {
			buf.WriteByte(',')
		}
		key, _ := wirejson.Marshal(m.key)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(prev)
	}
	if buf.Len() == 0 {
		return nil, nil
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
