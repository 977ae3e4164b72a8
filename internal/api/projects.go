package api

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/project"
)

// Projects are the operator's: only the operator key creates, lists and
// changes them (a project key gets 403 operatorKeyRequired). A project key
// may read its own project (its mode, say); any other is 404.
func (s *Server) routeProjects() {
	s.HandleOperator("POST /projects", s.createProject)
	s.HandleOperator("GET /projects", s.listProjects)
	s.Handle("GET /projects/{project}", s.getProject)
	s.HandleOperator("PATCH /projects/{project}", s.updateProject)
}

func (s *Server) createProject(c *Call) (int, any, error) {
	var p project.CreateParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	pr, err := s.deps.Projects.Create(c.Ctx, p)
	return http.StatusCreated, pr, err
}

func (s *Server) listProjects(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	items, cur, err := s.deps.Projects.List(c.Ctx, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newList(items, cur), nil
}

func (s *Server) getProject(c *Call) (int, any, error) {
	pr, err := s.deps.Projects.Get(c.Ctx, c.Project)
	return http.StatusOK, pr, err
}

func (s *Server) updateProject(c *Call) (int, any, error) {
	var p project.UpdateParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	pr, err := s.deps.Projects.Update(c.Ctx, c.Project, p)
	return http.StatusOK, pr, err
}
