package eventlog_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/webhook"
)

// benchPorting is a porting as the wire shows it, about the size the
// lifecycles record.
var benchPorting = []byte(`{"object":"porting","id":"prt_0123456789abcdef","accountNumber":"ACC-1001","accountPinExists":true,` +
	`"address":{"city":"New York City","country":"US","line1":"129 West 81st Street","line2":null,"postalCode":"10024","state":"NY"},` +
	`"birthday":"1970-01-01","canceledAt":null,"completedAt":null,"createdAt":"2026-11-23T12:00:00Z","declinedAttempts":0,` +
	`"declinedCode":null,"declinedMessage":null,"donorProvider":{"object":"serviceProvider","id":"svp_att","name":"AT&T","recipientProviders":["p9"]},` +
	`"donorProviderApproval":null,"expiredAt":null,"firstName":"Bench","lastName":"User","lastRequestedAt":"2026-11-23T12:00:00Z",` +
	`"phoneNumber":"+12012001234","provider":"p9","required":[],"status":"requested","subscription":"sub_0123456789abcdef",` +
	`"user":{"object":"user","id":"usr_0123456789abcdef","birthday":null,"email":"bench@example.com","emailVerified":false,` +
	`"fullName":"Bench User","preferredLocale":null,"createdAt":"2026-11-23T12:00:00Z"}}`)

func benchEvent() store.EventRow {
	return store.EventRow{ID: "evt_0123456789abcdef", Project: "dev", Type: switchboard.TypePortingUpdated, Resource: "prt_0123456789abcdef",
		Time: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Source: eventlog.DefaultSource, Data: benchPorting,
		PreviousData: []byte(`{"status":"pending","lastRequestedAt":null}`), Actor: []byte(`{"type":"apiKey","apiKey":"key_0123456789abcdef"}`)}
}

// BenchmarkRender renders an event in the newest version and in the oldest
// (which applies every version change).
func BenchmarkRender(b *testing.B) {
	e := benchEvent()
	for _, v := range []string{switchboard.LatestVersion, switchboard.Versions[0]} {
		b.Run(v, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := eventlog.Render(e, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderAndSign renders an event and signs it per Standard
// Webhooks, as each delivery attempt does.
func BenchmarkRenderAndSign(b *testing.B) {
	e := benchEvent()
	secret, err := webhook.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		body, err := eventlog.Render(e, switchboard.LatestVersion)
		if err != nil {
			b.Fatal(err)
		}
		if sig := signer.Sign(e.ID, now, body); sig == "" {
			b.Fatal("empty signature")
		}
	}
}

// BenchmarkDiff computes the previousData of a porting.updated event.
func BenchmarkDiff(b *testing.B) {
	after := benchPorting
	before := []byte(string(benchPorting))
	before = []byte(replaceOnce(string(before), `"status":"requested"`, `"status":"pending"`))
	b.ReportAllocs()
	for b.Loop() {
		d, err := eventlog.Diff(before, after)
		if err != nil || d == nil {
			b.Fatal(err, d)
		}
	}
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
