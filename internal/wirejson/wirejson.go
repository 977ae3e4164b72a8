// Package wirejson encodes JSON as the platform's wire format has it: like
// encoding/json, but without escaping <, > and & (a carrier named "AT&T"
// stays "AT&T").
package wirejson

import (
	"bytes"
	"encoding/json"
)

// Marshal returns the wire encoding of v.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
