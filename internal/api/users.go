package api

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/user"
)

func (s *Server) routeUsers() {
	s.Handle("POST /projects/{project}/users", s.createUser)
	s.Handle("GET /projects/{project}/users", s.listUsers)
	s.Handle("GET /projects/{project}/users/{id}", s.getUser)
	s.Handle("PATCH /projects/{project}/users/{id}", s.updateUser)
	s.Handle("DELETE /projects/{project}/users/{id}", s.deleteUser)
}

func (s *Server) listUsers(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	items, cur, err := s.deps.Users.List(c.Ctx, c.Project, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newList(items, cur), nil
}

// deleteUser deletes the user, ends its subscriptions (cause userDeleted)
// and cancels its open portings; it answers with the user as it was.
func (s *Server) deleteUser(c *Call) (int, any, error) {
	u, err := s.deps.Users.Delete(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusOK, u, err
}

func (s *Server) createUser(c *Call) (int, any, error) {
	var p user.Params
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	u, err := s.deps.Users.Create(c.Ctx, c.Project, p)
	return http.StatusCreated, u, err
}

func (s *Server) getUser(c *Call) (int, any, error) {
	u, err := s.deps.Users.Get(c.Ctx, c.Project, c.R.PathValue("id"))
	return http.StatusOK, u, err
}

func (s *Server) updateUser(c *Call) (int, any, error) {
	var p user.Params
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	u, err := s.deps.Users.Update(c.Ctx, c.Project, c.R.PathValue("id"), p)
	return http.StatusOK, u, err
}
