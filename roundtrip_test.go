package switchboard_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard"
)

// TestSeedRoundTrip decodes each seed example into the envelope and its typed
// resource, encodes both again and compares the token sequence (field order,
// values and nulls) with the example. The only differences allowed are those
// reference.md §1 names, each listed as an edit of the expected sequence.
func TestSeedRoundTrip(t *testing.T) {
	// Every example omits the porting's declinedAttempts, which the field
	// list marks required: the typed encoding adds it after birthday.
	addDeclinedAttempts := func(porting string) edit {
		return insertAfter(porting+"/birthday", porting+"/declinedAttempts 0")
	}
	tests := []struct {
		name   string
		file   string
		want   string // type of the decoded resource
		mutate func(t *testing.T, ev *switchboard.ParsedEvent)
		edits  []edit
	}{
		{
			name:  "porting canceled",
			file:  "porting.canceled.json",
			want:  "*switchboard.Porting",
			edits: []edit{addDeclinedAttempts("/data")},
		},
		{
			name:  "porting updated",
			file:  "porting.updated.json",
			want:  "*switchboard.Porting",
			edits: []edit{addDeclinedAttempts("/data")},
		},
		{
			// The typed round trip keeps the example's PIN.
			name: "port-out credentials issued",
			file: "portOutCredentials.issued.json",
			want: "*switchboard.PortOutCredentials",
		},
		{
			// The platform renders the PIN as null in every event.
			name: "port-out credentials issued, as rendered in events",
			file: "portOutCredentials.issued.json",
			want: "*switchboard.PortOutCredentials",
			mutate: func(t *testing.T, ev *switchboard.ParsedEvent) {
				c, ok := ev.PortOutCredentials()
				if !ok {
					t.Fatalf("PortOutCredentials() ok = false, want true")
				}
				c.AccountPin = nil
			},
			edits: []edit{replace("/data/accountPin", "/data/accountPin null")},
		},
		{
			name:  "subscription resumed",
			file:  "subscription.resumed.json",
			want:  "*switchboard.Subscription",
			edits: []edit{addDeclinedAttempts("/data/porting")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed := readSeed(t, tt.file)
			ev, err := switchboard.Parse(seed)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := fmt.Sprintf("%T", ev.Resource); got != tt.want {
				t.Fatalf("Resource is %s, want %s", got, tt.want)
			}
			if tt.mutate != nil {
				tt.mutate(t, ev)
			}

			got := jsonLines(t, encodeTyped(t, ev))
			want := jsonLines(t, seed)
			for _, e := range tt.edits {
				want = e.apply(t, want)
			}
			diffLines(t, got, want)
		})
	}
}

// encodeTyped encodes ev with its data taken from the typed resource, not
// from the raw bytes Parse kept.
func encodeTyped(t *testing.T, ev *switchboard.ParsedEvent) []byte {
	t.Helper()
	data, err := json.Marshal(ev.Resource)
	if err != nil {
		t.Fatalf("encoding %T: %v", ev.Resource, err)
	}
	env := ev.Event
	env.Data = data
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatalf("encoding envelope: %v", err)
	}
	return out
}

// readSeed returns the example of a seed, copied from shared/seeds.
func readSeed(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonLines flattens a JSON document into one line per token, in document
// order: "<path> <value>" for scalars, "<path> {" / "<path> }" (or [ ]) for
// containers. Object keys live in the paths, so two documents have equal
// lines exactly when they have the same fields in the same order with the
// same values; insignificant whitespace and string escaping do not count.
func jsonLines(t *testing.T, doc []byte) []string {
	t.Helper()
	type frame struct {
		array   bool
		key     string
		index   int
		wantKey bool
	}
	var (
		stack []frame
		lines []string
	)
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.array {
				fmt.Fprintf(&b, "/%d", f.index)
			} else {
				b.WriteString("/" + f.key)
			}
		}
		if b.Len() == 0 {
			return "/"
		}
		return b.String()
	}
	next := func() { // a value ended: move its container on
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].wantKey = true
			}
		}
	}

	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("tokenizing: %v", err)
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			if key, ok := tok.(string); ok {
				stack[n-1].key, stack[n-1].wantKey = key, false
				continue
			}
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				lines = append(lines, path()+" "+tok.String())
				stack = append(stack, frame{array: tok == '[', wantKey: tok == '{'})
			default:
				stack = stack[:len(stack)-1]
				lines = append(lines, path()+" "+tok.String())
				next()
			}
		case string:
			lines = append(lines, fmt.Sprintf("%s %q", path(), tok))
			next()
		case nil:
			lines = append(lines, path()+" null")
			next()
		default: // json.Number, bool
			lines = append(lines, fmt.Sprintf("%s %v", path(), tok))
			next()
		}
	}
	return lines
}

// edit is one expected difference between a seed example and its encoding.
type edit struct {
	path    string // the line it applies to, by path
	line    string
	replace bool // replace the line instead of inserting after it
}

// insertAfter expects line to follow the line at path.
func insertAfter(path, line string) edit { return edit{path: path, line: line} }

// replace expects line in place of the line at path.
func replace(path, line string) edit { return edit{path: path, line: line, replace: true} }

// apply applies e to lines; the path must match exactly one line.
func (e edit) apply(t *testing.T, lines []string) []string {
	t.Helper()
	at := -1
	for i, l := range lines {
		if strings.HasPrefix(l, e.path+" ") {
			if at >= 0 {
				t.Fatalf("edit path %s matches several lines", e.path)
			}
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("edit path %s matches no line of the seed", e.path)
	}
	if e.replace {
		return slices.Replace(slices.Clone(lines), at, at+1, e.line)
	}
	return slices.Insert(slices.Clone(lines), at+1, e.line)
}

// diffLines reports the first token where got and want differ.
func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("token %d: got %q, want %q (got %d tokens, want %d)", i, g, w, len(got), len(want))
		}
	}
}
