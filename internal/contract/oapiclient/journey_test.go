package oapiclient_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/switchboard-dev/switchboard/internal/contract/contracttest"
	"github.com/switchboard-dev/switchboard/internal/contract/oapiclient"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
)

func ptr[T any](v T) *T { return &v }

// TestPortingJourney drives a porting from draft to completed through the
// client generated from the OpenAPI document, against a real server: a
// decline for a bad PIN, a correction, a retry, and the subscription
// activating with the ported number. Every response is also validated
// against the document.
func TestPortingJourney(t *testing.T) {
	const key, project, number = "sk_test_journey", "dev", "+12015550123"
	srv := servertest.Start(t, server.Config{DB: filepath.Join(t.TempDir(), "db.sqlite"), Simulator: "on", APIKey: key, Project: project})
	validating, checked := contracttest.Client(t)
	c, err := oapiclient.NewClientWithResponses(srv.URL(), oapiclient.WithHTTPClient(validating),
		oapiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+key)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must := func(status, want int, err error, body []byte) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if status != want {
			t.Fatalf("status %d, want %d: %s", status, want, body)
		}
	}

	user, err := c.CreateUserWithResponse(ctx, project, &oapiclient.CreateUserParams{IdempotencyKey: ptr("journey-user")},
		oapiclient.CreateUserRequest{Email: ptr(openapi_types.Email("jerry@example.com")), FullName: ptr("Jerry Seinfeld")})
	must(user.StatusCode(), 201, err, user.Body)

	plans, err := c.ListPlansWithResponse(ctx, project, &oapiclient.ListPlansParams{Limit: ptr(200)})
	must(plans.StatusCode(), 200, err, plans.Body)
	var plan string
	for _, p := range plans.JSON200.Items {
		if p.Name == "Gigs Global" {
			plan = p.Id
		}
	}
	providers, err := c.ListServiceProvidersWithResponse(ctx, &oapiclient.ListServiceProvidersParams{RecipientProvider: ptr("p9"), Limit: ptr(200)})
	must(providers.StatusCode(), 200, err, providers.Body)
	var att string
	for _, p := range providers.JSON200.Items {
		if p.Name == "AT&T" {
			att = p.Id
		}
	}
	if plan == "" || att == "" {
		t.Fatalf("no Gigs Global plan (%q) or AT&T (%q)", plan, att)
	}

	prt, err := c.CreatePortingWithResponse(ctx, project, &oapiclient.CreatePortingParams{}, oapiclient.CreatePortingRequest{
		PhoneNumber: number, User: user.JSON201.Id, Provider: oapiclient.CreatePortingRequestProviderP9,
		DonorProvider: ptr(att), AccountNumber: ptr("ACC-1001"), FirstName: ptr("Jerry")})
	must(prt.StatusCode(), 201, err, prt.Body)
	id := prt.JSON201.Id
	if prt.JSON201.Status != oapiclient.PortingStatusDraft {
		t.Fatalf("new porting %s", prt.JSON201.Status)
	}

	sub, err := c.CreateSubscriptionWithResponse(ctx, project, &oapiclient.CreateSubscriptionParams{},
		oapiclient.CreateSubscriptionRequest{User: user.JSON201.Id, Plan: plan, Porting: ptr(id)})
	must(sub.StatusCode(), 201, err, sub.Body)

	birthday := openapi_types.Date{}
	if err := birthday.UnmarshalText([]byte("1954-04-29")); err != nil {
		t.Fatal(err)
	}
	status := func(r *oapiclient.Porting) oapiclient.PortingStatus { return r.Status }
	upd, err := c.UpdatePortingWithResponse(ctx, project, id, oapiclient.UpdatePortingRequest{
		AccountPin: ptr("7351"), LastName: ptr("Seinfeld"), Birthday: &birthday,
		Address: &oapiclient.AddressInput{Line1: "129 West 81st Street", Line2: ptr("Apartment 5A"), City: "New York City",
			PostalCode: "10024", State: ptr("NY"), Country: "US"}})
	must(upd.StatusCode(), 200, err, upd.Body)
	if status(upd.JSON200) != oapiclient.PortingStatusPending {
		t.Fatalf("after the details: %s", upd.JSON200.Status)
	}

	simulate := func(action oapiclient.SimulatePortingRequestAction, code *oapiclient.SimulatePortingRequestDeclinedCode,
		want oapiclient.PortingStatus) *oapiclient.Porting {
		t.Helper()
		r, err := c.SimulatePortingWithResponse(ctx, project, id, &oapiclient.SimulatePortingParams{},
			oapiclient.SimulatePortingRequest{Action: action, DeclinedCode: code})
		must(r.StatusCode(), 200, err, r.Body)
		if r.JSON200.Status != want {
			t.Fatalf("after %s: %s, want %s", action, r.JSON200.Status, want)
		}
		return r.JSON200
	}
	simulate(oapiclient.Request, nil, oapiclient.PortingStatusRequested)
	declined := simulate(oapiclient.Decline, ptr(oapiclient.SimulatePortingRequestDeclinedCodePortingAccountPinRequiredOrInvalid),
		oapiclient.PortingStatusDeclined)
	if declined.DeclinedCode == nil || *declined.DeclinedCode != oapiclient.PortingDeclinedCodePortingAccountPinRequiredOrInvalid ||
		declined.DeclinedAttempts != 1 {
		t.Fatalf("declined: code %v, attempts %d", declined.DeclinedCode, declined.DeclinedAttempts)
	}

	fixed, err := c.UpdatePortingWithResponse(ctx, project, id, oapiclient.UpdatePortingRequest{AccountPin: ptr("8642")})
	must(fixed.StatusCode(), 200, err, fixed.Body)
	simulate(oapiclient.Request, nil, oapiclient.PortingStatusRequested)
	simulate(oapiclient.Complete, nil, oapiclient.PortingStatusCompleted)

	active, err := c.GetSubscriptionWithResponse(ctx, project, sub.JSON201.Id)
	must(active.StatusCode(), 200, err, active.Body)
	if active.JSON200.Status != oapiclient.SubscriptionStatusActive || active.JSON200.PhoneNumber == nil || *active.JSON200.PhoneNumber != number {
		t.Fatalf("subscription %s with %v, want active with %s", active.JSON200.Status, active.JSON200.PhoneNumber, number)
	}

	events, err := c.ListEventsWithResponse(ctx, project, &oapiclient.ListEventsParams{Type: ptr("com.gigs.porting.declined")})
	must(events.StatusCode(), 200, err, events.Body)
	if len(events.JSON200.Items) != 1 {
		t.Fatalf("%d porting.declined events, want 1", len(events.JSON200.Items))
	}
	data, err := events.JSON200.Items[0].Data.AsPorting()
	if err != nil || data.Id != id || data.Status != oapiclient.PortingStatusDeclined {
		t.Fatalf("the declined event's data: %+v, %v", data, err)
	}

	missing, err := c.GetPortingWithResponse(ctx, project, "prt_missing")
	must(missing.StatusCode(), 404, err, missing.Body)
	if missing.JSON404 == nil || missing.JSON404.Code != "portingNotFound" {
		t.Fatalf("a missing porting: %s", missing.Body)
	}
	if checked.Checked["simulatePorting"] != 4 {
		t.Errorf("validated %d simulate responses, want 4", checked.Checked["simulatePorting"])
	}
}
