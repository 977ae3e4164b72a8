package eventlog

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/switchboard-dev/switchboard/internal/wirejson"
)

// member is one top-level field of a JSON object, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// members splits a JSON object into its top-level fields, keeping their
// order; each value is the slice of obj that encodes it. It scans obj
// directly (a json.Decoder's tokens cost ~10× as much, and the diff runs
// inside the write transaction of every *.updated change) after checking
// that obj is valid JSON.
func members(obj []byte) ([]member, error) {
	if !json.Valid(obj) {
		return nil, fmt.Errorf("not valid JSON")
	}
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	i = skipSpace(obj, i+1)
	out := make([]member, 0, 32)
	if obj[i] == '}' {
		return out, nil
	}
	for {
		// Valid JSON: a key string, a colon, a value, then , or }.
		end := skipString(obj, i)
		raw := obj[i:end]
		var key string
		if bytes.IndexByte(raw, '\\') < 0 {
			key = string(raw[1 : len(raw)-1])
		} else if err := json.Unmarshal(raw, &key); err != nil {
			return nil, err
		}
		i = skipSpace(obj, skipSpace(obj, end)+1) // past the colon
		start := i
		i = skipValue(obj, i)
		out = append(out, member{key: key, value: obj[start:i]})
		i = skipSpace(obj, i)
		if obj[i] == '}' {
			return out, nil
		}
		i = skipSpace(obj, i+1) // past the comma
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index just past the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
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
	var buf bytes.Buffer
	for j, m := range a {
		prev, had := lookup(b, j, m.key)
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

// lookup returns the value of key in ms, looking first at index j: two
// encodings of one resource list their fields in the same order.
func lookup(ms []member, j int, key string) (json.RawMessage, bool) {
	if j < len(ms) && ms[j].key == key {
		return ms[j].value, true
	}
	for _, m := range ms {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}
