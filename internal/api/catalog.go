package api

import (
	"net/http"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/catalog"
	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func (s *Server) routeCatalog() {
	s.Handle("GET /serviceProviders", s.listServiceProviders)
	s.Handle("POST /projects/{project}/plans", s.createPlan)
	s.Handle("GET /projects/{project}/plans", s.listKind(catalog.PlanKind, "status"))
	s.Handle("GET /projects/{project}/plans/{id}", s.getPlan)
	s.Handle("GET /projects/{project}/sims", s.listKind(catalog.SimKind, "status"))
	s.Handle("GET /projects/{project}/sims/{id}", s.getSim)
}

func (s *Server) listServiceProviders(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	var items []switchboard.ServiceProvider
	var cur store.Cursors
	err = s.deps.Store.View(c.Ctx, func(tx *store.Tx) error {
		items, cur, err = catalog.ServiceProviders(c.Ctx, tx, c.R.URL.Query().Get("recipientProvider"), p)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newList(items, cur), nil
}

// listKind lists a project's stored resources of one kind, filtered by the
// named query parameters (status → the status column, user → owner,
// subscription/porting → ref).
func (s *Server) listKind(kind string, filters ...string) Handler {
	return func(c *Call) (int, any, error) {
		p, err := page(c.R)
		if err != nil {
			return 0, nil, err
		}
		q := store.Query{Kind: kind, Project: c.Project, Page: p}
		for _, f := range filters {
			v := c.R.URL.Query().Get(f)
			switch f {
			case "status":
				q.Status = v
			case "user":
				q.Owner = v
			default:
				q.Ref = v
			}
		}
		var items [][]byte
		var cur store.Cursors
		err = s.deps.Store.View(c.Ctx, func(tx *store.Tx) error {
			items, cur, err = tx.List(c.Ctx, q)
			return err
		})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, rawList(items, cur), nil
	}
}

func (s *Server) createPlan(c *Call) (int, any, error) {
	var p catalog.PlanParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	plan, err := catalog.NewPlan(p, clock.Second(s.deps.Clock.For(c.Project).Now()))
	if err != nil {
		return 0, nil, err
	}
	err = s.deps.Store.Update(c.Ctx, func(tx *store.Tx) error { return catalog.PutPlan(c.Ctx, tx, c.Project, plan) })
	return http.StatusCreated, plan, err
}

func (s *Server) getPlan(c *Call) (int, any, error) {
	var plan *switchboard.Plan
	err := s.deps.Store.View(c.Ctx, func(tx *store.Tx) (err error) {
		plan, err = catalog.LoadPlan(c.Ctx, tx, c.Project, c.R.PathValue("id"))
		return err
	})
	return http.StatusOK, plan, err
}

func (s *Server) getSim(c *Call) (int, any, error) {
	var sim *switchboard.Sim
	err := s.deps.Store.View(c.Ctx, func(tx *store.Tx) (err error) {
		sim, err = catalog.LoadSim(c.Ctx, tx, c.Project, c.R.PathValue("id"))
		return err
	})
	return http.StatusOK, sim, err
}
