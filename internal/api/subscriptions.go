package api

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/subscription"
)

func (s *Server) routeSubscriptions() {
	s.Handle("POST /projects/{project}/subscriptions", s.createSubscription)
	s.Handle("GET /projects/{project}/subscriptions", s.listSubscriptions)
	s.Handle("GET /projects/{project}/subscriptions/{id}", s.getSubscription)
	s.Handle("POST /projects/{project}/subscriptions/{id}/cancel", s.cancelSubscription)
	s.Handle("POST /projects/{project}/subscriptions/{id}/resume", s.resumeSubscription)
	s.Handle("POST /projects/{project}/subscriptions/{id}/portOutCredentials", s.issuePortOutCredentials)
	// Gated as the portings' simulate route is: test projects only (403
	// testModeOnly on a live one), and only while the simulator is on.
	s.Handle("POST /projects/{project}/subscriptions/{id}/simulate", s.testOnly(s.simulateSubscription))
}

// Subscription actions the simulator performs.
const (
	// actionPortOut completes a port-out of the number to another carrier,
	// with the account PIN of the subscription's port-out credentials.
	actionPortOut = "portOut"
	// actionPaymentFailed and actionPaymentDisputed end the subscription
	// as billing would.
	actionPaymentFailed   = "paymentFailed"
	actionPaymentDisputed = "paymentDisputed"
)

// subscriptionActions lists the actions of a subscription's simulate route.
var subscriptionActions = []string{actionPortOut, actionPaymentFailed, actionPaymentDisputed}

// simulateSubscriptionParams ask the simulator to end a subscription as
// the outside world would.
type simulateSubscriptionParams struct {
	// Action is portOut, paymentFailed or paymentDisputed.
	Action string `json:"action"`
	// AccountPin is the PIN of the subscription's port-out credentials,
	// with the action portOut; never repeated.
	AccountPin *string `json:"accountPin"`
}

// simulateSubscription ends a subscription as the outside world would: a
// port-out to another carrier (phoneNumberPortedOut), or a failed or
// disputed payment. The PIN it takes is never repeated, in an answer, an
// error or a log line.
func (s *Server) simulateSubscription(c *Call) (int, any, error) {
	var p simulateSubscriptionParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	if p.Action == "" {
		return 0, nil, failure.New(failure.Invalid, "fieldRequired", "The field action is required.")
	}
	if err := field.OneOf("action", p.Action, subscriptionActions...); err != nil {
		return 0, nil, err
	}
	id := c.R.PathValue("id")
	if p.Action != actionPortOut {
		if p.AccountPin != nil {
			return 0, nil, failure.New(failure.Invalid, "invalidAccountPin", "The field accountPin goes only with the action portOut.")
		}
		sub, err := s.deps.Subscriptions.SimulateEnd(c.Ctx, c.Project, id, p.Action)
		return http.StatusOK, sub, err
	}
	pin := ""
	if p.AccountPin != nil {
		pin = *p.AccountPin
	}
	sub, err := s.deps.PortOut.PortOut(c.Ctx, c.Project, id, pin)
	return http.StatusOK, sub, err
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
