package user_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/internal/user"
)

func ptr[T any](v T) *T { return &v }

func code(err error) string {
	if err == nil {
		return ""
	}
	if f, ok := failure.As(err); ok {
		return f.Code
	}
	return "!" + err.Error()
}

// events returns the project's events, oldest first.
func events(t *testing.T, st *store.Store) []store.EventRow {
	t.Helper()
	var evs []store.EventRow
	storetest.View(t, st, func(tx *store.Tx) (err error) {
		evs, _, err = tx.ListEvents(context.Background(), store.EventQuery{Project: "p", Page: store.Page{Limit: 200}})
		return err
	})
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

func TestService(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		st := b.Open(t)
		clk := &clock.Offset{}
		src := clock.Same{Clock: clk}
		svc := &user.Service{Store: st, Events: eventlog.New(eventlog.Config{Clock: src, Endpoints: endpoint.Targets}), Clock: src}

		invalid := []struct {
			name string
			p    user.Params
			code string
		}{
			{"no e-mail", user.Params{FullName: ptr("Ada")}, "fieldRequired"},
			{"not an e-mail", user.Params{Email: ptr("ada")}, "invalidEmail"},
			{"a named address", user.Params{Email: ptr("Ada <ada@example.com>")}, "invalidEmail"},
			{"an empty name", user.Params{Email: ptr("ada@example.com"), FullName: ptr("")}, "invalidLength"},
			{"a birthday in the future", user.Params{Email: ptr("ada@example.com"), Birthday: ptr("2999-01-01")}, "invalidDate"},
			{"a birthday that is no date", user.Params{Email: ptr("ada@example.com"), Birthday: ptr("1915-13-10")}, "invalidDate"},
			{"a birthday before 1900", user.Params{Email: ptr("ada@example.com"), Birthday: ptr("1815-12-10")}, "invalidDate"},
			{"a one-letter locale", user.Params{Email: ptr("ada@example.com"), PreferredLocale: ptr("e")}, "invalidLength"},
		}
		for _, tt := range invalid {
			if _, err := svc.Create(ctx, "p", tt.p); code(err) != tt.code {
				t.Errorf("Create with %s = %q, want %q", tt.name, code(err), tt.code)
			}
		}
		if evs := events(t, st); len(evs) != 0 {
			t.Fatalf("invalid creates recorded %d events", len(evs))
		}

		u, err := svc.Create(ctx, "p", user.Params{Email: ptr("Ada@Example.com"), FullName: ptr("Ada Lovelace"), Birthday: ptr("1915-12-10")})
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.Get(ctx, "p", u.ID)
		if err != nil || got.Email != "Ada@Example.com" || got.FullName == nil || *got.FullName != "Ada Lovelace" || got.Object != "user" {
			t.Fatalf("Get = %+v, %v; want the created user", got, err)
		}
		if _, err := svc.Create(ctx, "p", user.Params{Email: ptr("ada@example.COM")}); code(err) != "userAlreadyExists" {
			t.Errorf("the same e-mail in other case = %q, want userAlreadyExists", code(err))
		}
		if _, err := svc.Create(ctx, "q", user.Params{Email: ptr("ada@example.com")}); err != nil {
			t.Errorf("the same e-mail in another project: %v", err)
		}
		if _, err := svc.Get(ctx, "q", u.ID); code(err) != "userNotFound" {
			t.Errorf("Get from another project = %q, want userNotFound", code(err))
		}

		if _, err := svc.Update(ctx, "p", u.ID, user.Params{FullName: ptr("Augusta Ada King")}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Update(ctx, "p", u.ID, user.Params{FullName: ptr("Augusta Ada King")}); err != nil {
			t.Fatal(err) // changes nothing: no event
		}
		if _, err := svc.Update(ctx, "p", "usr_nope", user.Params{FullName: ptr("X")}); code(err) != "userNotFound" {
			t.Errorf("Update of an unknown user = %q, want userNotFound", code(err))
		}
		if _, err := svc.Update(ctx, "p", u.ID, user.Params{Email: ptr("bad")}); code(err) != "invalidEmail" {
			t.Errorf("Update with a bad e-mail = %q, want invalidEmail", code(err))
		}

		evs := events(t, st)
		want := []string{switchboard.TypeUserCreated, switchboard.TypeUserUpdated}
		if len(evs) != len(want) {
			t.Fatalf("%d events, want %v", len(evs), want)
		}
		for i, ev := range evs {
			if ev.Type != want[i] || ev.Resource != u.ID {
				t.Errorf("event %d: %s about %s, want %s about %s", i, ev.Type, ev.Resource, want[i], u.ID)
			}
		}
		var prev map[string]any
		if err := json.Unmarshal(evs[1].PreviousData, &prev); err != nil {
			t.Fatal(err)
		}
		if len(prev) != 1 || prev["fullName"] != "Ada Lovelace" {
			t.Errorf("previousData %s, want only the old fullName", evs[1].PreviousData)
		}
		var data switchboard.User
		if err := json.Unmarshal(evs[1].Data, &data); err != nil || *data.FullName != "Augusta Ada King" {
			t.Errorf("updated event data %s, want the new name", evs[1].Data)
		}
	})
}

// TestDelete checks a deletion: its event, its hook in the same
// transaction (a failing hook undoes it all), the deleted user gone from
// Get, List and Update, and its e-mail free again.
func TestDelete(t *testing.T) {
	ctx := context.Background()
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		st := b.Open(t)
		src := clock.Same{Clock: &clock.Offset{}}
		var hooked []string
		fail := false
		svc := &user.Service{Store: st, Events: eventlog.New(eventlog.Config{Clock: src, Endpoints: endpoint.Targets}), Clock: src,
			Hooks: user.Hooks{Deleted: func(ctx context.Context, tx *store.Tx, project, userID string) error {
				if fail {
					return errors.New("hook failed")
				}
				hooked = append(hooked, userID)
				return nil
			}}}
		u, err := svc.Create(ctx, "p", user.Params{Email: ptr("ada@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		fail = true
		if _, err := svc.Delete(ctx, "p", u.ID); err == nil {
			t.Fatal("Delete succeeded though its hook failed")
		}
		if _, err := svc.Get(ctx, "p", u.ID); err != nil {
			t.Fatalf("after a failed deletion: %v", err)
		}
		fail = false
		if _, err := svc.Delete(ctx, "p", u.ID); err != nil {
			t.Fatal(err)
		}
		if len(hooked) != 1 || hooked[0] != u.ID {
			t.Errorf("hook ran for %v, want once for %s", hooked, u.ID)
		}
		steps := []struct {
			name string
			err  error
			want string
		}{
			{"Get", func() error { _, err := svc.Get(ctx, "p", u.ID); return err }(), "userNotFound"},
			{"Update", func() error { _, err := svc.Update(ctx, "p", u.ID, user.Params{FullName: ptr("A")}); return err }(), "userNotFound"},
			{"Delete again", func() error { _, err := svc.Delete(ctx, "p", u.ID); return err }(), "userNotFound"},
			{"Create with the e-mail", func() error { _, err := svc.Create(ctx, "p", user.Params{Email: ptr("ada@example.com")}); return err }(), ""},
		}
		for _, s := range steps {
			if code(s.err) != s.want {
				t.Errorf("%s: %q, want %q", s.name, code(s.err), s.want)
			}
		}
		list, _, err := svc.List(ctx, "p", store.Page{Limit: 10})
		if err != nil || len(list) != 1 || list[0].ID == u.ID {
			t.Errorf("List = %d users (%v), want only the new one", len(list), err)
		}
		var types []string
		for _, ev := range events(t, st) {
			types = append(types, ev.Type)
		}
		want := []string{switchboard.TypeUserCreated, switchboard.TypeUserDeleted, switchboard.TypeUserCreated}
		if strings.Join(types, ",") != strings.Join(want, ",") {
			t.Errorf("events %v, want %v", types, want)
		}
	})
}
