package endpoint_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

// code returns the failure code of err, "" for nil and "!" for an error
// that is no failure.
func code(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := failure.As(err); ok {
		return f.Code
	}
	return "!" + err.Error()
}

func TestMatches(t *testing.T) {
	tests := []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{[]string{"*"}, switchboard.TypeUserCreated, true},
		{[]string{switchboard.TypeUserCreated}, switchboard.TypeUserCreated, true},
		{[]string{switchboard.TypeUserCreated}, switchboard.TypeUserUpdated, false},
		{[]string{"com.gigs.porting.*"}, switchboard.TypePortingDeclined, true},
		{[]string{"com.gigs.porting.*"}, switchboard.TypeSubscriptionCreated, false},
		{[]string{"com.gigs.user.created", "com.gigs.porting.*"}, switchboard.TypePortingCreated, true},
		{nil, switchboard.TypeUserCreated, false},
	}
	for _, tt := range tests {
		if got := endpoint.Matches(tt.patterns, tt.typ); got != tt.want {
			t.Errorf("Matches(%q, %s) = %v, want %v", tt.patterns, tt.typ, got, tt.want)
		}
	}
}

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url           string
		refusePrivate bool
		want          string
	}{
		{"https://example.com/hook", true, ""},
		{"http://example.com:8080/hook?x=1", true, ""},
		{"", false, "fieldRequired"},
		{"example.com/hook", false, "invalidUrl"},
		{"ftp://example.com/hook", false, "invalidUrl"},
		{"https://", false, "invalidUrl"},
		{"https://example.com/hook#frag", false, "invalidUrl"},
		{"https://example.com/" + strings.Repeat("a", limits.MaxURL), false, "invalidUrl"},
		{"http://127.0.0.1:3000/hook", false, ""},
		{"http://127.0.0.1:3000/hook", true, "privateUrl"},
		{"http://localhost:3000/hook", true, "privateUrl"},
		{"http://api.localhost/hook", true, "privateUrl"},
		{"http://10.1.2.3/hook", true, "privateUrl"},
		{"http://[::1]/hook", true, "privateUrl"},
		{"http://169.254.169.254/latest", true, "privateUrl"},
		{"http://93.184.216.34/hook", true, ""},
	}
	for _, tt := range tests {
		if got := code(endpoint.ValidateURL(tt.url, tt.refusePrivate)); got != tt.want {
			t.Errorf("ValidateURL(%.60q, %v) = %q, want %q", tt.url, tt.refusePrivate, got, tt.want)
		}
	}
}

func TestForbidden(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true}, {"10.0.0.1", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"169.254.1.1", true}, {"0.0.0.0", true}, {"100.64.0.1", true}, {"198.18.0.1", true},
		{"224.0.0.1", true}, {"255.255.255.255", true}, {"::1", true}, {"fe80::1", true}, {"fc00::1", true},
		{"::ffff:127.0.0.1", true}, {"64:ff9b::a00:1", true},
		{"93.184.216.34", false}, {"8.8.8.8", false}, {"2606:4700::1111", false},
	}
	for _, tt := range tests {
		if got := endpoint.Forbidden(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Forbidden(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestValidateFields(t *testing.T) {
	many := make([]string, limits.MaxEnabledEvents+1)
	for i := range many {
		many[i] = "*"
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"all events", endpoint.ValidateEvents([]string{"*"}), ""},
		{"a known type", endpoint.ValidateEvents([]string{switchboard.TypePortingDeclined}), ""},
		{"a wildcard", endpoint.ValidateEvents([]string{"com.gigs.subscription.*"}), ""},
		{"no events", endpoint.ValidateEvents([]string{}), "invalidEnabledEvents"},
		{"too many patterns", endpoint.ValidateEvents(many), "invalidEnabledEvents"},
		{"an unknown type", endpoint.ValidateEvents([]string{"com.gigs.user.teleported"}), "invalidEnabledEvents"},
		{"a wildcard selecting nothing", endpoint.ValidateEvents([]string{"com.gigs.nothing.*"}), "invalidEnabledEvents"},
		{"a bare prefix wildcard", endpoint.ValidateEvents([]string{"com.gigs.port*"}), "invalidEnabledEvents"},
		{"the latest version", endpoint.ValidateVersion(switchboard.LatestVersion), ""},
		{"an unknown version", endpoint.ValidateVersion("2020-01-01"), "invalidVersion"},
		{"no rate limit", endpoint.ValidateRateLimit(nil), ""},
		{"the least rate limit", endpoint.ValidateRateLimit(ptr(endpoint.MinRateLimit)), ""},
		{"a rate limit of zero", endpoint.ValidateRateLimit(ptr(0)), "invalidRateLimit"},
		{"a rate limit too high", endpoint.ValidateRateLimit(ptr(endpoint.MaxRateLimit + 1)), "invalidRateLimit"},
		{"a description", endpoint.ValidateDescription(ptr("ours")), ""},
		{"a description too long", endpoint.ValidateDescription(ptr(strings.Repeat("d", limits.MaxDescription+1))), "invalidDescription"},
	}
	for _, tt := range tests {
		if got := code(tt.err); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSecrets(t *testing.T) {
	s := endpoint.NewSecret()
	key, err := endpoint.SecretKey(s)
	if !strings.HasPrefix(s, endpoint.SecretPrefix) || err != nil || len(key) != 32 {
		t.Fatalf("NewSecret() = %q: key of %d bytes, err %v; want whsec_ and 32 bytes", s, len(key), err)
	}
	if s == endpoint.NewSecret() {
		t.Error("two secrets are the same")
	}
	if _, err := endpoint.SecretKey("whsec_not base64!"); err == nil {
		t.Error("SecretKey accepted a secret that is not base64")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := endpoint.Endpoint{Secrets: []endpoint.Secret{{Value: "new"}, {Value: "old", ExpiresAt: ptr(now.Add(time.Hour))}}}
	if got := e.ActiveSecrets(now); !slices.Equal(got, []string{"new", "old"}) {
		t.Errorf("within the grace period: %q, want new and old", got)
	}
	if got := e.ActiveSecrets(now.Add(time.Hour)); !slices.Equal(got, []string{"new"}) {
		t.Errorf("once the grace period ended: %q, want new", got)
	}
}

// TestService runs an endpoint through its life on each backend: created,
// disabled (its pending delivery paused), enabled (resumed, the dispatcher
// woken), its secret rotated, deleted with its deliveries.
func TestService(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		st := b.Open(t)
		clk := &clock.Offset{}
		var woken atomic.Int32
		svc := &endpoint.Service{Store: st, Clock: clk, Notify: func() { woken.Add(1) }, SecretGrace: time.Hour, RefusePrivate: true}

		enabled := func() []string {
			t.Helper()
			var ids []string
			storetest.View(t, st, func(tx *store.Tx) error {
				es, err := endpoint.EnabledIn(ctx, tx, "p")
				for _, e := range es {
					ids = append(ids, e.ID)
				}
				return err
			})
			return ids
		}
		delivery := func(endpointID string) (store.DeliveryRow, bool) {
			t.Helper()
			var ds []store.DeliveryRow
			storetest.View(t, st, func(tx *store.Tx) (err error) {
				ds, _, err = tx.ListDeliveries(ctx, store.DeliveryQuery{Project: "p", EndpointID: endpointID, Page: store.Page{Limit: 10}})
				return err
			})
			if len(ds) == 0 {
				return store.DeliveryRow{}, false
			}
			return ds[0], true
		}

		// Invalid input stores nothing.
		invalid := []struct {
			in   endpoint.Input
			code string
		}{
			{endpoint.Input{URL: "http://127.0.0.1/hook"}, "privateUrl"},
			{endpoint.Input{URL: "https://example.com", EnabledEvents: []string{"nope"}}, "invalidEnabledEvents"},
			{endpoint.Input{URL: "https://example.com", Version: "1999-01-01"}, "invalidVersion"},
			{endpoint.Input{URL: "https://example.com", RateLimit: ptr(0)}, "invalidRateLimit"},
		}
		for _, tt := range invalid {
			if _, _, err := svc.Create(ctx, "p", tt.in); code(err) != tt.code {
				t.Errorf("Create(%+v) = %q, want %q", tt.in, code(err), tt.code)
			}
		}
		if got := enabled(); len(got) != 0 {
			t.Fatalf("invalid creates stored endpoints %v", got)
		}

		e, secret, err := svc.Create(ctx, "p", endpoint.Input{URL: "https://example.com/hook"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != endpoint.Enabled || e.Version != switchboard.LatestVersion || !slices.Equal(e.EnabledEvents, []string{"*"}) {
			t.Errorf("created %+v, want enabled, latest version, all events", e)
		}
		if got := e.ActiveSecrets(clk.Now()); !slices.Equal(got, []string{secret}) {
			t.Errorf("active secrets %q, want the one Create returned", got)
		}
		if got := enabled(); !slices.Equal(got, []string{e.ID}) {
			t.Errorf("enabled %v, want %s", got, e.ID)
		}
		if _, err := svc.Get(ctx, "q", e.ID); code(err) != "webhookEndpointNotFound" {
			t.Errorf("another project's Get = %q, want webhookEndpointNotFound", code(err))
		}

		// A pending delivery to the endpoint.
		now := clk.Now()
		storetest.Update(t, st, func(tx *store.Tx) error {
			ev := store.EventRow{ID: "evt_1", Project: "p", Type: switchboard.TypeUserCreated, Resource: "usr_1", Time: now, Source: "s", Data: []byte(`{}`)}
			if err := tx.InsertEvent(ctx, &ev); err != nil {
				return err
			}
			return tx.InsertDelivery(ctx, &store.DeliveryRow{ID: "dlv_1", Project: "p", EndpointID: e.ID, EventID: ev.ID, EventSeq: ev.Seq,
				Status: store.DeliveryPending, NextAttemptAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now})
		})

		steps := []struct {
			name    string
			patch   endpoint.Patch
			code    string
			status  string
			paused  bool
			wakes   int32
			enabled bool
		}{
			{"an invalid status changes nothing", endpoint.Patch{Status: ptr("paused")}, "invalidStatus", endpoint.Enabled, false, 0, true},
			{"disable pauses", endpoint.Patch{Status: ptr(endpoint.Disabled)}, "", endpoint.Disabled, true, 0, false},
			{"enable resumes and wakes", endpoint.Patch{Status: ptr(endpoint.Enabled)}, "", endpoint.Enabled, false, 1, true},
			{"a description changes no status", endpoint.Patch{Description: endpoint.Nullable[string]{Set: true, Value: ptr("d")}}, "", endpoint.Enabled, false, 1, true},
		}
		for _, s := range steps {
			_, err := svc.Update(ctx, "p", e.ID, s.patch)
			if code(err) != s.code {
				t.Fatalf("%s: Update = %q, want %q", s.name, code(err), s.code)
			}
			got, err := svc.Get(ctx, "p", e.ID)
			if err != nil {
				t.Fatal(err)
			}
			d, ok := delivery(e.ID)
			if got.Status != s.status || !ok || d.Paused != s.paused || woken.Load() != s.wakes || slices.Contains(enabled(), e.ID) != s.enabled {
				t.Errorf("%s: status %s, delivery paused %v (found %v), woken %d, enabled %v; want %s, %v, %d, %v", s.name,
					got.Status, d.Paused, ok, woken.Load(), slices.Contains(enabled(), e.ID), s.status, s.paused, s.wakes, s.enabled)
			}
		}
		if d, _ := delivery(e.ID); d.NextAttemptAt.After(clk.Now()) {
			t.Errorf("resumed delivery due at %s, want now", d.NextAttemptAt)
		}

		rotated, newSecret, err := svc.RotateSecret(ctx, "p", e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := rotated.ActiveSecrets(clk.Now()); !slices.Equal(got, []string{newSecret, secret}) {
			t.Errorf("after rotation: %q, want the new and the old secret", got)
		}
		if got := rotated.ActiveSecrets(clk.Now().Add(time.Hour + time.Second)); !slices.Equal(got, []string{newSecret}) {
			t.Errorf("after the grace period: %q, want the new secret only", got)
		}
		clk.Advance(2 * time.Hour)
		again, _, err := svc.RotateSecret(ctx, "p", e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Secrets) != 2 {
			t.Errorf("a second rotation after the grace period keeps %d secrets, want 2 (the expired one dropped)", len(again.Secrets))
		}

		if err := svc.Delete(ctx, "p", e.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok := delivery(e.ID); ok {
			t.Error("the deleted endpoint's delivery is still there")
		}
		for name, err := range map[string]error{
			"Get":    func() error { _, err := svc.Get(ctx, "p", e.ID); return err }(),
			"Update": func() error { _, err := svc.Update(ctx, "p", e.ID, endpoint.Patch{}); return err }(),
			"Rotate": func() error { _, _, err := svc.RotateSecret(ctx, "p", e.ID); return err }(),
			"Delete": svc.Delete(ctx, "p", e.ID),
		} {
			if code(err) != "webhookEndpointNotFound" {
				t.Errorf("%s of the deleted endpoint = %q, want webhookEndpointNotFound", name, code(err))
			}
		}
	})
}
