package api

import (
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/delivery"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func (s *Server) routeDeliveries() {
	s.Handle("GET /projects/{project}/webhookEndpoints/{id}/deliveries", s.endpointDeliveries)
	s.Handle("POST /projects/{project}/webhookEndpoints/{id}/recover", s.recoverEndpoint)
	s.Handle("GET /projects/{project}/events/{id}/deliveries", s.eventDeliveries)
	s.Handle("POST /projects/{project}/events/{id}/resend", s.resendEvent)
}

// deliveryObject is one event's delivery to one endpoint.
type deliveryObject struct {
	Object   string `json:"object"`
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	Event    string `json:"event"`
	// Status is pending, succeeded or failed.
	Status string `json:"status"`
	// Paused is true while the endpoint is disabled.
	Paused   bool            `json:"paused"`
	Attempts []attemptObject `json:"attempts"`
	// NextAttemptAt is when a pending delivery is next tried.
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

// attemptObject is one try: the response, or the error when none came.
type attemptObject struct {
	AttemptedAt    time.Time `json:"attemptedAt"`
	ResponseStatus *int      `json:"responseStatus"`
	// ResponseBody is the start of the response body (at most 1 KiB).
	ResponseBody *string `json:"responseBody"`
	LatencyMs    int64   `json:"latencyMs"`
	Error        *string `json:"error"`
}

func newDeliveryObject(d store.DeliveryRow, attempts []store.Attempt) deliveryObject {
	o := deliveryObject{
		Object: "webhookDelivery", ID: d.ID, Endpoint: d.EndpointID, Event: d.EventID, Status: d.Status,
		Paused: d.Paused, Attempts: make([]attemptObject, len(attempts)),
		CreatedAt: clock.Second(d.CreatedAt), UpdatedAt: clock.Second(d.UpdatedAt),
	}
	if d.Status == store.DeliveryPending {
		next := clock.Second(d.NextAttemptAt)
		o.NextAttemptAt = &next
	}
	for i, a := range attempts {
		ao := attemptObject{AttemptedAt: clock.Second(a.At), LatencyMs: a.Latency.Milliseconds()}
		if a.StatusCode != 0 {
			status, body := a.StatusCode, a.ResponseBody
			ao.ResponseStatus, ao.ResponseBody = &status, &body
		}
		if a.Error != "" {
			msg := a.Error
			ao.Error = &msg
		}
		o.Attempts[i] = ao
	}
	return o
}

func deliveryList(ds []delivery.Delivery, cur store.Cursors) list {
	items := make([]deliveryObject, len(ds))
	for i, d := range ds {
		items[i] = newDeliveryObject(d.DeliveryRow, d.Attempts)
	}
	return newList(items, cur)
}

func (s *Server) endpointDeliveries(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	ds, cur, err := s.deps.Deliveries.ForEndpoint(c.Ctx, c.Project, c.R.PathValue("id"), p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, deliveryList(ds, cur), nil
}

func (s *Server) eventDeliveries(c *Call) (int, any, error) {
	p, err := page(c.R)
	if err != nil {
		return 0, nil, err
	}
	ds, cur, err := s.deps.Deliveries.ForEvent(c.Ctx, c.Project, c.R.PathValue("id"), p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, deliveryList(ds, cur), nil
}

// resendParams name the endpoint to resend to; every matching endpoint when
// empty.
type resendParams struct {
	Endpoint string `json:"endpoint"`
}

func (s *Server) resendEvent(c *Call) (int, any, error) {
	var in resendParams
	if err := decode(c.R, &in); err != nil {
		return 0, nil, err
	}
	ds, err := s.deps.Deliveries.Resend(c.Ctx, c.Project, c.R.PathValue("id"), in.Endpoint)
	if err != nil {
		return 0, nil, err
	}
	items := make([]deliveryObject, len(ds))
	for i, d := range ds {
		items[i] = newDeliveryObject(d, nil)
	}
	return http.StatusOK, newList(items, store.Cursors{}), nil
}

// recoveryObject answers a recover request.
type recoveryObject struct {
	Object   string    `json:"object"`
	Endpoint string    `json:"endpoint"`
	Since    time.Time `json:"since"`
	// Requeued is how many failed deliveries were queued again.
	Requeued int `json:"requeued"`
}

// recoverParams say from when on failed deliveries are queued again.
type recoverParams struct {
	Since *time.Time `json:"since"`
}

func (s *Server) recoverEndpoint(c *Call) (int, any, error) {
	var in recoverParams
	if err := decode(c.R, &in); err != nil {
		return 0, nil, err
	}
	if in.Since == nil {
		return 0, nil, required("since")
	}
	if in.Since.After(s.deps.Wall.Now()) {
		return 0, nil, failure.New(failure.Invalid, "invalidSince", "The field since must not be in the future.")
	}
	id := c.R.PathValue("id")
	n, err := s.deps.Deliveries.Recover(c.Ctx, c.Project, id, *in.Since)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, recoveryObject{Object: "webhookRecovery", Endpoint: id, Since: in.Since.UTC(), Requeued: n}, nil
}
