package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/client"
)

func TestTables(t *testing.T) {
	at := time.Date(2025, 5, 22, 10, 0, 0, 0, time.UTC)
	desc := "staging"
	more := "evt_2"
	tests := []struct {
		name  string
		write func(w io.Writer) error
		want  string
	}{
		{
			name: "aligned columns",
			write: func(w io.Writer) error {
				return writeTable(w, []string{"ID", "NAME"}, [][]string{{"a", "long name"}, {"longer id", "b"}})
			},
			want: "ID         NAME\n" +
				"a          long name\n" +
				"longer id  b\n",
		},
		{
			name: "events",
			write: func(w io.Writer) error {
				return writeEventTable(w, &client.List[switchboard.Event]{MoreItemsAfter: &more, Items: []switchboard.Event{
					{ID: "evt_1", Type: switchboard.TypePortingDeclined, Time: at, Data: json.RawMessage(`{"id":"prt_1"}`)},
					{ID: "evt_2", Type: switchboard.TypePortOutCredentialsIssued, Time: at,
						Data: json.RawMessage(`{"object":"portOutCredentials","subscription":"sub_1"}`)},
				}})
			},
			want: "ID     TYPE                                RESOURCE  TIME\n" +
				"evt_1  com.gigs.porting.declined           prt_1     2025-05-22T10:00:00Z\n" +
				"evt_2  com.gigs.portOutCredentials.issued  sub_1     2025-05-22T10:00:00Z\n" +
				"More: --after evt_2\n",
		},
		{
			name: "endpoints",
			write: func(w io.Writer) error {
				return writeEndpointTable(w, &client.List[client.Endpoint]{Items: []client.Endpoint{
					{ID: "whe_1", URL: "https://example.com/hooks", Status: "enabled", Version: "2025-05-22",
						EnabledEvents: []string{"com.gigs.porting.*", "com.gigs.user.created"}, Description: &desc, CreatedAt: at},
					{ID: "whe_2", URL: "http://127.0.0.1:3000/", Status: "disabled", Version: "2024-08-29",
						EnabledEvents: []string{"*"}, CreatedAt: at},
				}})
			},
			want: "ID     URL                        STATUS    VERSION     EVENTS                                    DESCRIPTION  CREATED\n" +
				"whe_1  https://example.com/hooks  enabled   2025-05-22  com.gigs.porting.*,com.gigs.user.created  staging      2025-05-22T10:00:00Z\n" +
				"whe_2  http://127.0.0.1:3000/     disabled  2024-08-29  *                                         -            2025-05-22T10:00:00Z\n",
		},
		{
			name: "trigger result",
			write: func(w io.Writer) error {
				return writeTriggerResult(w, &triggerResult{Type: switchboard.TypePortingDeclined, Event: "evt_1",
					Created: []created{{"user", "usr_1"}, {"porting", "prt_1"}, {"subscription", "sub_1"}}})
			},
			want: "Triggered com.gigs.porting.declined (event evt_1)\n" +
				"  user          usr_1\n" +
				"  porting       prt_1\n" +
				"  subscription  sub_1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatalf("write: %v", err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		pos     []string
		json    bool
		limit   int
		wantErr bool
	}{
		{args: []string{"evt_1"}, pos: []string{"evt_1"}, limit: 1},
		{args: []string{"--json", "evt_1", "--limit", "3"}, pos: []string{"evt_1"}, json: true, limit: 3},
		{args: []string{"a", "--json", "b"}, pos: []string{"a", "b"}, json: true, limit: 1},
		{args: []string{"--limit", "x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			j := fs.Bool("json", false, "")
			limit := fs.Int("limit", 1, "")
			pos, err := parseInterspersed(fs, tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !slices.Equal(pos, tt.pos) || *j != tt.json || *limit != tt.limit {
				t.Errorf("pos %v json %v limit %d; want %v %v %d", pos, *j, *limit, tt.pos, tt.json, tt.limit)
			}
		})
	}
}

func TestRandomNumbersAreOrdinary(t *testing.T) {
	for range 200 {
		n := randomNumber()
		if strings.HasPrefix(n, "+1201") || n[5:8] == "555" {
			t.Fatalf("random number %s may be magic", n)
		}
	}
}
