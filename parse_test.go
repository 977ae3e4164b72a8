package switchboard_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
)

// event returns an event body of the given type and data around an envelope
// like the seeds'.
func event(typ, data string) []byte {
	return fmt.Appendf(nil, `{"object":"event","id":"evt_1","data":%s,"datacontenttype":"application/json",`+
		`"project":"gigs","source":"https://api.gigs.com","specversion":"1.0","time":"2022-03-16T14:12:42Z",`+
		`"type":%q,"version":"2024-10-28"}`, data, typ)
}

const userData = `{"object":"user","id":"usr_1","birthday":null,"email":"jerry@example.com",` +
	`"emailVerified":false,"fullName":null,"preferredLocale":"en-US","createdAt":"2021-01-21T19:38:34Z"}`

const simData = `{"object":"sim","id":"sim_1","iccid":"89883070000007537119","provider":"p9",` +
	`"status":"retired","type":"eSIM","createdAt":"2021-01-21T19:38:34Z"}`

func TestParseResource(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want string // which helper reports ok
	}{
		{"porting canceled", readSeed(t, "porting.canceled.json"), "porting"},
		{"porting updated", readSeed(t, "porting.updated.json"), "porting"},
		{"port-out credentials issued", readSeed(t, "portOutCredentials.issued.json"), "portOutCredentials"},
		{"subscription resumed", readSeed(t, "subscription.resumed.json"), "subscription"},
		{"user created", event(switchboard.TypeUserCreated, userData), "user"},
		{"user deleted", event(switchboard.TypeUserDeleted, userData), "user"},
		{"sim updated", event(switchboard.TypeSimUpdated, simData), "sim"},
		{"sim retired", event(switchboard.TypeSimRetired, simData), "sim"},
		{"new type of a known resource", event("com.gigs.user.verified", userData), "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := switchboard.Parse(tt.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			p, okP := ev.Porting()
			s, okS := ev.Subscription()
			u, okU := ev.User()
			c, okC := ev.PortOutCredentials()
			sim, okSim := ev.Sim()
			got := map[string]bool{"porting": okP, "subscription": okS, "user": okU, "portOutCredentials": okC, "sim": okSim}
			for name, ok := range got {
				if ok != (name == tt.want) {
					t.Errorf("%s() ok = %v, want %v", name, ok, name == tt.want)
				}
			}
			var object string
			switch tt.want {
			case "porting":
				object = p.Object
			case "subscription":
				object = s.Object
			case "user":
				object = u.Object
			case "portOutCredentials":
				object = c.Object
			case "sim":
				object = sim.Object
			}
			if object != tt.want {
				t.Errorf("resource object = %q, want %q", object, tt.want)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	ev, err := switchboard.Parse(readSeed(t, "porting.canceled.json"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	p, ok := ev.Porting()
	if !ok {
		t.Fatalf("Porting() ok = false, want true")
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ID", ev.ID, "evt_0SNlurA049MEWV5gNTcQ5A07h3Ol"},
		{"Type", ev.Type, switchboard.TypePortingCanceled},
		{"Version", ev.Version, switchboard.Version20241028},
		{"Time", ev.Time, time.Date(2022, 3, 16, 14, 12, 42, 0, time.UTC)},
		{"Actor", ev.Actor, (*switchboard.Actor)(nil)},
		{"Porting.ID", p.ID, "prt_0SNlurA049MEWV39s2kSYqaat7ZS"},
		{"Porting.DeclinedCode", *p.DeclinedCode, "portingPhoneNumberPortProtected"},
		{"Porting.Address.State", *p.Address.State, "NY"},
		{"Porting.CanceledAt", *p.CanceledAt, time.Date(2021, 1, 21, 19, 39, 53, 0, time.UTC)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseUnknownType(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		data string
	}{
		{"unknown resource", "com.gigs.simSwap.completed", `{"object":"simSwap","id":"sws_1"}`},
		{"known prefix, other resource", "com.gigs.user.exported", `{"object":"export","id":"exp_1"}`},
		{"known prefix, data not an object", "com.gigs.porting.archived", `["prt_1"]`},
		{"no action", "com.gigs.porting", `{"object":"porting"}`},
		{"outside com.gigs.", "org.example.thing.happened", `{"object":"porting"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := switchboard.Parse(event(tt.typ, tt.data))
			if err != nil {
				t.Fatalf("Parse: %v, want no error", err)
			}
			if ev.Resource != nil {
				t.Errorf("Resource = %T, want nil", ev.Resource)
			}
			if ev.Type != tt.typ {
				t.Errorf("Type = %q, want %q", ev.Type, tt.typ)
			}
			if got := string(ev.Data); got != tt.data {
				t.Errorf("Data = %s, want %s", got, tt.data)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"empty", ``, switchboard.ErrNotEvent},
		{"not JSON", `event`, switchboard.ErrNotEvent},
		{"truncated", `{"object":"event"`, switchboard.ErrNotEvent},
		{"array", `[{"object":"event"}]`, switchboard.ErrNotEvent},
		{"string", `"event"`, switchboard.ErrNotEvent},
		{"null", `null`, switchboard.ErrNotEvent},
		{"no object", `{"id":"evt_1","type":"com.gigs.user.created"}`, switchboard.ErrNotEvent},
		{"other object", `{"object":"porting","id":"prt_1"}`, switchboard.ErrNotEvent},
		{"object not a string", `{"object":1}`, switchboard.ErrNotEvent},
		{"missing id", `{"object":"event","type":"com.gigs.user.created","data":{}}`, switchboard.ErrInvalidEvent},
		{"missing type", `{"object":"event","id":"evt_1","data":{}}`, switchboard.ErrInvalidEvent},
		{"bad time", `{"object":"event","id":"evt_1","type":"x","time":"yesterday"}`, switchboard.ErrInvalidEvent},
		{"known type, data null", string(event(switchboard.TypeUserCreated, `null`)), switchboard.ErrInvalidEvent},
		{"known type, data missing", `{"object":"event","id":"evt_1","type":"com.gigs.user.created"}`, switchboard.ErrInvalidEvent},
		{"known type, other resource", string(event(switchboard.TypePortingDeclined, userData)), switchboard.ErrInvalidEvent},
		{"known type, wrong field type", string(event(switchboard.TypeUserUpdated, strings.Replace(userData, `false`, `"no"`, 1))), switchboard.ErrInvalidEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := switchboard.Parse([]byte(tt.body))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse error = %v, want %v", err, tt.want)
			}
			if ev != nil {
				t.Errorf("Parse returned an event with error %v, want nil", err)
			}
		})
	}
}

// TestParseKeepsEnvelope checks that a parsed event encodes back to its body,
// actor and previousData included, and that Resource does not leak into it.
func TestParseKeepsEnvelope(t *testing.T) {
	body := `{"object":"event","id":"evt_1","actor":{"type":"apiKey","apiKey":"apk_1"},"data":` + userData + `,` +
		`"datacontenttype":"application/json","previousData":{"email":"old@example.com"},"project":"gigs",` +
		`"source":"https://api.gigs.com","specversion":"1.0","time":"2025-06-01T10:00:00Z",` +
		`"type":"com.gigs.user.updated","version":"2025-05-22"}`
	ev, err := switchboard.Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := *ev.Actor, (switchboard.Actor{Type: switchboard.ActorAPIKey, APIKey: "apk_1"}); got != want {
		t.Errorf("Actor = %+v, want %+v", got, want)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	diffLines(t, jsonLines(t, out), jsonLines(t, []byte(body)))
}
