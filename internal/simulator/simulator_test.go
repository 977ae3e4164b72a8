package simulator_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/client"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/project"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/server/servertest"
	"github.com/switchboard-dev/switchboard/internal/simulator"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

const testKey = "sk_test_provider"

// delay is the simulator's delay in these tests.
const delay = 20 * time.Millisecond

// startServer runs a server on a loopback port with the simulator in mode
// and returns a client of it.
func startServer(t *testing.T, mode string) *client.Client {
	t.Helper()
	b := storetest.New(t, "sqlite")
	srv := servertest.Start(t, server.Config{DB: b.DB, APIKey: testKey, Simulator: mode, SimulatorDelay: delay})
	return client.New(srv.URL(), testKey, "dev")
}

// fixture creates a user, a porting of number with every detail, and a
// subscription with it; the porting is then pending.
func fixture(t *testing.T, c *client.Client, number string) (*switchboard.Porting, *switchboard.Subscription) {
	t.Helper()
	ctx := context.Background()
	email := "u" + number[1:] + "@example.com"
	u, err := c.CreateUser(ctx, client.UserParams{Email: &email})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	donors, err := c.ListServiceProviders(ctx, "p9", client.Page{Limit: 1})
	if err != nil || len(donors.Items) == 0 {
		t.Fatalf("list donors: %v (%d)", err, len(donors.Items))
	}
	str := func(s string) *string { return &s }
	p, err := c.CreatePorting(ctx, client.PortingParams{PhoneNumber: number, User: u.ID, Provider: "p9",
		UpdateParams: porting.UpdateParams{
			AccountNumber: str("123456"), AccountPin: str("1234"), DonorProvider: &donors.Items[0].ID,
			FirstName: str("Ada"), LastName: str("Lovelace"), Birthday: str("1990-01-01"),
			Address: &switchboard.Address{Line1: "1 Main St", City: "Springfield", PostalCode: "10001", Country: "US"},
		}})
	if err != nil {
		t.Fatalf("create porting: %v", err)
	}
	plans, err := c.ListPlans(ctx, client.Page{Limit: 10})
	if err != nil || len(plans.Items) == 0 {
		t.Fatalf("list plans: %v", err)
	}
	s, err := c.CreateSubscription(ctx, client.SubscriptionParams{User: u.ID, Plan: plans.Items[0].ID, Porting: &p.ID})
	if err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	return p, s
}

// awaitStatus polls the porting until it has the status.
func awaitStatus(t *testing.T, c *client.Client, id, status string) *switchboard.Porting {
	t.Helper()
	var p *switchboard.Porting
	storetest.WaitFor(t, 10*time.Second, "porting "+id+" to become "+status, func() bool {
		var err error
		p, err = c.GetPorting(context.Background(), id)
		if err != nil {
			t.Fatalf("get porting: %v", err)
		}
		return p.Status == status
	})
	return p
}

// stays checks that the porting keeps its status while the simulator scans
// for several of its delays.
func stays(t *testing.T, c *client.Client, id, status string) {
	t.Helper()
	deadline := time.Now().Add(10 * delay)
	for time.Now().Before(deadline) {
		p, err := c.GetPorting(context.Background(), id)
		if err != nil {
			t.Fatalf("get porting: %v", err)
		}
		if p.Status != status {
			t.Fatalf("porting %s is %s, want it to stay %s", id, p.Status, status)
		}
		time.Sleep(delay / 2)
	}
}

func TestMagicNumbers(t *testing.T) {
	c := startServer(t, "on")
	ctx := context.Background()
	yes := true
	acct := "7654321"
	tests := []struct {
		number string
		// want is the status the simulator leaves the porting in, with
		// the decline code.
		want, code string
		// fix corrects the porting; then it ends in fixed (after
		// attempts declines in all).
		fix      *client.PortingUpdate
		fixed    string
		attempts int
	}{
		{number: "+12015550100", want: switchboard.PortingCompleted},
		{number: "+12015550102", want: switchboard.PortingDeclined, code: "portingAccountPinRequiredOrInvalid",
			fix: &client.PortingUpdate{AccountNumber: &acct}, fixed: switchboard.PortingCompleted, attempts: 1},
		{number: "+12015550107", want: switchboard.PortingDeclined, code: "portingPhoneNumberPortProtected",
			fix: &client.PortingUpdate{AccountNumber: &acct}, fixed: switchboard.PortingCompleted, attempts: 1},
		{number: "+12015550110", want: switchboard.PortingDeclined, code: "portingDeclined"},
		{number: "+12015550118", want: switchboard.PortingDeclined, code: "portingUserInformationMismatch"},
		{number: "+12015550120", want: switchboard.PortingInformationRequired,
			fix: &client.PortingUpdate{DonorProviderApproval: &yes}, fixed: switchboard.PortingCompleted},
		{number: "+12015550121", want: switchboard.PortingDeclined, code: "portingAccountPinRequiredOrInvalid",
			fix: &client.PortingUpdate{AccountNumber: &acct}, fixed: switchboard.PortingDeclined, attempts: 2},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			t.Parallel()
			p, s := fixture(t, c, tt.number)
			got := awaitStatus(t, c, p.ID, tt.want)
			if tt.code != "" && (got.DeclinedCode == nil || *got.DeclinedCode != tt.code) {
				t.Fatalf("declined code %v, want %s", got.DeclinedCode, tt.code)
			}
			if tt.want == switchboard.PortingCompleted {
				storetest.WaitFor(t, 5*time.Second, "the subscription to activate", func() bool {
					sub, err := c.GetSubscription(ctx, s.ID)
					return err == nil && sub.Status == switchboard.SubscriptionActive
				})
			}
			if tt.fix == nil {
				return
			}
			if _, err := c.UpdatePorting(ctx, p.ID, *tt.fix); err != nil {
				t.Fatalf("update porting: %v", err)
			}
			if tt.fixed == switchboard.PortingDeclined {
				storetest.WaitFor(t, 10*time.Second, "the second decline", func() bool {
					got, err := c.GetPorting(ctx, p.ID)
					return err == nil && got.Status == switchboard.PortingDeclined && got.DeclinedAttempts == tt.attempts
				})
				return
			}
			got = awaitStatus(t, c, p.ID, tt.fixed)
			if got.DeclinedAttempts != tt.attempts {
				t.Errorf("declined attempts %d, want %d", got.DeclinedAttempts, tt.attempts)
			}
		})
	}
}

func TestUnansweredAndOrdinaryNumbers(t *testing.T) {
	c := startServer(t, "on")
	unanswered, _ := fixture(t, c, "+12015550130")
	ordinary, _ := fixture(t, c, "+14155550123")
	awaitStatus(t, c, unanswered.ID, switchboard.PortingRequested)
	stays(t, c, unanswered.ID, switchboard.PortingRequested)
	stays(t, c, ordinary.ID, switchboard.PortingPending) // only auto mode drives it
}

// TestLiveProjectsAreNotSimulated runs the simulator in auto mode beside a
// live project: a test project's portings move, the live project's magic
// and ordinary numbers do not.
func TestLiveProjectsAreNotSimulated(t *testing.T) {
	b := storetest.New(t, "sqlite")
	srv := servertest.Start(t, server.Config{DB: b.DB, APIKey: testKey, Simulator: "auto", SimulatorDelay: delay})
	ctx := context.Background()
	if _, err := srv.Projects.Create(ctx, project.CreateParams{ID: "prod", Name: "Prod", Mode: project.Live}); err != nil {
		t.Fatal(err)
	}
	liveKey, err := srv.NewAPIKey(ctx, "prod")
	if err != nil || !strings.HasPrefix(liveKey, "sk_live_") {
		t.Fatalf("live key %q: %v", liveKey, err)
	}
	live := client.New(srv.URL(), liveKey, "prod")
	magic, _ := fixture(t, live, "+12015550100")
	ordinary, _ := fixture(t, live, "+14155550125")
	test := client.New(srv.URL(), testKey, "dev")
	moving, _ := fixture(t, test, "+12015550100")
	awaitStatus(t, test, moving.ID, switchboard.PortingCompleted)
	stays(t, live, magic.ID, switchboard.PortingPending)
	stays(t, live, ordinary.ID, switchboard.PortingPending)
}

func TestAutoMode(t *testing.T) {
	c := startServer(t, "auto")
	ctx := context.Background()
	p, s := fixture(t, c, "+14155550124")
	awaitStatus(t, c, p.ID, switchboard.PortingCompleted)
	sub, err := c.GetSubscription(ctx, s.ID)
	if err != nil {
		t.Fatalf("get subscription: %v", err)
	}
	if sub.Status != switchboard.SubscriptionActive || sub.PhoneNumber == nil || *sub.PhoneNumber != p.PhoneNumber {
		t.Fatalf("subscription %s with number %v, want active with %s", sub.Status, sub.PhoneNumber, p.PhoneNumber)
	}
	// The requested event came first, and magic numbers keep their outcome.
	events, err := c.ListEvents(ctx, client.EventFilter{Types: []string{switchboard.TypePortingRequested}, Page: client.Page{Limit: 50}})
	if err != nil || len(events.Items) == 0 {
		t.Fatalf("requested events: %v (%d)", err, len(events.Items))
	}
	magic, _ := fixture(t, c, "+12015550115")
	got := awaitStatus(t, c, magic.ID, switchboard.PortingDeclined)
	if *got.DeclinedCode != "portingPhoneNumberNotFound" {
		t.Fatalf("declined with %s, want portingPhoneNumberNotFound", *got.DeclinedCode)
	}
}

// TestTwoSimulators runs a second simulator on the server's database: the
// two race for every step and the porting still moves once per step.
func TestTwoSimulators(t *testing.T) {
	ctx := context.Background()
	b := storetest.New(t, "sqlite")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := servertest.Start(t, server.Config{DB: b.DB, APIKey: testKey, Simulator: "auto", SimulatorDelay: delay, Logger: quiet})
	twin := &simulator.Simulator{Store: srv.Store, Portings: srv.Simulator.Portings, Projects: srv.Simulator.Projects, Auto: true, Delay: delay, Logger: quiet}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { twin.Run(rctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })

	c := client.New(srv.URL(), testKey, "dev")
	p, _ := fixture(t, c, "+14155550125")
	awaitStatus(t, c, p.ID, switchboard.PortingCompleted)
	for _, typ := range []string{switchboard.TypePortingRequested, switchboard.TypePortingCompleted} {
		l, err := c.ListEvents(ctx, client.EventFilter{Types: []string{typ}, Page: client.Page{Limit: 50}})
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		n := 0
		for i := range l.Items {
			if client.ResourceID(&l.Items[i]) == p.ID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d %s events, want 1", n, typ)
		}
	}
}

func TestMagicTable(t *testing.T) {
	seen := map[string]bool{}
	codes := map[string]bool{}
	for _, m := range simulator.MagicNumbers {
		if err := field.PhoneNumber("phoneNumber", m.PhoneNumber); err != nil {
			t.Errorf("%s is not a valid number: %v", m.PhoneNumber, err)
		}
		if seen[m.PhoneNumber] {
			t.Errorf("%s is listed twice", m.PhoneNumber)
		}
		seen[m.PhoneNumber] = true
		if m.Description == "" {
			t.Errorf("%s has no description", m.PhoneNumber)
		}
		if m.Action != "" && !slices.Contains(porting.Actions, m.Action) {
			t.Errorf("%s: unknown action %q", m.PhoneNumber, m.Action)
		}
		if m.Action == porting.ActionDecline {
			if _, ok := porting.DeclineMessages[m.DeclinedCode]; !ok {
				t.Errorf("%s: unknown decline code %q", m.PhoneNumber, m.DeclinedCode)
			}
			codes[m.DeclinedCode] = true
		}
		if !simulator.IsMagic(m.PhoneNumber) {
			t.Errorf("IsMagic(%s) = false", m.PhoneNumber)
		}
	}
	for code := range porting.DeclineMessages {
		if !codes[code] {
			t.Errorf("no magic number declines with %s", code)
		}
	}
	if simulator.IsMagic("+14155550123") {
		t.Error("an ordinary number is magic")
	}
}

// TestDocumentedTable checks that README.md lists every magic number
// with its decline code.
func TestDocumentedTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatalf("read the toolkit docs: %v", err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `+1") {
			number := strings.Trim(strings.Fields(line)[1], "`")
			rows[number] = line
		}
	}
	for _, m := range simulator.MagicNumbers {
		row, ok := rows[m.PhoneNumber]
		switch {
		case !ok:
			t.Errorf("%s is not documented", m.PhoneNumber)
		case m.DeclinedCode != "" && !strings.Contains(row, "`"+m.DeclinedCode+"`"):
			t.Errorf("%s is documented without its code %s: %s", m.PhoneNumber, m.DeclinedCode, row)
		}
		delete(rows, m.PhoneNumber)
	}
	for n := range rows {
		t.Errorf("%s is documented but not magic", n)
	}
}
