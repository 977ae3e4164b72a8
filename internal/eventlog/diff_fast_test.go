package eventlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// membersByDecoder is the json.Decoder implementation members replaced,
// kept as the reference it must agree with.
func membersByDecoder(obj []byte) ([]member, error) {
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

func TestMembersAgreesWithDecoder(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty", `{}`, true},
		{"empty with spaces", ` { } `, true},
		{"flat", `{"a":1,"b":"x","c":null,"d":true,"e":false,"f":-1.5e3}`, true},
		{"nested", `{"a":{"b":[1,{"c":"}"}],"d":"]"},"e":[[],{}],"f":"{"}`, true},
		{"escapes", `{"a\"b":"c\\\"d","\u00e9":"\u00e9","k":"\\"}`, true},
		{"whitespace", "{\n \"a\" : [ 1 , 2 ] ,\t\"b\" : { \"c\" : 3 } \r\n}", true},
		{"porting", `{"object":"porting","id":"prt_1","address":{"city":"NYC","line2":null},"required":[],"status":"pending"}`, true},
		{"array", `[1,2]`, false},
		{"string", `"x"`, false},
		{"truncated", `{"a":1`, false},
		{"garbage", `{"a":}`, false},
		{"trailing data", `{"a":1} x`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := members([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("members(%s) error %v, want ok=%v", tt.in, err, tt.ok)
			}
			if !tt.ok {
				return
			}
			want, err := membersByDecoder([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, func(a, b member) bool { return a.key == b.key && bytes.Equal(a.value, b.value) }) {
				t.Errorf("members(%s)\n got %q\nwant %q", tt.in, got, want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name, before, after, want string
	}{
		{"unchanged", `{"a":1,"b":{"c":2}}`, `{"a":1,"b":{"c":2}}`, ""},
		{"changed scalar", `{"a":1,"b":2}`, `{"a":1,"b":3}`, `{"b":2}`},
		{"changed nested, whole", `{"a":{"x":1,"y":2}}`, `{"a":{"x":1,"y":3}}`, `{"a":{"x":1,"y":2}}`},
		{"new field is null before", `{"a":1}`, `{"a":1,"b":"x"}`, `{"b":null}`},
		{"after's order", `{"b":1,"a":1}`, `{"a":2,"b":2}`, `{"a":1,"b":1}`},
		{"removed field not shown", `{"a":1,"gone":2}`, `{"a":1}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Diff([]byte(tt.before), []byte(tt.after))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Diff = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := Diff([]byte(`{"a":`), []byte(`{}`)); err == nil {
		t.Error("Diff of invalid JSON: no error")
	}
}
