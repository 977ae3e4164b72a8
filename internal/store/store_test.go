package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// The conformance suite: every test runs on SQLite and on PostgreSQL, each
// with a fresh database, and both must behave alike.

type doc struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

var ctx = context.Background()

func put(t *testing.T, s *store.Store, rs ...store.Resource) {
	t.Helper()
	storetest.Update(t, s, func(tx *store.Tx) error {
		for _, r := range rs {
			if err := tx.Put(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestPutGetReplace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		put(t, s, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{Name: "one"}})
		put(t, s, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{Name: "uno", Count: 2}})
		var got doc
		storetest.View(t, s, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "plan", "p1", "plan_1", &got) })
		if want := (doc{Name: "uno", Count: 2}); got != want {
			t.Errorf("Get = %+v, want %+v", got, want)
		}
		tests := []struct{ name, kind, project, id string }{
			{"missing ID", "plan", "p1", "plan_2"},
			{"other kind", "sim", "p1", "plan_1"},
			{"other project", "plan", "p2", "plan_1"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.View(ctx, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, tt.kind, tt.project, tt.id, &got) })
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Get(%s, %s, %s) = %v, want ErrNotFound", tt.kind, tt.project, tt.id, err)
				}
			})
		}
	})
}

func TestUniqueKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		put(t, s,
			store.Resource{Kind: "user", Project: "p1", ID: "usr_1", Unique: "a@example.com", Body: doc{Name: "a"}},
			store.Resource{Kind: "user", Project: "p2", ID: "usr_2", Unique: "a@example.com", Body: doc{Name: "a2"}},
			store.Resource{Kind: "sim", Project: "p1", ID: "sim_1", Unique: "a@example.com", Body: doc{Name: "s"}},
			store.Resource{Kind: "user", Project: "p1", ID: "usr_3", Body: doc{Name: "no key"}},
			store.Resource{Kind: "user", Project: "p1", ID: "usr_4", Body: doc{Name: "no key either"}},
		)
		var got doc
		storetest.View(t, s, func(tx *store.Tx) error { return tx.GetUnique(ctx, "user", "p2", "a@example.com", &got) })
		if got.Name != "a2" {
			t.Errorf("GetUnique in p2 = %+v, want a2", got)
		}
		err := s.View(ctx, func(tx *store.Tx) error { return tx.GetUnique(ctx, "user", "p1", "b@example.com", &got) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetUnique(missing) = %v, want ErrNotFound", err)
		}
		err = s.Update(ctx, func(tx *store.Tx) error {
			return tx.Put(ctx, store.Resource{Kind: "user", Project: "p1", ID: "usr_5", Unique: "a@example.com", Body: doc{}})
		})
		if !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("Put with a taken unique key = %v, want ErrDuplicate", err)
		}
		// Replacing the holder of the key with the same key is no conflict.
		put(t, s, store.Resource{Kind: "user", Project: "p1", ID: "usr_1", Unique: "a@example.com", Body: doc{Name: "a again"}})
	})
}

func TestDelete(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		put(t, s, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{}})
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.Delete(ctx, "plan", "p1", "plan_1") })
		var got doc
		if err := s.View(ctx, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "plan", "p1", "plan_1", &got) }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get after Delete = %v, want ErrNotFound", err)
		}
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.Delete(ctx, "plan", "p1", "plan_1") }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second Delete = %v, want ErrNotFound", err)
		}
	})
}

// listNames decodes a List page.
func listNames(t *testing.T, items [][]byte) []string {
	t.Helper()
	var out []string
	for _, it := range items {
		var d doc
		if err := json.Unmarshal(it, &d); err != nil {
			t.Fatalf("decode %s: %v", it, err)
		}
		out = append(out, d.Name)
	}
	return out
}

func TestListFiltersAndCursors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		var rs []store.Resource
		for i := range 23 {
			rs = append(rs, store.Resource{
				Kind: "prt", Project: "p1", ID: fmt.Sprintf("prt_%02d", i),
				Status: []string{"draft", "pending"}[i%2], Owner: []string{"usr_a", "usr_b", "usr_c"}[i%3],
				Ref: fmt.Sprintf("sub_%d", i%4), Body: doc{Name: fmt.Sprintf("prt_%02d", i)},
			})
		}
		rs = append(rs,
			store.Resource{Kind: "prt", Project: "p2", ID: "prt_x", Status: "draft", Body: doc{Name: "prt_x"}},
			store.Resource{Kind: "sub", Project: "p1", ID: "sub_x", Status: "draft", Body: doc{Name: "sub_x"}})
		put(t, s, rs...)

		tests := []struct {
			name  string
			q     store.Query
			match func(r store.Resource) bool
		}{
			{"all", store.Query{}, func(store.Resource) bool { return true }},
			{"status", store.Query{Status: "draft"}, func(r store.Resource) bool { return r.Status == "draft" }},
			{"owner", store.Query{Owner: "usr_b"}, func(r store.Resource) bool { return r.Owner == "usr_b" }},
			{"ref", store.Query{Ref: "sub_3"}, func(r store.Resource) bool { return r.Ref == "sub_3" }},
			{"status and owner", store.Query{Status: "pending", Owner: "usr_a"},
				func(r store.Resource) bool { return r.Status == "pending" && r.Owner == "usr_a" }},
			{"none", store.Query{Status: "completed"}, func(store.Resource) bool { return false }},
		}
		for _, tt := range tests {
			for _, limit := range []int{1, 4, 100} {
				t.Run(fmt.Sprintf("%s/limit %d", tt.name, limit), func(t *testing.T) {
					var want []string
					for _, r := range rs[:23] {
						if tt.match(r) {
							want = append(want, r.ID)
						}
					}
					slices.Reverse(want) // newest (greatest ID) first
					q := tt.q
					q.Kind, q.Project, q.Limit = "prt", "p1", limit
					var pages [][]string
					var got []string
					var cur store.Cursors
					for {
						var items [][]byte
						storetest.View(t, s, func(tx *store.Tx) (err error) {
							items, cur, err = tx.List(ctx, q)
							return err
						})
						names := listNames(t, items)
						if len(names) > limit {
							t.Fatalf("page of %d items, limit %d", len(names), limit)
						}
						if len(pages) > 0 && cur.MoreBefore == "" {
							t.Errorf("page %d after the first has no MoreBefore", len(pages))
						}
						pages = append(pages, names)
						got = append(got, names...)
						if cur.MoreAfter == "" {
							break
						}
						q.After, q.Before = cur.MoreAfter, ""
					}
					if !slices.Equal(got, want) {
						t.Fatalf("paging forward got %v, want %v", got, want)
					}
					// And back again with Before, from the last page.
					for i := len(pages) - 2; i >= 0; i-- {
						if cur.MoreBefore == "" {
							t.Fatalf("page %d has no MoreBefore", i+1)
						}
						q.After, q.Before = "", cur.MoreBefore
						var items [][]byte
						storetest.View(t, s, func(tx *store.Tx) (err error) {
							items, cur, err = tx.List(ctx, q)
							return err
						})
						if names := listNames(t, items); !slices.Equal(names, pages[i]) {
							t.Errorf("paging back to page %d got %v, want %v", i, names, pages[i])
						}
						if cur.MoreAfter == "" {
							t.Errorf("paging back to page %d: no MoreAfter", i)
						}
					}
					if len(pages) > 1 && cur.MoreBefore != "" {
						t.Errorf("back on the first page, MoreBefore = %q, want none", cur.MoreBefore)
					}
				})
			}
		}
	})
}

func TestDue(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
		put(t, s,
			store.Resource{Kind: "prt", Project: "p1", ID: "prt_late", DueAt: at(-time.Minute), Body: doc{}},
			store.Resource{Kind: "sub", Project: "p2", ID: "sub_later", DueAt: at(-time.Second), Body: doc{}},
			store.Resource{Kind: "prt", Project: "p1", ID: "prt_now", DueAt: at(0), Body: doc{}},
			store.Resource{Kind: "prt", Project: "p1", ID: "prt_future", DueAt: at(time.Millisecond), Body: doc{}},
			store.Resource{Kind: "prt", Project: "p1", ID: "prt_never", Body: doc{}},
		)
		tests := []struct {
			limit int
			want  []string
		}{
			{10, []string{"prt_late", "sub_later", "prt_now"}},
			{2, []string{"prt_late", "sub_later"}},
		}
		for _, tt := range tests {
			var due []store.Due
			storetest.View(t, s, func(tx *store.Tx) (err error) { due, err = tx.Due(ctx, now, tt.limit); return err })
			var got []string
			for _, d := range due {
				got = append(got, d.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Due(limit %d) = %v, want %v", tt.limit, got, tt.want)
			}
		}
		// Clearing the timer takes the resource off the list.
		put(t, s, store.Resource{Kind: "prt", Project: "p1", ID: "prt_late", Body: doc{}})
		var due []store.Due
		storetest.View(t, s, func(tx *store.Tx) (err error) { due, err = tx.Due(ctx, now, 10); return err })
		if len(due) != 2 || due[0] != (store.Due{Kind: "sub", Project: "p2", ID: "sub_later", At: *at(-time.Second)}) {
			t.Errorf("Due after clearing = %+v", due)
		}
	})
}

func event(project, id, typ string) *store.EventRow {
	return &store.EventRow{
		ID: id, Project: project, Type: typ, Resource: "prt_1", Source: "https://example.com",
		Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Data: []byte(`{"id":"prt_1"}`),
	}
}

func TestEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		types := []string{"com.gigs.porting.created", "com.gigs.porting.updated", "com.gigs.porting.completed"}
		var seqs []int64
		storetest.Update(t, s, func(tx *store.Tx) error {
			for i := range 9 {
				e := event("p1", fmt.Sprintf("evt_%02d", i), types[i%3])
				if i%3 == 1 {
					e.PreviousData = []byte(`{"status":"draft"}`)
					e.Actor = []byte(`{"type":"user"}`)
				}
				if err := tx.InsertEvent(ctx, e); err != nil {
					return err
				}
				seqs = append(seqs, e.Seq)
			}
			return tx.InsertEvent(ctx, event("p2", "evt_other", types[0]))
		})
		if !slices.IsSorted(seqs) || seqs[0] <= 0 || slices.Compact(slices.Clone(seqs))[8] != seqs[8] {
			t.Errorf("seqs %v are not positive and increasing", seqs)
		}

		var e store.EventRow
		storetest.View(t, s, func(tx *store.Tx) (err error) { e, err = tx.GetEvent(ctx, "p1", "evt_01"); return err })
		want := event("p1", "evt_01", types[1])
		if e.ID != want.ID || e.Type != want.Type || !e.Time.Equal(want.Time) || string(e.Data) != string(want.Data) ||
			string(e.PreviousData) != `{"status":"draft"}` || string(e.Actor) != `{"type":"user"}` || e.Seq != seqs[1] ||
			e.Source != want.Source || e.Resource != want.Resource {
			t.Errorf("GetEvent = %+v, want %+v with previousData and actor", e, want)
		}
		storetest.View(t, s, func(tx *store.Tx) (err error) { e, err = tx.GetEvent(ctx, "p1", "evt_00"); return err })
		if e.PreviousData != nil || e.Actor != nil {
			t.Errorf("GetEvent without previousData/actor = %q, %q, want nil", e.PreviousData, e.Actor)
		}
		if err := s.View(ctx, func(tx *store.Tx) error { _, err := tx.GetEvent(ctx, "p2", "evt_01"); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetEvent in another project = %v, want ErrNotFound", err)
		}
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.InsertEvent(ctx, event("p1", "evt_01", types[0])) }); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("InsertEvent with a taken ID = %v, want ErrDuplicate", err)
		}

		tests := []struct {
			name  string
			types []string
			want  []string
		}{
			{"all", nil, []string{"evt_08", "evt_07", "evt_06", "evt_05", "evt_04", "evt_03", "evt_02", "evt_01", "evt_00"}},
			{"one type", types[1:2], []string{"evt_07", "evt_04", "evt_01"}},
			{"two types", types[:2], []string{"evt_07", "evt_06", "evt_04", "evt_03", "evt_01", "evt_00"}},
			{"unknown type", []string{"nope"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := store.EventQuery{Project: "p1", Types: tt.types, Page: store.Page{Limit: 2}}
				var got []string
				for range 10 {
					var evs []store.EventRow
					var cur store.Cursors
					storetest.View(t, s, func(tx *store.Tx) (err error) { evs, cur, err = tx.ListEvents(ctx, q); return err })
					for _, e := range evs {
						got = append(got, e.ID)
					}
					if cur.MoreAfter == "" {
						break
					}
					q.After = cur.MoreAfter
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("ListEvents = %v, want %v", got, tt.want)
				}
			})
		}

		var byID map[string]store.EventRow
		storetest.View(t, s, func(tx *store.Tx) (err error) {
			byID, err = tx.EventsByID(ctx, []string{"evt_03", "evt_other", "evt_missing"})
			return err
		})
		if len(byID) != 2 || byID["evt_03"].Type != types[0] || byID["evt_other"].Project != "p2" {
			t.Errorf("EventsByID = %+v, want evt_03 and evt_other", byID)
		}
		storetest.View(t, s, func(tx *store.Tx) (err error) { byID, err = tx.EventsByID(ctx, nil); return err })
		if byID == nil || len(byID) != 0 {
			t.Errorf("EventsByID(nil) = %v, want an empty map", byID)
		}

		var since []store.EventRow
		storetest.View(t, s, func(tx *store.Tx) (err error) { since, err = tx.EventsSince(ctx, "p1", seqs[5], 2); return err })
		if len(since) != 2 || since[0].ID != "evt_06" || since[1].ID != "evt_07" {
			t.Errorf("EventsSince(seq of evt_05, 2) = %v, want evt_06, evt_07", since)
		}
		storetest.View(t, s, func(tx *store.Tx) (err error) { since, err = tx.EventsSince(ctx, "p1", seqs[8], 10); return err })
		if len(since) != 0 {
			t.Errorf("EventsSince(last) = %v, want none", since)
		}
	})
}

func TestIdempotencyKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		reserve := store.Idempotent{Hash: "h1", StatusCode: 0, Body: []byte(""), CreatedAt: at}
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.PutIdempotent(ctx, "p1", "k1", reserve) })
		if err := s.Update(ctx, func(tx *store.Tx) error { return tx.PutIdempotent(ctx, "p1", "k1", reserve) }); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("second PutIdempotent = %v, want ErrDuplicate", err)
		}
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.PutIdempotent(ctx, "p2", "k1", reserve) })
		done := store.Idempotent{Hash: "ignored", StatusCode: 201, Body: []byte(`{"id":"prt_1"}`), CreatedAt: at.Add(time.Second)}
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.CompleteIdempotent(ctx, "p1", "k1", done) })
		var got store.Idempotent
		storetest.View(t, s, func(tx *store.Tx) (err error) { got, err = tx.Idempotent(ctx, "p1", "k1"); return err })
		if got.Hash != "h1" || got.StatusCode != 201 || string(got.Body) != `{"id":"prt_1"}` || !got.CreatedAt.Equal(done.CreatedAt) {
			t.Errorf("Idempotent = %+v, want hash h1, 201, body, %v", got, done.CreatedAt)
		}
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.DeleteIdempotent(ctx, "p1", "k1") })
		if err := s.View(ctx, func(tx *store.Tx) error { _, err := tx.Idempotent(ctx, "p1", "k1"); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Idempotent after delete = %v, want ErrNotFound", err)
		}
		storetest.View(t, s, func(tx *store.Tx) (err error) { got, err = tx.Idempotent(ctx, "p2", "k1"); return err })
		if got.Hash != "h1" {
			t.Errorf("p2's key = %+v, want untouched", got)
		}
	})
}

func TestSettings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		get := func() string {
			t.Helper()
			var v string
			storetest.View(t, s, func(tx *store.Tx) (err error) { v, err = tx.Setting(ctx, "clock"); return err })
			return v
		}
		if v := get(); v != "" {
			t.Errorf("unset setting = %q, want empty", v)
		}
		for _, v := range []string{"1", "2"} {
			storetest.Update(t, s, func(tx *store.Tx) error { return tx.SetSetting(ctx, "clock", v) })
			if got := get(); got != v {
				t.Errorf("setting = %q, want %q", got, v)
			}
		}
	})
}

func TestUpdateRollsBackOnError(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		boom := errors.New("boom")
		ran := false
		err := s.Update(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran = true })
			if err := tx.Put(ctx, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{}}); err != nil {
				return err
			}
			if err := tx.InsertEvent(ctx, event("p1", "evt_1", "t")); err != nil {
				return err
			}
			if err := tx.SetSetting(ctx, "k", "v"); err != nil {
				return err
			}
			return fmt.Errorf("service: %w", boom)
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want the function's error", err)
		}
		if ran {
			t.Error("AfterCommit ran for a rolled-back transaction")
		}
		assertEmpty(t, s)

		// A panic rolls back too, and goes on up.
		func() {
			defer func() {
				if p := recover(); p != "oops" {
					t.Errorf("recovered %v, want the panic", p)
				}
			}()
			s.Update(ctx, func(tx *store.Tx) error {
				tx.Put(ctx, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{}})
				panic("oops")
			})
		}()
		assertEmpty(t, s)
	})
}

func assertEmpty(t *testing.T, s *store.Store) {
	t.Helper()
	storetest.View(t, s, func(tx *store.Tx) error {
		var d doc
		if err := tx.GetForUpdate(ctx, "plan", "p1", "plan_1", &d); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("resource after rollback: %v, want ErrNotFound", err)
		}
		if _, err := tx.GetEvent(ctx, "p1", "evt_1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("event after rollback: %v, want ErrNotFound", err)
		}
		if v, _ := tx.Setting(ctx, "k"); v != "" {
			t.Errorf("setting after rollback = %q", v)
		}
		return nil
	})
}

func TestAfterCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		var order []string
		storetest.Update(t, s, func(tx *store.Tx) error {
			tx.AfterCommit(func() {
				// The change is visible to others by now.
				var d doc
				if err := s.View(ctx, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "plan", "p1", "plan_1", &d) }); err != nil {
					t.Errorf("AfterCommit: committed resource not visible: %v", err)
				}
				order = append(order, "first")
			})
			tx.AfterCommit(func() { order = append(order, "second") })
			order = append(order, "fn")
			return tx.Put(ctx, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{}})
		})
		if want := []string{"fn", "first", "second"}; !slices.Equal(order, want) {
			t.Errorf("order = %v, want %v", order, want)
		}
	})
}

func TestViewIsReadOnly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		err := s.View(ctx, func(tx *store.Tx) error {
			return tx.SetSetting(ctx, "k", "v")
		})
		if err == nil {
			t.Error("a write in View succeeded")
		}
		if err := s.View(ctx, func(tx *store.Tx) error { return tx.Notify(ctx, "x") }); err == nil {
			t.Error("Notify in View succeeded")
		}
	})
}

// TestConcurrentWriters proves that Get in a write transaction locks the row
// (FOR UPDATE on PostgreSQL; the single writer on SQLite): concurrent
// read-modify-write cycles lose no update.
func TestConcurrentWriters(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		put(t, s, store.Resource{Kind: "counter", Project: "p1", ID: "c", Body: doc{}})
		const writers, each = 8, 25
		errs := make(chan error, writers)
		for range writers {
			go func() {
				var err error
				for range each {
					err = s.Update(ctx, func(tx *store.Tx) error {
						var d doc
						if err := tx.GetForUpdate(ctx, "counter", "p1", "c", &d); err != nil {
							return err
						}
						d.Count++
						return tx.Put(ctx, store.Resource{Kind: "counter", Project: "p1", ID: "c", Body: d})
					})
					if err != nil {
						break
					}
				}
				errs <- err
			}()
		}
		for range writers {
			if err := <-errs; err != nil {
				t.Errorf("writer: %v", err)
			}
		}
		var d doc
		storetest.View(t, s, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "counter", "p1", "c", &d) })
		if d.Count != writers*each {
			t.Errorf("count = %d, want %d: updates were lost", d.Count, writers*each)
		}
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		for range 2 {
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
		}
		v, err := s.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v == 0 || v != s.LatestVersion() {
			t.Errorf("Version = %d, want the latest, %d", v, s.LatestVersion())
		}
		// A second store on the same database finds it migrated.
		s2 := b.Open(t)
		if v2, _ := s2.Version(ctx); v2 != v {
			t.Errorf("second store's Version = %d, want %d", v2, v)
		}
	})
}

// TestConcurrentMigrate starts several stores on one fresh database at once,
// as several processes do: each must come up on the migrated schema.
func TestConcurrentMigrate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		const n = 4
		errs := make(chan error, 2*n)
		stores := make(chan *store.Store, 2*n)
		for range n {
			go func() {
				s, err := store.Open(ctx, b.DB, store.Options{Schema: b.Schema})
				if err == nil {
					stores <- s
					err = s.Migrate(ctx) // and Migrate on an open store, meanwhile
				}
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("concurrent Open: %v", err)
			}
		}
		close(stores)
		for s := range stores {
			if v, err := s.Version(ctx); err != nil || v != s.LatestVersion() {
				t.Errorf("Version = %d, %v; want %d", v, err, s.LatestVersion())
			}
			s.Close()
		}
	})
}

func TestNotFoundIsWrapped(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		err := s.View(ctx, func(tx *store.Tx) error { var d doc; return tx.GetForUpdate(ctx, "plan", "p1", "nope", &d) })
		if !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrDuplicate) {
			t.Errorf("err = %v, want ErrNotFound only", err)
		}
	})
}

// TestViewIsASnapshot: the statements of one View see the same data, even
// when a write commits between them (SQLite's read transactions do so;
// PostgreSQL's run REPEATABLE READ to match).
func TestViewIsASnapshot(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.SetSetting(ctx, "k", "before") })
		storetest.View(t, s, func(tx *store.Tx) error {
			v1, err := tx.Setting(ctx, "k")
			if err != nil {
				return err
			}
			storetest.Update(t, s, func(tx *store.Tx) error { return tx.SetSetting(ctx, "k", "after") })
			v2, err := tx.Setting(ctx, "k")
			if err != nil {
				return err
			}
			if v1 != "before" || v2 != "before" {
				t.Errorf("one View read %q then %q, want %q twice", v1, v2, "before")
			}
			return nil
		})
	})
}

// TestConcurrentUpdatesIsolateFailures runs many write transactions at once
// (on SQLite they commit in batches, each in a savepoint): the failing ones,
// whether their function returned an error or the database refused a
// statement, change nothing and run no AfterCommit hook; the others commit.
func TestConcurrentUpdatesIsolateFailures(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) { isolateFailures(t, b.Open(t)) })
}

// isolateFailures runs concurrent write transactions of which a third
// fail by their own choice and a third for a duplicate key, and checks
// that exactly the others commit, with their AfterCommit hooks.
func isolateFailures(t *testing.T, s *store.Store) {
	t.Helper()
	{
		storetest.Update(t, s, func(tx *store.Tx) error {
			return tx.Put(ctx, store.Resource{Kind: "user", Project: "p1", ID: "usr_taken", Unique: "taken@example.com", Body: doc{}})
		})
		const n = 60
		var hooks atomic.Int64
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.Update(ctx, func(tx *store.Tx) error {
					r := store.Resource{Kind: "user", Project: "p1", ID: fmt.Sprintf("usr_%02d", i), Body: doc{}}
					if i%3 == 2 {
						r.Unique = "taken@example.com" // the database refuses it
					}
					if err := tx.Put(ctx, r); err != nil {
						return err
					}
					tx.AfterCommit(func() { hooks.Add(1) })
					if i%3 == 1 {
						return errors.New("changed my mind")
					}
					return nil
				})
			})
		}
		wg.Wait()
		committed := 0
		for i, err := range errs {
			var got doc
			getErr := s.View(ctx, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "user", "p1", fmt.Sprintf("usr_%02d", i), &got) })
			switch i % 3 {
			case 0:
				if err != nil || getErr != nil {
					t.Errorf("transaction %d: %v, stored: %v; want committed", i, err, getErr)
				}
				committed++
			case 1:
				if err == nil || !errors.Is(getErr, store.ErrNotFound) {
					t.Errorf("transaction %d: %v, stored: %v; want its own error and nothing stored", i, err, getErr)
				}
			case 2:
				if !errors.Is(err, store.ErrDuplicate) || !errors.Is(getErr, store.ErrNotFound) {
					t.Errorf("transaction %d: %v, stored: %v; want ErrDuplicate and nothing stored", i, err, getErr)
				}
			}
		}
		if int(hooks.Load()) != committed {
			t.Errorf("%d AfterCommit hooks ran, want %d (one per committed transaction)", hooks.Load(), committed)
		}
	}
}

// TestUpdatePanicReachesTheCaller checks that a panic in a transaction's
// function panics in the caller, and rolls the transaction back.
func TestUpdatePanicReachesTheCaller(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		func() {
			defer func() {
				if p := recover(); p != "boom" {
					t.Errorf("recovered %v, want boom", p)
				}
			}()
			s.Update(ctx, func(tx *store.Tx) error {
				if err := tx.Put(ctx, store.Resource{Kind: "user", Project: "p1", ID: "usr_p", Body: doc{}}); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		var got doc
		err := s.View(ctx, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "user", "p1", "usr_p", &got) })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after the panic the write is stored: %v", err)
		}
		storetest.Update(t, s, func(tx *store.Tx) error { return tx.SetSetting(ctx, "after", "ok") }) // still usable
	})
}

// TestTxSeesItsOwnWrites checks that a transaction reads what it wrote
// itself, whatever it read before (a transaction keeps the bodies it read and
// wrote, so that reading one again costs no query).
func TestTxSeesItsOwnWrites(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		put(t, s, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{Name: "v1"}})
		read := func(tx *store.Tx, lock bool) (string, error) {
			var d doc
			var err error
			if lock {
				err = tx.GetForUpdate(ctx, "plan", "p1", "plan_1", &d)
			} else {
				err = tx.Read(ctx, "plan", "p1", "plan_1", &d)
			}
			return d.Name, err
		}
		storetest.Update(t, s, func(tx *store.Tx) error {
			steps := []struct {
				name    string
				write   func() error
				want    string
				wantErr error
			}{
				{"before any write", nil, "v1", nil},
				{"after a put", func() error {
					return tx.Put(ctx, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{Name: "v2"}})
				}, "v2", nil},
				{"after a delete", func() error { return tx.Delete(ctx, "plan", "p1", "plan_1") }, "", store.ErrNotFound},
				{"after a put again", func() error {
					return tx.Put(ctx, store.Resource{Kind: "plan", Project: "p1", ID: "plan_1", Body: doc{Name: "v3"}})
				}, "v3", nil},
			}
			for _, st := range steps {
				if st.write != nil {
					if err := st.write(); err != nil {
						return fmt.Errorf("%s: %w", st.name, err)
					}
				}
				for _, lock := range []bool{false, true, false} {
					got, err := read(tx, lock)
					if got != st.want || !errors.Is(err, st.wantErr) {
						t.Errorf("%s (lock %v): %q, %v; want %q, %v", st.name, lock, got, err, st.want, st.wantErr)
					}
				}
			}
			return nil
		})
		var got doc
		storetest.View(t, s, func(tx *store.Tx) error { return tx.GetForUpdate(ctx, "plan", "p1", "plan_1", &got) })
		if got.Name != "v3" {
			t.Errorf("after commit: %q, want v3", got.Name)
		}
	})
}

// TestPutOfAKnownRowKeepsColumns checks the filter columns after a
// transaction rewrites rows it read or wrote (it then sets only the columns
// that changed): each is found by its new values and no longer by its old.
func TestPutOfAKnownRowKeepsColumns(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		due := time.UnixMilli(1_700_000_000_000).UTC()
		v1 := store.Resource{Kind: "porting", Project: "p1", ID: "prt_1", Status: "draft", Owner: "usr_1", Ref: "sub_1",
			Unique: "k1", DueAt: &due, Body: doc{Name: "v1"}}
		put(t, s, v1)
		v2 := v1
		v2.Status, v2.Ref, v2.Unique, v2.DueAt, v2.Body = "pending", "sub_2", "", nil, doc{Name: "v2"}
		v3 := v2
		v3.Owner, v3.Unique, v3.Body = "usr_3", "k3", doc{Name: "v3"}
		storetest.Update(t, s, func(tx *store.Tx) error {
			var d doc
			if err := tx.GetForUpdate(ctx, "porting", "p1", "prt_1", &d); err != nil { // known from here on
				return err
			}
			if err := tx.Put(ctx, v2); err != nil {
				return err
			}
			return tx.Put(ctx, v3) // known from the put before
		})
		count := func(q store.Query) int {
			var n int
			storetest.View(t, s, func(tx *store.Tx) error {
				q.Project, q.Kind, q.Limit = "p1", "porting", 10
				items, _, err := tx.List(ctx, q)
				n = len(items)
				return err
			})
			return n
		}
		tests := []struct {
			name  string
			query store.Query
			want  int
		}{
			{"new status", store.Query{Status: "pending"}, 1},
			{"old status", store.Query{Status: "draft"}, 0},
			{"new owner", store.Query{Owner: "usr_3"}, 1},
			{"old owner", store.Query{Owner: "usr_1"}, 0},
			{"new ref", store.Query{Ref: "sub_2"}, 1},
			{"old ref", store.Query{Ref: "sub_1"}, 0},
		}
		for _, tt := range tests {
			if got := count(tt.query); got != tt.want {
				t.Errorf("%s: %d found, want %d", tt.name, got, tt.want)
			}
		}
		storetest.View(t, s, func(tx *store.Tx) error {
			var d doc
			if err := tx.GetUnique(ctx, "porting", "p1", "k3", &d); err != nil || d.Name != "v3" {
				t.Errorf("by the new unique key: %+v, %v; want v3", d, err)
			}
			if err := tx.GetUnique(ctx, "porting", "p1", "k1", &d); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("by the old unique key: %v, want ErrNotFound", err)
			}
			dues, err := tx.Due(ctx, due.Add(time.Hour), 10)
			if err != nil {
				return err
			}
			if len(dues) != 0 {
				t.Errorf("still due after its due time was cleared: %+v", dues)
			}
			return nil
		})
	})
}

func TestAppendEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		delivery := func(id, endpoint, event string) *store.DeliveryRow {
			return &store.DeliveryRow{ID: id, Project: "p1", EndpointID: endpoint, EventID: event, Status: store.DeliveryPending,
				NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		}
		tests := []struct {
			name    string
			events  int
			perEvt  int // deliveries per event
			ordered bool
		}{
			{"one event, no delivery", 1, 0, false},
			{"one event, one delivery", 1, 1, false},
			{"three events, two endpoints", 3, 2, true},
			{"a hundred events", 100, 1, false},
		}
		for n, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var evs []*store.EventRow
				var ds []*store.DeliveryRow
				for i := range tt.events {
					e := event("p1", fmt.Sprintf("evt_%d_%03d", n, i), "com.gigs.porting.updated")
					if i%2 == 1 {
						e.PreviousData, e.Actor = []byte(`{"status":"draft"}`), []byte(`{"type":"user"}`)
					}
					evs = append(evs, e)
					for j := range tt.perEvt {
						d := delivery(fmt.Sprintf("dlv_%d_%03d_%d", n, i, j), fmt.Sprintf("whe_%d", j), e.ID)
						d.Ordered = tt.ordered && j == 0
						ds = append(ds, d)
					}
				}
				storetest.Update(t, s, func(tx *store.Tx) error { return tx.AppendEvents(ctx, evs, ds) })
				for i := 1; i < len(evs); i++ {
					if evs[i].Seq <= evs[i-1].Seq || evs[0].Seq <= 0 {
						t.Fatalf("seqs of %s and %s: %d, %d; want positive and increasing in the order given",
							evs[i-1].ID, evs[i].ID, evs[i-1].Seq, evs[i].Seq)
					}
				}
				for _, d := range ds {
					var got store.DeliveryRow
					storetest.View(t, s, func(tx *store.Tx) (err error) { got, err = tx.DeliveryOf(ctx, d.EventID, d.EndpointID); return err })
					e := evs[slices.IndexFunc(evs, func(e *store.EventRow) bool { return e.ID == d.EventID })]
					if got.ID != d.ID || got.EventSeq != e.Seq || d.EventSeq != e.Seq || got.Ordered != d.Ordered ||
						got.Status != store.DeliveryPending || !got.NextAttemptAt.Equal(now) {
						t.Errorf("delivery %s = %+v (given %+v), want it queued for seq %d", d.ID, got, d, e.Seq)
					}
				}
				for i, e := range evs {
					var got store.EventRow
					storetest.View(t, s, func(tx *store.Tx) (err error) { got, err = tx.GetEvent(ctx, "p1", e.ID); return err })
					wantPrev := ""
					if i%2 == 1 {
						wantPrev = `{"status":"draft"}`
					}
					if got.Seq != e.Seq || string(got.Data) != string(e.Data) || string(got.PreviousData) != wantPrev ||
						(got.PreviousData == nil) != (i%2 == 0) || (got.Actor == nil) != (i%2 == 0) || !got.Time.Equal(e.Time) {
						t.Errorf("event %s = %+v, want %+v", e.ID, got, e)
					}
				}
			})
		}

		t.Run("refusals change nothing", func(t *testing.T) {
			refusals := []struct {
				name   string
				events []*store.EventRow
				ds     []*store.DeliveryRow
				want   error
			}{
				{"a delivery of an event not appended", []*store.EventRow{event("p1", "evt_r1", "t")},
					[]*store.DeliveryRow{delivery("dlv_r1", "whe_r", "evt_r1"), delivery("dlv_r2", "whe_r", "evt_elsewhere")}, nil},
				{"a taken event ID", []*store.EventRow{event("p1", "evt_r2", "t"), event("p1", "evt_0_000", "t")},
					[]*store.DeliveryRow{delivery("dlv_r3", "whe_r", "evt_r2")}, store.ErrDuplicate},
				{"deliveries of no event", nil, []*store.DeliveryRow{delivery("dlv_r4", "whe_r", "evt_r3")}, nil},
			}
			for _, r := range refusals {
				err := s.Update(ctx, func(tx *store.Tx) error { return tx.AppendEvents(ctx, r.events, r.ds) })
				if err == nil || (r.want != nil && !errors.Is(err, r.want)) {
					t.Errorf("%s: AppendEvents = %v, want an error (%v)", r.name, err, r.want)
				}
				for _, e := range r.events {
					if e.ID == "evt_0_000" {
						continue
					}
					err := s.View(ctx, func(tx *store.Tx) error { _, err := tx.GetEvent(ctx, "p1", e.ID); return err })
					if !errors.Is(err, store.ErrNotFound) {
						t.Errorf("%s: event %s after the refusal: %v, want ErrNotFound", r.name, e.ID, err)
					}
				}
				for _, d := range r.ds {
					err := s.View(ctx, func(tx *store.Tx) error { _, err := tx.DeliveryOf(ctx, d.EventID, d.EndpointID); return err })
					if !errors.Is(err, store.ErrNotFound) {
						t.Errorf("%s: delivery %s after the refusal: %v, want ErrNotFound", r.name, d.ID, err)
					}
				}
			}
		})
	})
}

// TestWritesBeforeQueries checks that what a transaction has Put is what
// every later statement of it sees, and what commits (on PostgreSQL the
// Puts wait to be written together: puts.go), and that nothing of a
// failed transaction is written.
func TestWritesBeforeQueries(t *testing.T) {
	due := time.UnixMilli(1_700_000_000_000).UTC()
	var appended atomic.Int64
	sub := func(id, status, ref string, name string) store.Resource {
		return store.Resource{Kind: "subscription", Project: "p1", ID: id, Status: status, Ref: ref, DueAt: &due, Body: doc{Name: name}}
	}
	tests := []struct {
		name  string
		query func(tx *store.Tx) ([]string, error) // after the Puts
		want  []string
	}{
		{"a list by status", func(tx *store.Tx) ([]string, error) {
			bodies, _, err := tx.List(ctx, store.Query{Kind: "subscription", Project: "p1", Status: "active"})
			var names []string
			for _, b := range bodies {
				var d doc
				if err := json.Unmarshal(b, &d); err != nil {
					return nil, err
				}
				names = append(names, d.Name)
			}
			return names, err
		}, []string{"b2", "a2"}},
		{"a list by ref", func(tx *store.Tx) ([]string, error) {
			bodies, _, err := tx.List(ctx, store.Query{Kind: "subscription", Project: "p1", Ref: "prt_1"})
			return []string{fmt.Sprint(len(bodies))}, err
		}, []string{"1"}},
		{"the timers due", func(tx *store.Tx) ([]string, error) {
			ds, err := tx.Due(ctx, due, 10)
			var ids []string
			for _, d := range ds {
				ids = append(ids, d.ID)
			}
			return ids, err
		}, []string{"sub_a", "sub_b"}},
		{"a read by ID", func(tx *store.Tx) ([]string, error) {
			var d doc
			err := tx.Read(ctx, "subscription", "p1", "sub_b", &d)
			return []string{d.Name}, err
		}, []string{"b2"}},
		{"an event appended", func(tx *store.Tx) ([]string, error) {
			e := event("p1", fmt.Sprintf("evt_w%d", appended.Add(1)), "com.gigs.subscription.updated")
			return nil, tx.AppendEvents(ctx, []*store.EventRow{e}, nil)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, b storetest.Backend) {
				s := b.Open(t)
				storetest.Update(t, s, func(tx *store.Tx) error {
					for _, r := range []store.Resource{sub("sub_a", "pending", "", "a1"), sub("sub_b", "active", "prt_1", "b1"),
						sub("sub_a", "active", "", "a2"), sub("sub_b", "active", "prt_1", "b2")} {
						if err := tx.Put(ctx, r); err != nil {
							return err
						}
					}
					got, err := tt.query(tx)
					if err != nil {
						return err
					}
					if !slices.Equal(got, tt.want) {
						t.Errorf("in the transaction: %v, want %v", got, tt.want)
					}
					return nil
				})
				for id, want := range map[string]string{"sub_a": "a2", "sub_b": "b2"} {
					var d doc
					storetest.View(t, s, func(tx *store.Tx) error { return tx.Read(ctx, "subscription", "p1", id, &d) })
					if d.Name != want {
						t.Errorf("%s after commit: %q, want %q", id, d.Name, want)
					}
				}

				// A transaction that fails after its Puts writes none of them.
				failed := errors.New("refused")
				err := s.Update(ctx, func(tx *store.Tx) error {
					if err := tx.Put(ctx, sub("sub_c", "active", "", "c1")); err != nil {
						return err
					}
					if err := tx.Put(ctx, sub("sub_a", "ended", "", "a3")); err != nil {
						return err
					}
					if _, err := tt.query(tx); err != nil {
						return err
					}
					return failed
				})
				if !errors.Is(err, failed) {
					t.Fatalf("failing Update = %v, want %v", err, failed)
				}
				var d doc
				storetest.View(t, s, func(tx *store.Tx) error { return tx.Read(ctx, "subscription", "p1", "sub_a", &d) })
				if err := s.View(ctx, func(tx *store.Tx) error { return tx.Read(ctx, "subscription", "p1", "sub_c", &d) }); !errors.Is(err, store.ErrNotFound) || d.Name != "a2" {
					t.Errorf("after a failed transaction: sub_c %v, sub_a %q; want ErrNotFound and a2", err, d.Name)
				}
			})
		})
	}
}

// TestPrefetch checks that prefetched resources read as they were when
// prefetched (on PostgreSQL, from the transaction's memory: a change
// committed meanwhile is not seen, as with any resource the transaction
// has read), and that a missing one still reads as not found.
func TestPrefetch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s := b.Open(t)
		put(t, s, store.Resource{Kind: "plan", Project: "p1", ID: "pln_1", Body: doc{Name: "plan"}},
			store.Resource{Kind: "user", Project: "p1", ID: "usr_1", Body: doc{Name: "user"}},
			store.Resource{Kind: "user", Project: "p2", ID: "usr_2", Body: doc{Name: "other project"}})
		storetest.Update(t, s, func(tx *store.Tx) error {
			keys := []store.Key{{Kind: "plan", Project: "p1", ID: "pln_1"}, {Kind: "user", Project: "p1", ID: "usr_1"},
				{Kind: "user", Project: "p1", ID: "usr_2"}, {Kind: "sim", Project: "p1", ID: "sim_missing"}}
			if err := tx.Prefetch(ctx, keys...); err != nil {
				return err
			}
			if b.Name == store.Postgres { // another process changes the plan: this transaction read it already
				storetest.Update(t, b.Open(t), func(tx2 *store.Tx) error {
					return tx2.Put(ctx, store.Resource{Kind: "plan", Project: "p1", ID: "pln_1", Body: doc{Name: "changed"}})
				})
			}
			reads := []struct {
				kind, id string
				want     string
				wantErr  error
			}{
				{"plan", "pln_1", "plan", nil},
				{"user", "usr_1", "user", nil},
				{"user", "usr_2", "", store.ErrNotFound}, // in another project
				{"sim", "sim_missing", "", store.ErrNotFound},
			}
			for _, r := range reads {
				var d doc
				err := tx.Read(ctx, r.kind, "p1", r.id, &d)
				if d.Name != r.want || !errors.Is(err, r.wantErr) {
					t.Errorf("Read %s %s after Prefetch = %q, %v; want %q, %v", r.kind, r.id, d.Name, err, r.want, r.wantErr)
				}
			}
			return nil
		})

		// More keys than one statement takes.
		var plans []store.Resource
		var keys []store.Key
		for i := range 9 {
			id := fmt.Sprintf("pln_many_%d", i)
			plans = append(plans, store.Resource{Kind: "plan", Project: "p1", ID: id, Body: doc{Name: id}})
			keys = append(keys, store.Key{Kind: "plan", Project: "p1", ID: id})
		}
		put(t, s, plans...)
		storetest.Update(t, s, func(tx *store.Tx) error {
			if err := tx.Prefetch(ctx, keys...); err != nil {
				return err
			}
			for _, k := range keys {
				var d doc
				if err := tx.Read(ctx, k.Kind, k.Project, k.ID, &d); err != nil || d.Name != k.ID {
					t.Errorf("Read %s after Prefetch of %d = %q, %v", k.ID, len(keys), d.Name, err)
				}
			}
			return nil
		})
	})
}
