package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// chromium finds a Chromium to drive: $SWITCHBOARD_CHROMIUM, or the
// distribution's. Without one the browser tests skip, saying so, unless CI=true
// or SWITCHBOARD_REQUIRE_CHROMIUM=1: then they fail.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SWITCHBOARD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium installed (apt-get install chromium, or set SWITCHBOARD_CHROMIUM)"
	if os.Getenv("CI") == "true" || os.Getenv("SWITCHBOARD_REQUIRE_CHROMIUM") == "1" {
		t.Fatal(msg + ": the browser tests are required (CI=true or SWITCHBOARD_REQUIRE_CHROMIUM=1)")
	}
	t.Skip(msg + ": browser tests skipped")
	return ""
}

// page is a headless Chromium tab for one test, with the folder its
// screenshots go to: $SWITCHBOARD_SCREENSHOTS, or the test's temporary folder.
type page struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func newPage(t *testing.T, base string) *page {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	shots := os.Getenv("SWITCHBOARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &page{t: t, ctx: ctx, base: base, shots: shots}
}

// run runs browser actions with a deadline.
func (p *page) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		p.t.Fatalf("%s: %v", what, err)
	}
}

// shot saves a screenshot of the whole page.
func (p *page) shot(name string) { p.capture(name, chromedp.FullScreenshot(100)) }

// viewShot saves a screenshot of what the window shows.
func (p *page) viewShot(name string) { p.capture(name, chromedp.CaptureScreenshot()) }

func (p *page) capture(name string, how chromedp.Action[[]byte]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, how)
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(p.shots, p.t.Name()[strings.LastIndex(p.t.Name(), "/")+1:]+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Errorf("write screenshot: %v", err)
		return
	}
	p.t.Logf("screenshot: %s", path)
}

func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.shot("failed-read")
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// value reads an input's value.
func (p *page) value(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// waitText reloads nothing: it waits until the element's text contains want.
func (p *page) waitText(sel, want string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			last = text
		}
		if err == nil && strings.Contains(last, want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.shot("waited-" + strings.Trim(sel, "#."))
	p.t.Fatalf("%s says %q, want it to contain %q", sel, last, want)
}

// receiver is a webhook endpoint that answers 200 and counts the requests.
func receiver(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// journey makes a porting that is declined once and a subscription on a
// 30-day plan, with an endpoint receiving every event.
type journey struct {
	user, porting, subscription, endpoint string
}

func (e *env) journey(endpointURL string) journey {
	e.t.Helper()
	var j journey
	j.endpoint = e.must("POST", "/projects/dev/webhookEndpoints", map[string]any{"url": endpointURL}, 201)["id"].(string)
	j.user = e.must("POST", "/projects/dev/users", map[string]any{"email": "jerry@example.com", "fullName": "Jerry Seinfeld"}, 201)["id"].(string)
	plan := e.must("POST", "/projects/dev/plans", map[string]any{
		"name": "Thirty Days", "provider": "p9", "price": map[string]any{"amount": 1500, "currency": "USD"},
		"validity": map[string]any{"type": "recurring", "unit": "day", "value": 30, "minimumPeriods": 1},
	}, 201)["id"].(string)
	var att string
	for _, p := range e.items("/serviceProviders?recipientProvider=p9&limit=200") {
		if p["name"] == "AT&T" {
			att = p["id"].(string)
		}
	}
	j.porting = e.must("POST", "/projects/dev/portings", map[string]any{"phoneNumber": "+12015550123", "user": j.user,
		"provider": "p9", "donorProvider": att, "accountNumber": "ACC-1001", "firstName": "Jerry"}, 201)["id"].(string)
	e.must("POST", "/projects/dev/subscriptions", map[string]any{"user": j.user, "plan": plan, "porting": j.porting}, 201)
	e.must("PATCH", "/projects/dev/portings/"+j.porting, map[string]any{"accountPin": "7351", "lastName": "Seinfeld",
		"birthday": "1954-04-29", "address": map[string]any{"line1": "129 West 81st Street", "city": "New York City",
			"postalCode": "10024", "state": "NY", "country": "US"}}, 200)
	e.must("POST", "/projects/dev/portings/"+j.porting+"/simulate", map[string]any{"action": "request"}, 200)
	e.must("POST", "/projects/dev/portings/"+j.porting+"/simulate",
		map[string]any{"action": "decline", "declinedCode": "portingAccountPinRequiredOrInvalid"}, 200)
	j.subscription = e.must("POST", "/projects/dev/subscriptions", map[string]any{"user": j.user, "plan": plan}, 201)["id"].(string)
	return j
}

// TestBrowserJourney drives the dashboard in Chromium: sign in, see a
// journey's events, open one, switch its version, resend it and see the new
// attempt, tail events live, advance the test clock and see a renewal, get
// the API's error for bad input, look at 390 px, sign out.
func TestBrowserJourney(t *testing.T) {
	chromium(t)
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		hook, received := receiver(t)
		j := e.journey(hook.URL)
		p := newPage(t, e.base)

		// Sign in: the dashboard leads there first.
		p.run("open the dashboard", chromedp.Navigate(e.base+"/"), chromedp.WaitVisible(chromedp.CSS("#key")))
		p.shot("signin")
		p.run("sign in with the keyboard", // the key field has the focus; Enter sends the form
			chromedp.SendKeys(chromedp.CSS("#key"), e.key+"\r"),
			chromedp.WaitVisible(chromedp.CSS("#events-table")))

		// The journey's events, newest first.
		events := p.text("#events-body")
		for _, typ := range []string{"com.gigs.user.created", "com.gigs.porting.created", "com.gigs.porting.requested",
			"com.gigs.porting.declined", "com.gigs.subscription.created"} {
			if !strings.Contains(events, typ) {
				t.Errorf("events page lacks %s:\n%s", typ, events)
			}
		}
		if strings.Index(events, "com.gigs.porting.declined") > strings.Index(events, "com.gigs.porting.requested") {
			t.Error("events are not newest first")
		}
		p.shot("events")

		// Filter by resource: only the porting's events.
		p.run("filter by the porting",
			chromedp.SendKeys(chromedp.CSS("#filter-resource"), j.porting),
			chromedp.Submit(chromedp.CSS("#filter-resource")),
			chromedp.WaitVisible(chromedp.CSS("#clear-filter")))
		filtered := p.text("#events-body")
		if strings.Contains(filtered, "com.gigs.user.created") || !strings.Contains(filtered, "com.gigs.porting.declined") {
			t.Errorf("filtered by %s:\n%s", j.porting, filtered)
		}

		// Open the porting's update: previousData as a diff, its delivery.
		updated := e.items("/projects/dev/events?type=com.gigs.porting.updated&resource=" + j.porting + "&limit=1")[0]["id"].(string)
		p.run("open an event", chromedp.Click(chromedp.CSS(`a[href="/dashboard/events/`+updated+`"]`)),
			chromedp.WaitVisible(chromedp.CSS("#diff")))
		if diff := p.text("#diff"); !strings.Contains(diff, "status") || !strings.Contains(diff, "\"declined\"") {
			t.Errorf("diff of %s lacks the status change:\n%s", updated, diff)
		}
		if v := p.text("#event-version"); v != "2025-05-22" {
			t.Errorf("default version %q", v)
		}
		if js := p.text("#event-json"); !strings.Contains(js, `"actor"`) {
			t.Errorf("2025-05-22 rendering lacks actor:\n%s", js)
		}
		p.waitText("#deliveries .attempt-count", "1")

		// Switch its version.
		p.run("switch the version",
			chromedp.SetValue(chromedp.CSS("#version"), "2024-08-29"),
			chromedp.Click(chromedp.CSS("#show-version")))
		p.waitText("#event-version", "2024-08-29")
		if js := p.text("#event-json"); strings.Contains(js, `"actor"`) || !strings.Contains(js, `"2024-08-29"`) {
			t.Errorf("2024-08-29 rendering:\n%s", js)
		}
		p.shot("event")

		// Resend it and see the new attempt.
		before := received.Load()
		p.run("resend", chromedp.Click(chromedp.CSS("#resend")), chromedp.WaitVisible(chromedp.CSS("#notice")))
		p.waitText("#deliveries .attempt-count", "2")
		if received.Load() <= before {
			t.Error("the receiver got no new request after resend")
		}
		p.shot("resent")
		p.run("a taller window", chromedp.EmulateViewport(1280, 1000))
		p.viewShot("resent-window")
		p.run("the usual window", chromedp.EmulateViewport(1280, 900))

		// The porting's page: what is required, its decline.
		p.run("open the porting", chromedp.Navigate(e.base+"/dashboard/portings/"+j.porting), chromedp.WaitVisible(chromedp.CSS("#declines")))
		if d := p.text("#declines"); !strings.Contains(d, "portingAccountPinRequiredOrInvalid") {
			t.Errorf("decline history:\n%s", d)
		}
		if tl := p.text("#timeline"); !strings.Contains(tl, "com.gigs.porting.requested") {
			t.Errorf("timeline:\n%s", tl)
		}
		p.shot("porting")
		p.run("simulate a decline without a code",
			chromedp.SetValue(chromedp.CSS("#sim-action"), "decline"), chromedp.SetValue(chromedp.CSS("#sim-code"), ""),
			chromedp.Click(chromedp.CSS("#simulate")), chromedp.WaitVisible(chromedp.CSS("#error")))
		_, apiErr := e.api("POST", "/projects/dev/portings/"+j.porting+"/simulate", map[string]any{"action": "decline"})
		if got := p.text("#error"); !strings.Contains(got, apiErr["message"].(string)) {
			t.Errorf("simulate without a code: page says %q, want the API's %q", got, apiErr["message"])
		}
		if status := p.text("#status-badge"); status != "declined" {
			t.Errorf("porting status %q after a refused action, want declined", status)
		}

		// Live tail: an event made now shows up without a reload.
		p.run("start the tail", chromedp.Navigate(e.base+"/dashboard/events"), chromedp.WaitVisible(chromedp.CSS("#tail")),
			chromedp.Click(chromedp.CSS("#tail")))
		p.waitText("#tail-status", "Live")
		newUser := e.must("POST", "/projects/dev/users", map[string]any{"email": "elaine@example.com"}, 201)["id"].(string)
		p.waitText("#events-body tr:first-child", newUser)
		p.waitText("#tail-status", "1 new event")

		// Advance the test clock past the period's end: the renewal.
		p.run("open the test clock", chromedp.Navigate(e.base+"/dashboard/test"), chromedp.WaitVisible(chromedp.CSS("#advance-seconds")))
		p.run("bad input", chromedp.SendKeys(chromedp.CSS("#advance-seconds"), "-5"), chromedp.Click(chromedp.CSS("#advance")),
			chromedp.WaitVisible(chromedp.CSS("#error")))
		_, apiErr = e.api("POST", "/projects/dev/simulator/clock/advance", map[string]any{"seconds": -5})
		if got := p.text("#error"); !strings.Contains(got, apiErr["message"].(string)) {
			t.Errorf("bad seconds: page says %q, want the API's %q", got, apiErr["message"])
		}
		p.shot("clock-error")
		p.run("advance 31 days",
			chromedp.SetValue(chromedp.CSS("#advance-seconds"), fmt.Sprint(31*24*3600)),
			chromedp.Click(chromedp.CSS("#advance")),
			chromedp.WaitVisible(chromedp.CSS("#happened")))
		if h := p.text("#happened"); !strings.Contains(h, "com.gigs.subscription.renewed") || !strings.Contains(h, j.subscription) {
			t.Errorf("after advancing, what happened:\n%s", h)
		}
		p.shot("renewed")

		// Bad input in the endpoint form: the API's message, the form kept.
		p.run("bad endpoint", chromedp.Navigate(e.base+"/dashboard/endpoints"), chromedp.WaitVisible(chromedp.CSS("#ep-url")),
			chromedp.SendKeys(chromedp.CSS("#ep-url"), "ftp://example.com/x"),
			chromedp.SendKeys(chromedp.CSS("#ep-rate"), "fast"),
			chromedp.Click(chromedp.CSS("#create")), chromedp.WaitVisible(chromedp.CSS("#error")))
		_, apiErr = e.api("POST", "/projects/dev/webhookEndpoints", map[string]any{"url": "ftp://example.com/x", "rateLimit": "fast", "ordered": false})
		if got := p.text("#error"); !strings.Contains(got, apiErr["message"].(string)) {
			t.Errorf("bad endpoint: page says %q, want the API's %q", got, apiErr["message"])
		}
		if kept := p.value("#ep-url"); kept != "ftp://example.com/x" {
			t.Errorf("the form lost its URL: %q", kept)
		}

		// The endpoint's health.
		p.run("open the endpoint", chromedp.Navigate(e.base+"/dashboard/endpoints/"+j.endpoint), chromedp.WaitVisible(chromedp.CSS("#health")))
		if rate := p.text("#success-rate"); rate != "100.0%" {
			t.Errorf("success rate %q, want 100.0%%", rate)
		}
		p.run("chart", chromedp.WaitVisible(chromedp.CSS("#chart")))
		p.shot("endpoint")

		// At 390 px each page fits the screen (wide tables scroll in place or stack).
		p.run("narrow", chromedp.EmulateViewport(390, 844))
		for name, path := range map[string]string{
			"events": "/dashboard/events", "event": "/dashboard/events/" + updated, "porting": "/dashboard/portings/" + j.porting,
			"endpoint": "/dashboard/endpoints/" + j.endpoint, "test": "/dashboard/test",
		} {
			p.run("open "+name+" at 390 px", chromedp.Navigate(e.base+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
			ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
			width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			cancel()
			if err != nil {
				t.Fatalf("page width: %v", err)
			}
			if width > 390 {
				ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
				wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main *")).filter(el =>
					el.getBoundingClientRect().right > 390 && !el.closest(".scroll")).map(el => el.outerHTML.slice(0, 80))`))
				cancel()
				t.Errorf("at 390 px the %s page is %d px wide; too wide: %q", name, width, wide)
			}
			// Every control has a label, every button a name.
			ctx, cancel = context.WithTimeout(p.ctx, 10*time.Second)
			unlabeled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
				"input:not([type=hidden]), select, textarea, button")).filter(el =>
				el.tagName === "BUTTON" ? !el.textContent.trim() && !el.getAttribute("aria-label")
					: el.labels.length === 0 && !el.getAttribute("aria-label")).map(el => el.outerHTML.slice(0, 80))`))
			cancel()
			if err != nil || len(unlabeled) > 0 {
				t.Errorf("the %s page has controls without a label (%v): %q", name, err, unlabeled)
			}
			p.shot(name + "-390")
		}
		p.run("wide again", chromedp.EmulateViewport(1280, 900))

		// Sign out: the pages lead to sign-in again.
		p.run("sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#key")),
			chromedp.Navigate(e.base+"/dashboard/events"), chromedp.WaitVisible(chromedp.CSS("#key")))
	})
}
