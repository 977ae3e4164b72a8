package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func (s *Server) routeEvents() {
	s.Handle("GET /projects/{project}/events", s.listEvents)
	s.Handle("GET /projects/{project}/events/{id}", s.getEvent)
}

// version reads ?version=, defaulting to the project's version.
func (s *Server) version(r *http.Request) (string, error) {
	v := r.URL.Query().Get("version")
	if v == "" {
		if s.deps.DefaultVersion != "" {
			return s.deps.DefaultVersion, nil
		}
		return switchboard.LatestVersion, nil
	}
	if !eventlog.Supported(v) {
		return "", failure.New(failure.Invalid, "invalidVersion", "The version %q is not supported; supported: %s.",
			v, strings.Join(switchboard.Versions, ", "))
	}
	return v, nil
}

func (s *Server) listEvents(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	v, err := s.version(c.R)
	if err != nil {
		return 0, nil, err
	}
	q := store.EventQuery{Project: c.Project, Page: p, Resource: c.R.URL.Query().Get("resource")}
	for _, t := range c.R.URL.Query()["type"] {
		for _, part := range strings.Split(t, ",") {
			if part = strings.TrimSpace(part); part != "" {
				q.Types = append(q.Types, part)
			}
		}
	}
	if len(q.Types) > limits.MaxFilterValues {
		return 0, nil, failure.New(failure.Invalid, "tooManyFilterValues",
			"The filter type may have at most %d values.", limits.MaxFilterValues)
	}
	var events []store.EventRow
	var cur store.Cursors
	err = s.deps.Store.View(c.Ctx, func(tx *store.Tx) error {
		events, cur, err = tx.ListEvents(c.Ctx, q)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	items := make([][]byte, len(events))
	for i, e := range events {
		if items[i], err = eventlog.Render(e, v); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, rawList(items, cur), nil
}

func (s *Server) getEvent(c *Call) (int, any, error) {
	v, err := s.version(c.R)
	if err != nil {
		return 0, nil, err
	}
	id := c.R.PathValue("id")
	var e store.EventRow
	err = s.deps.Store.View(c.Ctx, func(tx *store.Tx) error {
		e, err = tx.GetEvent(c.Ctx, c.Project, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("event", id)
	}
	if err != nil {
		return 0, nil, err
	}
	b, err := eventlog.Render(e, v)
	return http.StatusOK, b, err
}
