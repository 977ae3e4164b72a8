package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/client"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/porting"
)

func init() {
	commands["trigger"] = command{"create resources and drive them until an event fires", trigger}
}

// scenario drives resources until its event fires and returns the ID of the
// resource the event is about.
type scenario struct {
	how string
	run func(ctx context.Context, t *triggerRun) (string, error)
}

// scenarios drive each event type; every type of switchboard.EventTypes has
// one.
var scenarios = map[string]scenario{
	switchboard.TypeUserCreated: {"create a user", func(ctx context.Context, t *triggerRun) (string, error) {
		u, err := t.user(ctx)
		if err != nil {
			return "", err
		}
		return u.ID, nil
	}},
	switchboard.TypeUserUpdated: {"create a user, update its name", func(ctx context.Context, t *triggerRun) (string, error) {
		u, err := t.user(ctx)
		if err != nil {
			return "", err
		}
		name := "Ada L. Lovelace"
		_, err = t.c.UpdateUser(ctx, u.ID, client.UserParams{FullName: &name})
		return u.ID, err
	}},

	switchboard.TypeAPIKeyCreated: {"create an API key, revoke it", func(ctx context.Context, t *triggerRun) (string, error) {
		k, err := t.c.CreateAPIKey(ctx, "switchboard trigger", nil)
		if err != nil {
			return "", err
		}
		t.note("apiKey", k.ID)
		// The key served only to fire the event: it must not stay valid.
		_, err = t.c.RevokeAPIKey(ctx, k.ID)
		return k.ID, err
	}},

	switchboard.TypePortingCreated: {"create a draft porting", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.porting(ctx, true)
		if err != nil {
			return "", err
		}
		return p.ID, nil
	}},
	switchboard.TypePortingUpdated: {"create a draft porting, update its account number", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.porting(ctx, true)
		if err != nil {
			return "", err
		}
		acct := "987654321"
		_, err = t.c.UpdatePorting(ctx, p.ID, client.PortingUpdate{AccountNumber: &acct})
		return p.ID, err
	}},
	switchboard.TypePortingDeleted: {"create a draft porting, delete it", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.porting(ctx, true)
		if err != nil {
			return "", err
		}
		_, err = t.c.DeletePorting(ctx, p.ID)
		return p.ID, err
	}},
	switchboard.TypePortingInformationRequired: {"subscribe with a porting that lacks its account PIN", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.openPorting(ctx, false)
		if err != nil {
			return "", err
		}
		return p.ID, nil
	}},
	switchboard.TypePortingRequested: {"subscribe with a porting, simulate request", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.openPorting(ctx, true)
		if err != nil {
			return "", err
		}
		return p.ID, t.act(ctx, p.ID, porting.ActionRequest, "")
	}},
	switchboard.TypePortingDeclined: {"subscribe with a porting, simulate request and decline (--code)", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.openPorting(ctx, true)
		if err != nil {
			return "", err
		}
		if err := t.act(ctx, p.ID, porting.ActionRequest, ""); err != nil {
			return "", err
		}
		return p.ID, t.act(ctx, p.ID, porting.ActionDecline, t.declinedCode)
	}},
	switchboard.TypePortingCompleted: {"subscribe with a porting, simulate request and complete", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.openPorting(ctx, true)
		if err != nil {
			return "", err
		}
		return p.ID, t.completePorting(ctx, p.ID)
	}},
	switchboard.TypePortingCanceled: {"subscribe with a porting, cancel it", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.openPorting(ctx, true)
		if err != nil {
			return "", err
		}
		_, err = t.c.CancelPorting(ctx, p.ID)
		return p.ID, err
	}},
	switchboard.TypePortingExpired: {"subscribe with a porting, simulate expire", func(ctx context.Context, t *triggerRun) (string, error) {
		p, err := t.openPorting(ctx, true)
		if err != nil {
			return "", err
		}
		return p.ID, t.act(ctx, p.ID, porting.ActionExpire, "")
	}},

	switchboard.TypeSubscriptionCreated: {"subscribe a user to a plan", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}},
	switchboard.TypeSubscriptionActivated: {"subscribe a user to a plan (activates with a new number)", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}},
	switchboard.TypeSubscriptionUpdated: {"subscribe a user to a plan (activation updates it)", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}},
	switchboard.TypeSubscriptionRenewed: {"subscribe, advance the clock past the period's end", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		if s.CurrentPeriod == nil {
			return "", fmt.Errorf("subscription %s has no current period", s.ID)
		}
		clk, err := t.c.GetClock(ctx)
		if err != nil {
			return "", err
		}
		_, err = t.c.AdvanceClock(ctx, s.CurrentPeriod.End.Sub(clk.Time)+time.Second)
		return s.ID, err
	}},
	switchboard.TypeSubscriptionCanceled: {"subscribe, cancel at the period's end", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		_, err = t.c.CancelSubscription(ctx, s.ID, client.CancelParams{})
		return s.ID, err
	}},
	switchboard.TypeSubscriptionResumed: {"subscribe, cancel at the period's end, resume", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		if _, err := t.c.CancelSubscription(ctx, s.ID, client.CancelParams{}); err != nil {
			return "", err
		}
		_, err = t.c.ResumeSubscription(ctx, s.ID)
		return s.ID, err
	}},
	switchboard.TypeSubscriptionEnded: {"subscribe, end it for --cause: cancel immediately (cancellationRequested), delete the user " +
		"(userDeleted), issue port-out credentials and simulate portOut (phoneNumberPortedOut), or simulate paymentFailed or " +
		"paymentDisputed", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		return s.ID, t.end(ctx, s.ID)
	}},

	switchboard.TypeUserDeleted: {"create a user, delete it", func(ctx context.Context, t *triggerRun) (string, error) {
		u, err := t.user(ctx)
		if err != nil {
			return "", err
		}
		_, err = t.c.DeleteUser(ctx, u.ID)
		return u.ID, err
	}},

	switchboard.TypeSimUpdated: {"subscribe a user to a plan (its SIM activates)", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		return simOf(s)
	}},
	switchboard.TypeSimRetired: {"subscribe, end the subscription as for subscription.ended (--cause)", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		sim, err := simOf(s)
		if err != nil {
			return "", err
		}
		return sim, t.end(ctx, s.ID)
	}},

	switchboard.TypePortOutCredentialsIssued: {"subscribe, issue port-out credentials", func(ctx context.Context, t *triggerRun) (string, error) {
		s, err := t.activeSubscription(ctx)
		if err != nil {
			return "", err
		}
		_, err = t.c.IssuePortOutCredentials(ctx, s.ID)
		return s.ID, err
	}},
}

func trigger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("trigger", stderr)
	api := addAPIFlags(fs)
	list := fs.Bool("list", false, "list the event types trigger knows")
	code := fs.String("code", "portingAccountPinRequiredOrInvalid", "the decline code of com.gigs.porting.declined")
	cause := fs.String("cause", switchboard.CauseCancellationRequested, "why com.gigs.subscription.ended (and com.gigs.sim.retired) fire: "+
		strings.Join(endCauses, ", "))
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the event")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: switchboard trigger [flags] <event type>\n       switchboard trigger --list\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *list {
		return writeTriggerList(stdout, api.json)
	}
	if len(pos) != 1 {
		return usageError("trigger needs one event type; trigger --list names them")
	}
	typ := pos[0]
	sc, ok := scenarios[typ]
	if !ok {
		return usageError("unknown event type %q; trigger --list names them", typ)
	}
	if _, ok := porting.DeclineMessages[*code]; !ok {
		return usageError("unknown decline code %q", *code)
	}
	if !slices.Contains(endCauses, *cause) {
		return usageError("unknown cause %q; one of %s", *cause, strings.Join(endCauses, ", "))
	}
	c, err := api.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	t := &triggerRun{c: c, declinedCode: *code, cause: *cause}
	res, err := runTrigger(ctx, t, typ, sc)
	if err != nil {
		return fmt.Errorf("%s: %w", typ, err)
	}
	if api.json {
		return writeJSON(stdout, res)
	}
	return writeTriggerResult(stdout, res)
}

// writeTriggerResult writes the event that fired and the resources created.
func writeTriggerResult(w io.Writer, res *triggerResult) error {
	fmt.Fprintf(w, "Triggered %s (event %s)\n", res.Type, res.Event)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range res.Created {
		fmt.Fprintf(tw, "  %s\t%s\n", r.Kind, r.ID)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// triggerResult is what trigger prints.
type triggerResult struct {
	Type string `json:"type"`
	// Event is the ID of the event that fired.
	Event string `json:"event"`
	// Resource is the ID of the resource the event is about.
	Resource string `json:"resource"`
	// Created are the resources trigger created, in order.
	Created []created `json:"created"`
}

type created struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// runTrigger runs the scenario and waits for its event.
func runTrigger(ctx context.Context, t *triggerRun, typ string, sc scenario) (*triggerResult, error) {
	resource, err := sc.run(ctx, t)
	if err != nil {
		return nil, err
	}
	ev, err := awaitEvent(ctx, t.c, typ, resource)
	if err != nil {
		return nil, err
	}
	return &triggerResult{Type: typ, Event: ev.ID, Resource: resource, Created: t.created}, nil
}

// awaitEvent polls the event log until an event of the type about the
// resource appears.
func awaitEvent(ctx context.Context, c *client.Client, typ, resource string) (*switchboard.Event, error) {
	for wait := 20 * time.Millisecond; ; wait = min(wait*2, time.Second) {
		l, err := c.ListEvents(ctx, client.EventFilter{Types: []string{typ}, Page: client.Page{Limit: 50}})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			if client.ResourceID(&l.Items[i]) == resource {
				return &l.Items[i], nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no %s event for %s arrived: %w", typ, resource, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// writeTriggerList writes the event types trigger knows and how it makes
// each fire.
func writeTriggerList(w io.Writer, asJSON bool) error {
	types := slices.Clone(switchboard.EventTypes)
	sort.Strings(types)
	if asJSON {
		out := make([]map[string]string, len(types))
		for i, typ := range types {
			out[i] = map[string]string{"type": typ, "how": scenarios[typ].how}
		}
		return writeJSON(w, out)
	}
	rows := make([][]string, len(types))
	for i, typ := range types {
		rows[i] = []string{typ, scenarios[typ].how}
	}
	return writeTable(w, []string{"EVENT TYPE", "HOW TRIGGER MAKES IT FIRE"}, rows)
}

// triggerRun creates what a scenario needs and remembers it.
type triggerRun struct {
	c            *client.Client
	declinedCode string
	cause        string
	created      []created

	u     *switchboard.User
	donor string
	plan  *switchboard.Plan
}

func (t *triggerRun) note(kind, id string) { t.created = append(t.created, created{kind, id}) }

// user creates the run's user once.
func (t *triggerRun) user(ctx context.Context) (*switchboard.User, error) {
	if t.u != nil {
		return t.u, nil
	}
	email := fmt.Sprintf("trigger+%s@example.com", randomDigits(12))
	name := "Ada Lovelace"
	u, err := t.c.CreateUser(ctx, client.UserParams{Email: &email, FullName: &name})
	if err != nil {
		return nil, err
	}
	t.u = u
	t.note("user", u.ID)
	return u, nil
}

// recipient is the network provider trigger's portings go to.
const recipient = "p9"

// porting creates a draft porting of a fresh number, with every detail
// when complete and without the account PIN otherwise.
func (t *triggerRun) porting(ctx context.Context, complete bool) (*switchboard.Porting, error) {
	u, err := t.user(ctx)
	if err != nil {
		return nil, err
	}
	if t.donor == "" {
		l, err := t.c.ListServiceProviders(ctx, recipient, client.Page{Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(l.Items) == 0 {
			return nil, fmt.Errorf("no donor carrier ports to %s", recipient)
		}
		t.donor = l.Items[0].ID
	}
	str := func(s string) *string { return &s }
	state := "NY"
	p := client.PortingParams{User: u.ID, Provider: recipient, UpdateParams: porting.UpdateParams{
		AccountNumber: str("123456789"), DonorProvider: &t.donor, FirstName: str("Ada"), LastName: str("Lovelace"),
		Birthday: str("1990-12-10"),
		Address:  &switchboard.Address{Line1: "129 West 81st Street", City: "New York", PostalCode: "10024", Country: "US", State: &state},
	}}
	if complete {
		p.AccountPin = str("1234")
	}
	for range 5 {
		p.PhoneNumber = randomNumber()
		prt, err := t.c.CreatePorting(ctx, p)
		if client.IsStatus(err, http.StatusConflict) {
			continue // the number is being ported already: draw another
		}
		if err != nil {
			return nil, err
		}
		t.note("porting", prt.ID)
		return prt, nil
	}
	return nil, errors.New("no free phone number found to port")
}

// subscribe subscribes the run's user to a plan, with the porting if any.
func (t *triggerRun) subscribe(ctx context.Context, portingID *string) (*switchboard.Subscription, error) {
	u, err := t.user(ctx)
	if err != nil {
		return nil, err
	}
	if t.plan == nil {
		l, err := t.c.ListPlans(ctx, client.Page{Limit: 50})
		if err != nil {
			return nil, err
		}
		for i, p := range l.Items {
			if p.Status == "available" && p.Validity.Type == switchboard.ValidityRecurring {
				t.plan = &l.Items[i]
				break
			}
		}
		if t.plan == nil {
			return nil, errors.New("the project has no available recurring plan to subscribe to")
		}
	}
	s, err := t.c.CreateSubscription(ctx, client.SubscriptionParams{User: u.ID, Plan: t.plan.ID, Porting: portingID})
	if err != nil {
		return nil, err
	}
	t.note("subscription", s.ID)
	return s, nil
}

// activeSubscription subscribes without a porting: the subscription
// activates at once with a new number.
func (t *triggerRun) activeSubscription(ctx context.Context) (*switchboard.Subscription, error) {
	return t.subscribe(ctx, nil)
}

// openPorting creates a porting and subscribes with it, which makes it
// pending (complete) or informationRequired.
func (t *triggerRun) openPorting(ctx context.Context, complete bool) (*switchboard.Porting, error) {
	p, err := t.porting(ctx, complete)
	if err != nil {
		return nil, err
	}
	if _, err := t.subscribe(ctx, &p.ID); err != nil {
		return nil, err
	}
	return p, nil
}

// endCauses are the causes trigger can end a subscription with.
var endCauses = []string{switchboard.CauseCancellationRequested, switchboard.CauseUserDeleted,
	switchboard.CausePhoneNumberPortedOut, switchboard.CausePaymentFailed, switchboard.CausePaymentDisputed}

// end ends the active subscription for the run's cause.
func (t *triggerRun) end(ctx context.Context, subID string) error {
	var err error
	switch t.cause {
	case switchboard.CauseUserDeleted:
		_, err = t.c.DeleteUser(ctx, t.u.ID)
	case switchboard.CausePhoneNumberPortedOut:
		var creds *switchboard.PortOutCredentials
		if creds, err = t.c.IssuePortOutCredentials(ctx, subID); err == nil && creds.AccountPin != nil {
			_, err = t.c.SimulateSubscription(ctx, subID, "portOut", *creds.AccountPin)
		}
	case switchboard.CausePaymentFailed, switchboard.CausePaymentDisputed:
		_, err = t.c.SimulateSubscription(ctx, subID, t.cause, "")
	default:
		_, err = t.c.CancelSubscription(ctx, subID, client.CancelParams{Immediately: true})
	}
	return err
}

// simOf returns the ID of the subscription's SIM.
func simOf(s *switchboard.Subscription) (string, error) {
	if s.Sim == nil {
		return "", fmt.Errorf("subscription %s has no SIM", s.ID)
	}
	return s.Sim.ID, nil
}

// actionStatus is the status each simulated action leads to.
var actionStatus = map[string]string{
	porting.ActionRequest:            switchboard.PortingRequested,
	porting.ActionDecline:            switchboard.PortingDeclined,
	porting.ActionRequireInformation: switchboard.PortingInformationRequired,
	porting.ActionComplete:           switchboard.PortingCompleted,
	porting.ActionExpire:             switchboard.PortingExpired,
}

// act simulates the provider's action. A conflict because the server's own
// simulator (auto mode) took the same step first is no error.
func (t *triggerRun) act(ctx context.Context, portingID, action, code string) error {
	_, err := t.c.SimulatePorting(ctx, portingID, action, code)
	if !client.IsStatus(err, http.StatusConflict) {
		return err
	}
	p, gerr := t.c.GetPorting(ctx, portingID)
	if gerr == nil && p.Status == actionStatus[action] {
		return nil
	}
	return err
}

// completePorting requests and completes the porting; in auto mode the
// server may complete it first.
func (t *triggerRun) completePorting(ctx context.Context, portingID string) error {
	if err := t.act(ctx, portingID, porting.ActionRequest, ""); err != nil {
		p, gerr := t.c.GetPorting(ctx, portingID)
		if gerr != nil || p.Status != switchboard.PortingCompleted {
			return err
		}
		return nil
	}
	return t.act(ctx, portingID, porting.ActionComplete, "")
}

// areaCodes are the US area codes trigger's random numbers use; none is
// the 201 of the simulator's magic numbers.
var areaCodes = []string{"415", "628", "650", "510", "917", "312", "206"}

// randomNumber returns a random valid US number outside the 555 exchange.
func randomNumber() string {
	for {
		area := areaCodes[randomInt(len(areaCodes))]
		n := fmt.Sprintf("+1%s%d%s", area, 2+randomInt(8), randomDigits(6))
		if n[5:8] != "555" && field.PhoneNumber("phoneNumber", n) == nil {
			return n
		}
	}
}

func randomInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("switchboard: no randomness: " + err.Error())
	}
	return int(v.Int64())
}

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + randomInt(10))
	}
	return string(b)
}
