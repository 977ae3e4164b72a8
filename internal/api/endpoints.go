package api

import (
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
)

func (s *Server) routeEndpoints() {
	s.Handle("POST /projects/{project}/webhookEndpoints", s.createEndpoint)
	s.Handle("GET /projects/{project}/webhookEndpoints", s.listEndpoints)
	s.Handle("GET /projects/{project}/webhookEndpoints/{id}", s.getEndpoint)
	s.Handle("PATCH /projects/{project}/webhookEndpoints/{id}", s.updateEndpoint)
	s.Handle("DELETE /projects/{project}/webhookEndpoints/{id}", s.deleteEndpoint)
	s.Handle("POST /projects/{project}/webhookEndpoints/{id}/rotateSecret", s.rotateEndpointSecret)
}

// endpointObject is a webhook endpoint as the API shows it. Secret is shown
// only by the answers to create and rotateSecret.
type endpointObject struct {
	Object        string   `json:"object"`
	ID            string   `json:"id"`
	URL           string   `json:"url"`
	EnabledEvents []string `json:"enabledEvents"`
	Version       string   `json:"version"`
	Status        string   `json:"status"`
	Description   *string  `json:"description"`
	Ordered       bool     `json:"ordered"`
	RateLimit     *int     `json:"rateLimit"`
	// DisabledReason says why the platform disabled the endpoint.
	DisabledReason *string   `json:"disabledReason"`
	Secret         string    `json:"secret,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

func newEndpointObject(e endpoint.Endpoint, secret string) endpointObject {
	return endpointObject{
		Object: "webhookEndpoint", ID: e.ID, URL: e.URL, EnabledEvents: e.EnabledEvents, Version: e.Version,
		Status: e.Status, Description: e.Description, Ordered: e.Ordered, RateLimit: e.RateLimit,
		DisabledReason: e.DisabledReason, Secret: secret,
		CreatedAt: clock.Second(e.CreatedAt), UpdatedAt: clock.Second(e.UpdatedAt),
	}
}

func (s *Server) createEndpoint(c *Call) (int, any, error) {
	var in endpoint.Input
	if err := decode(c.R, &in); err != nil {
		return 0, nil, err
	}
	c.ShowsSecret = true
	e, secret, err := s.deps.Endpoints.Create(c.Ctx, c.Project, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, newEndpointObject(e, secret), nil
}

func (s *Server) listEndpoints(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	es, cur, err := s.deps.Endpoints.List(c.Ctx, c.Project, p)
	if err != nil {
		return 0, nil, err
	}
	items := make([]endpointObject, len(es))
	for i, e := range es {
		items[i] = newEndpointObject(e, "")
	}
	return http.StatusOK, newList(items, cur), nil
}

func (s *Server) getEndpoint(c *Call) (int, any, error) {
	e, err := s.deps.Endpoints.Get(c.Ctx, c.Project, c.R.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newEndpointObject(e, ""), nil
}

func (s *Server) updateEndpoint(c *Call) (int, any, error) {
	id := c.R.PathValue("id")
	if _, err := s.deps.Endpoints.Get(c.Ctx, c.Project, id); err != nil { // path before body
		return 0, nil, err
	}
	var p endpoint.Patch
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	e, err := s.deps.Endpoints.Update(c.Ctx, c.Project, id, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newEndpointObject(e, ""), nil
}

func (s *Server) deleteEndpoint(c *Call) (int, any, error) {
	id := c.R.PathValue("id")
	e, err := s.deps.Endpoints.Get(c.Ctx, c.Project, id)
	if err != nil {
		return 0, nil, err
	}
	if err := s.deps.Endpoints.Delete(c.Ctx, c.Project, id); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newEndpointObject(e, ""), nil
}

func (s *Server) rotateEndpointSecret(c *Call) (int, any, error) {
	c.ShowsSecret = true
	e, secret, err := s.deps.Endpoints.RotateSecret(c.Ctx, c.Project, c.R.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, newEndpointObject(e, secret), nil
}
