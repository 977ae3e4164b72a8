package api

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/porting"
)

func (s *Server) routePortings() {
	s.Handle("POST /projects/{project}/portings", s.createPorting)
	s.Handle("GET /projects/{project}/portings", s.listPortings)
	s.Handle("GET /projects/{project}/portings/{id}", s.getPorting)
	s.Handle("PATCH /projects/{project}/portings/{id}", s.updatePorting)
	s.Handle("POST /projects/{project}/portings/{id}/cancel", s.cancelPorting)
	s.Handle("DELETE /projects/{project}/portings/{id}", s.deletePorting)
	s.Handle("POST /projects/{project}/portings/{id}/simulate", s.testOnly(s.simulatePorting))
}

func (s *Server) createPorting(c *Call) (int, any, error) {
	var p porting.CreateParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	prt, err := s.deps.Portings.Create(c.Ctx, c.Project, p)
	return http.StatusCreated, prt, err
}

func (s *Server) listPortings(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	q := c.R.URL.Query()
	f := porting.Filter{Status: q.Get("status"), User: q.Get("user"), Subscription: q.Get("subscription"), Page: p}
	items, cur, err := s.deps.Portings.List(c.Ctx, c.Project, f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newList(items, cur), nil
}

func (s *Server) getPorting(c *Call) (int, any, error) {
	p, err := s.deps.Portings.Get(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusOK, p, err
}

func (s *Server) updatePorting(c *Call) (int, any, error) {
	var p porting.UpdateParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	prt, err := s.deps.Portings.Update(c.Ctx, c.Project, c.R.PathValue("id"), p)
	return http.StatusOK, prt, err
}

func (s *Server) cancelPorting(c *Call) (int, any, error) {
	if err := decode(c.R, &struct{}{}); err != nil {
		return 0, nil, err
	}
	p, err := s.deps.Portings.Cancel(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusOK, p, err
}

func (s *Server) deletePorting(c *Call) (int, any, error) {
	p, err := s.deps.Portings.Delete(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusOK, p, err
}

// simulatePortingParams ask the simulated network provider to act on a
// porting.
type simulatePortingParams struct {
	// Action is request, complete, decline or expire.
	Action string `json:"action"`
	// DeclinedCode is the decline code of a decline.
	DeclinedCode string `json:"declinedCode"`
}

func (s *Server) simulatePorting(c *Call) (int, any, error) {
	var p simulatePortingParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	if p.Action == "" {
		return 0, nil, failure.New(failure.Invalid, "fieldRequired", "The field action is required.")
	}
	prt, err := s.deps.Portings.Act(c.Ctx, c.Project, c.R.PathValue("id"), p.Action, p.DeclinedCode)
	return http.StatusOK, prt, err
}
