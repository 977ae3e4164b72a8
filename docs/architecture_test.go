package docs

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/subscription"
)

// edge is one transition: From and To are statuses ("" for [*]), On the
// operation.
type edge struct{ From, To, On string }

var (
	tableLine = regexp.MustCompile(`^%%\s*table:\s*(\S+)\s*$`)
	arrow     = regexp.MustCompile(`^(\S+)\s*-->\s*(\S+?)\s*(?::\s*(.*?))?\s*$`)
)

// stateDiagrams parses the Mermaid state diagrams of the markdown: each
// names the table it draws in a "%% table: name" comment.
func stateDiagrams(t *testing.T, markdown string) map[string][]edge {
	t.Helper()
	out := map[string][]edge{}
	var in bool    // in a mermaid block
	var state bool // the block is a state diagram
	var name string
	sc := bufio.NewScanner(strings.NewReader(markdown))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !in && line == "```mermaid":
			in, state, name = true, false, ""
			continue
		case in && line == "```":
			if state && name == "" {
				t.Errorf("line %d: a state diagram names no table (%%%% table: name)", n)
			}
			in = false
			continue
		case !in:
			continue
		}
		if strings.HasPrefix(line, "stateDiagram") {
			state = true
			continue
		}
		if !state || line == "" {
			continue
		}
		if m := tableLine.FindStringSubmatch(line); m != nil {
			if _, dup := out[m[1]]; dup {
				t.Errorf("line %d: table %s drawn twice", n, m[1])
			}
			name = m[1]
			out[name] = []edge{}
			continue
		}
		if strings.HasPrefix(line, "%%") || strings.HasPrefix(line, "note") || strings.HasPrefix(line, "classDef") {
			continue
		}
		m := arrow.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("line %d: %q is not a transition this test can read (from --> to: operation)", n, line)
			continue
		}
		if name == "" {
			t.Errorf("line %d: a transition before the diagram's %%%% table: line", n)
			continue
		}
		if m[3] == "" {
			t.Errorf("line %d: %q names no operation", n, line)
		}
		star := func(s string) string {
			if s == "[*]" {
				return ""
			}
			return s
		}
		out[name] = append(out[name], edge{star(m[1]), star(m[2]), m[3]})
	}
	if in {
		t.Errorf("an unterminated mermaid block")
	}
	return out
}

// compare returns every edge one side has and the other lacks, described.
func compare(name string, drawn, table []edge) []string {
	var out []string
	set := func(es []edge) map[edge]int {
		m := map[edge]int{}
		for _, e := range es {
			m[e]++
		}
		return m
	}
	d, c := set(drawn), set(table)
	show := func(s string) string {
		if s == "" {
			return "[*]"
		}
		return s
	}
	for e, n := range d {
		if c[e] == 0 {
			out = append(out, fmt.Sprintf("%s: the diagram has %s --> %s: %s, which the code's table lacks", name, show(e.From), show(e.To), e.On))
		}
		if n > 1 {
			out = append(out, fmt.Sprintf("%s: the diagram has %s --> %s: %s %d times", name, show(e.From), show(e.To), e.On, n))
		}
	}
	for e := range c {
		if d[e] == 0 {
			out = append(out, fmt.Sprintf("%s: the code's table has %s --> %s: %s, which the diagram lacks", name, show(e.From), show(e.To), e.On))
		}
	}
	return out
}

// tables are the code's transition tables, by the name the diagrams use.
func tables() map[string][]edge {
	out := map[string][]edge{"delivery": {}, "porting": {}, "subscription": {}}
	for _, tr := range store.DeliveryTransitions() {
		out["delivery"] = append(out["delivery"], edge(tr))
	}
	for _, tr := range porting.Transitions() {
		out["porting"] = append(out["porting"], edge(tr))
	}
	for _, tr := range subscription.Transitions() {
		out["subscription"] = append(out["subscription"], edge(tr))
	}
	return out
}

// TestStateDiagramsMatchTheCode checks every state diagram of
// architecture.md against the code's transition table it names, in both
// directions, and that every table is drawn.
func TestStateDiagramsMatchTheCode(t *testing.T) {
	b, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	drawn := stateDiagrams(t, string(b))
	for name, table := range tables() {
		d, ok := drawn[name]
		if !ok {
			t.Errorf("architecture.md draws no state diagram of the %s table", name)
			continue
		}
		for _, p := range compare(name, d, table) {
			t.Error(p)
		}
	}
	for name := range drawn {
		if _, ok := tables()[name]; !ok {
			t.Errorf("architecture.md draws a table %q the code does not have", name)
		}
	}
}

// TestStateDiagramsParse checks the parser and the comparison on diagrams
// that disagree with a table each way, so that the test above cannot pass
// by reading nothing.
func TestStateDiagramsParse(t *testing.T) {
	md := "text\n```mermaid\nstateDiagram-v2\n    %% table: x\n    [*] --> a: make\n    a --> b: go\n    b --> [*]: drop\n```\n" +
		"```mermaid\nsequenceDiagram\n    A->>B: not a state\n```\n"
	got := stateDiagrams(t, md)
	want := []edge{{"", "a", "make"}, {"a", "b", "go"}, {"b", "", "drop"}}
	if len(got) != 1 || len(got["x"]) != len(want) {
		t.Fatalf("parsed %v, want table x with %v", got, want)
	}
	for i := range want {
		if got["x"][i] != want[i] {
			t.Errorf("edge %d = %v, want %v", i, got["x"][i], want[i])
		}
	}
	tests := []struct {
		name  string
		table []edge
	}{
		{"the diagram has an edge the table lacks", want[:2]},
		{"the table has an edge the diagram lacks", append(want[:3:3], edge{"b", "a", "back"})},
		{"the operation differs", []edge{{"", "a", "make"}, {"a", "b", "went"}, {"b", "", "drop"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(compare("x", got["x"], tt.table)) == 0 {
				t.Errorf("compare passed a diagram and a table that disagree")
			}
		})
	}
	if p := compare("x", got["x"], want); len(p) > 0 {
		t.Errorf("compare failed a diagram and a table that agree: %v", p)
	}
}
