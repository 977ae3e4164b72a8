package store_test

import (
	"errors"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

func init() { store.Memoize("memo") }

// memoNames returns the names of p1's "memo" resources as Memo serves them
// through s, and whether load ran to compute them.
func memoNames(t *testing.T, s *store.Store, view bool) (names []string, loaded bool) {
	t.Helper()
	fn := func(tx *store.Tx) error {
		var err error
		names, err = memoNamesIn(tx, &loaded)
		return err
	}
	if view {
		storetest.View(t, s, fn)
	} else {
		storetest.Update(t, s, fn)
	}
	return names, loaded
}

// TestMemo checks that a memoized view is served from memory until a
// resource of its kind and project changes, through this store handle or
// another one (another process), and that a rolled-back change or a change
// elsewhere leaves it valid.
func TestMemo(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		s, other := b.Open(t), b.Open(t)
		put(t, s, store.Resource{Kind: "memo", Project: "p1", ID: "m1", Body: doc{Name: "one"}})

		steps := []struct {
			name       string
			change     func(t *testing.T)
			wantLen    int
			wantLoaded bool
		}{
			{"first read loads", nil, 1, true},
			{"second read is memoized", nil, 1, false},
			{"put through this handle invalidates", func(t *testing.T) {
				put(t, s, store.Resource{Kind: "memo", Project: "p1", ID: "m2", Body: doc{Name: "two"}})
			}, 2, true},
			{"memoized again", nil, 2, false},
			{"put through another handle invalidates", func(t *testing.T) {
				put(t, other, store.Resource{Kind: "memo", Project: "p1", ID: "m3", Body: doc{Name: "three"}})
			}, 3, true},
			{"delete invalidates", func(t *testing.T) {
				storetest.Update(t, other, func(tx *store.Tx) error { return tx.Delete(ctx, "memo", "p1", "m3") })
			}, 2, true},
			{"other kinds and projects leave it", func(t *testing.T) {
				put(t, s, store.Resource{Kind: "plan", Project: "p1", ID: "x1", Body: doc{}},
					store.Resource{Kind: "memo", Project: "p2", ID: "x2", Body: doc{}})
			}, 2, false},
			{"a rolled-back put leaves it", func(t *testing.T) {
				boom := errors.New("boom")
				err := s.Update(ctx, func(tx *store.Tx) error {
					if err := tx.Put(ctx, store.Resource{Kind: "memo", Project: "p1", ID: "m4", Body: doc{}}); err != nil {
						return err
					}
					var loaded bool
					if names, _ := memoNamesIn(tx, &loaded); len(names) != 3 {
						t.Errorf("inside the changing transaction: %d names, want 3 (its own put)", len(names))
					}
					return boom
				})
				if !errors.Is(err, boom) {
					t.Fatalf("Update = %v, want boom", err)
				}
			}, 2, false},
		}
		for _, st := range steps {
			if st.change != nil {
				st.change(t)
			}
			for _, view := range []bool{true, false} {
				names, loaded := memoNames(t, s, view)
				if len(names) != st.wantLen || loaded != st.wantLoaded {
					t.Errorf("%s (view %v): %d names, loaded %v; want %d, loaded %v",
						st.name, view, len(names), loaded, st.wantLen, st.wantLoaded)
				}
				st.wantLoaded = false // the first read memoized it
			}
		}
	})
}

// memoNamesIn reads p1's memo names in tx, setting *loaded when it had to
// load them.
func memoNamesIn(tx *store.Tx, loaded *bool) ([]string, error) {
	v, err := tx.Memo(ctx, "memo", "p1", func() (any, error) {
		*loaded = true
		items, _, err := tx.List(ctx, store.Query{Kind: "memo", Project: "p1", Page: store.Page{Limit: 100}})
		out := make([]string, len(items))
		for i, b := range items {
			out[i] = string(b)
		}
		return out, err
	})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// TestMemoNeedsMemoize checks that Memo refuses a kind without generations,
// whose views it could not tell stale.
func TestMemoNeedsMemoize(t *testing.T) {
	s := storetest.New(t, store.SQLite).Open(t)
	err := s.View(ctx, func(tx *store.Tx) error {
		_, err := tx.Memo(ctx, "plan", "p1", func() (any, error) { return nil, nil })
		return err
	})
	if err == nil {
		t.Fatal("Memo of a kind never memoized: no error")
	}
}
