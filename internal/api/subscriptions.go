package api

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/subscription"
)

func (s *Server) routeSubscriptions() {
	s.Handle("POST /projects/{project}/subscriptions", s.createSubscription)
	s.Handle("GET /projects/{project}/subscriptions", s.listSubscriptions)
	s.Handle("GET /projects/{project}/subscriptions/{id}", s.getSubscription)
	s.Handle("POST /projects/{project}/subscriptions/{id}/cancel", s.cancelSubscription)
	s.Handle("POST /projects/{project}/subscriptions/{id}/resume", s.resumeSubscription)
	s.Handle("POST /projects/{project}/subscriptions/{id}/portOutCredentials", s.issuePortOutCredentials)
}

func (s *Server) createSubscription(c *Call) (int, any, error) {
	var p subscription.CreateParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	sub, err := s.deps.Subscriptions.Create(c.Ctx, c.Project, p)
	return http.StatusCreated, sub, err
}

func (s *Server) listSubscriptions(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	q := c.R.URL.Query()
	items, cur, err := s.deps.Subscriptions.List(c.Ctx, c.Project, subscription.Filter{Status: q.Get("status"), User: q.Get("user"), Page: p})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newList(items, cur), nil
}

func (s *Server) getSubscription(c *Call) (int, any, error) {
	sub, err := s.deps.Subscriptions.Get(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusOK, sub, err
}

func (s *Server) cancelSubscription(c *Call) (int, any, error) {
	var p subscription.CancelParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	sub, err := s.deps.Subscriptions.Cancel(c.Ctx, c.Project, c.R.PathValue("id"), p)
	return http.StatusOK, sub, err
}

func (s *Server) resumeSubscription(c *Call) (int, any, error) {
	if err := decode(c.R, &struct{}{}); err != nil {
		return 0, nil, err
	}
	sub, err := s.deps.Subscriptions.Resume(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusOK, sub, err
}

// issuePortOutCredentials answers with the only rendering that ever shows
// the PIN.
func (s *Server) issuePortOutCredentials(c *Call) (int, any, error) {
	if err := decode(c.R, &struct{}{}); err != nil {
		return 0, nil, err
	}
	c.ShowsSecret = true
	creds, err := s.deps.PortOut.Issue(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusCreated, creds, err
}
