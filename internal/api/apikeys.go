package api

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/apikey"
)

// A project's API keys are managed by the operator key and by the
// project's own keys. The token is shown whole once, in the answer to
// create, which is therefore never replayed for an idempotency key.
func (s *Server) routeAPIKeys() {
	s.Handle("POST /projects/{project}/apiKeys", s.createAPIKey)
	s.Handle("GET /projects/{project}/apiKeys", s.listAPIKeys)
	s.Handle("GET /projects/{project}/apiKeys/{id}", s.getAPIKey)
	s.Handle("DELETE /projects/{project}/apiKeys/{id}", s.deleteAPIKey)
}

func (s *Server) createAPIKey(c *Call) (int, any, error) {
	var p apikey.CreateParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	mode, err := s.deps.Projects.Mode(c.Ctx, c.Project)
	if err != nil {
		return 0, nil, err
	}
	k, err := s.deps.APIKeys.Create(c.Ctx, c.Project, mode, p)
	if err != nil {
		return 0, nil, err
	}
	c.ShowsSecret = true
	return http.StatusCreated, k, nil
}

func (s *Server) listAPIKeys(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	items, cur, err := s.deps.APIKeys.List(c.Ctx, c.Project, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newList(items, cur), nil
}

func (s *Server) getAPIKey(c *Call) (int, any, error) {
	k, err := s.deps.APIKeys.Get(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusOK, k, err
}

// deleteAPIKey revokes the key at once and answers it, redacted.
func (s *Server) deleteAPIKey(c *Call) (int, any, error) {
	id := c.R.PathValue("id")
	k, err := s.deps.APIKeys.Get(c.Ctx, c.Project, id)
	if err != nil {
		return 0, nil, err
	}
	if err := s.deps.APIKeys.Revoke(c.Ctx, c.Project, id); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, k, nil
}
