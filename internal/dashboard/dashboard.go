package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// Prefix is the path the dashboard is served under.
const Prefix = "/dashboard"

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the dashboard needs.
type Config struct {
	// API is the project API's handler; every read and action goes through it.
	API http.Handler
	// Store keeps the sessions.
	Store *store.Store
	// Logger receives the dashboard's own failures; slog.Default() when nil.
	Logger *slog.Logger
	// DefaultProject is the project the sign-in form proposes.
	DefaultProject string
	// SessionTTL is how long a session lasts; 12 hours when zero.
	SessionTTL time.Duration
	// SecureCookies marks the cookies Secure even on plain HTTP requests
	// (behind a proxy that terminates TLS); requests over TLS always are.
	SecureCookies bool
	// TailInterval is how often a live tail looks for new events; one
	// second when zero.
	TailInterval time.Duration
}

// Dashboard serves the dashboard under Prefix. Build it with New.
type Dashboard struct {
	api            http.Handler
	store          *store.Store
	log            *slog.Logger
	defaultProject string
	ttl            time.Duration
	secure         bool
	tailEvery      time.Duration
	mux            *http.ServeMux
	pages          map[string]*template.Template

	done      chan struct{}
	closeOnce sync.Once
}

// New returns the dashboard over the API handler and the store.
func New(cfg Config) *Dashboard {
	d := &Dashboard{api: cfg.API, store: cfg.Store, log: cfg.Logger, defaultProject: cfg.DefaultProject,
		ttl: cfg.SessionTTL, secure: cfg.SecureCookies, tailEvery: cfg.TailInterval,
		mux: http.NewServeMux(), done: make(chan struct{})}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.ttl <= 0 {
		d.ttl = 12 * time.Hour
	}
	if d.tailEvery <= 0 {
		d.tailEvery = time.Second
	}
	d.pages = parsePages()
	d.routes()
	return d
}

// ServeHTTP serves the dashboard's pages, actions and assets.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	d.mux.ServeHTTP(w, r)
}

// Close ends the live tails in progress, so that the HTTP server can shut
// down; the server calls it when it starts to.
func (d *Dashboard) Close() { d.closeOnce.Do(func() { close(d.done) }) }

func (d *Dashboard) routes() {
	static, _ := fs.Sub(staticFS, "static")
	d.mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))
	d.mux.HandleFunc("GET "+Prefix+"/{$}", d.home)
	d.mux.HandleFunc("GET "+Prefix+"/signin", d.signinPage)
	d.mux.HandleFunc("POST "+Prefix+"/signin", d.signin)
	d.mux.HandleFunc("POST "+Prefix+"/signout", d.action(d.signout))
	d.mux.HandleFunc("POST "+Prefix+"/project", d.action(d.switchProject))

	d.mux.HandleFunc("GET "+Prefix+"/events", d.page(d.eventsPage))
	d.mux.HandleFunc("GET "+Prefix+"/events/stream", d.page(d.eventStream))
	d.mux.HandleFunc("GET "+Prefix+"/events/{id}", d.page(d.eventPage))
	d.mux.HandleFunc("POST "+Prefix+"/events/{id}/resend", d.action(d.resendEvent))

	d.mux.HandleFunc("GET "+Prefix+"/portings", d.page(d.portingsPage))
	d.mux.HandleFunc("GET "+Prefix+"/portings/{id}", d.page(d.portingPage))
	d.mux.HandleFunc("POST "+Prefix+"/portings/{id}/simulate", d.action(d.simulatePorting))
	d.mux.HandleFunc("GET "+Prefix+"/subscriptions", d.page(d.subscriptionsPage))
	d.mux.HandleFunc("GET "+Prefix+"/subscriptions/{id}", d.page(d.subscriptionPage))
	d.mux.HandleFunc("GET "+Prefix+"/users", d.page(d.usersPage))
	d.mux.HandleFunc("GET "+Prefix+"/users/{id}", d.page(d.userPage))

	d.mux.HandleFunc("GET "+Prefix+"/endpoints", d.page(d.endpointsPage))
	d.mux.HandleFunc("POST "+Prefix+"/endpoints", d.action(d.createEndpoint))
	d.mux.HandleFunc("GET "+Prefix+"/endpoints/{id}", d.page(d.endpointPage))
	d.mux.HandleFunc("POST "+Prefix+"/endpoints/{id}", d.action(d.updateEndpoint))
	d.mux.HandleFunc("POST "+Prefix+"/endpoints/{id}/status", d.action(d.setEndpointStatus))
	d.mux.HandleFunc("POST "+Prefix+"/endpoints/{id}/rotate", d.action(d.rotateSecret))
	d.mux.HandleFunc("POST "+Prefix+"/endpoints/{id}/test", d.action(d.testEndpoint))
	d.mux.HandleFunc("POST "+Prefix+"/endpoints/{id}/recover", d.action(d.recoverEndpoint))
	d.mux.HandleFunc("POST "+Prefix+"/endpoints/{id}/delete", d.action(d.deleteEndpoint))

	d.mux.HandleFunc("GET "+Prefix+"/test", d.page(d.testPage))
	d.mux.HandleFunc("POST "+Prefix+"/test/advance", d.action(d.advanceClock))
	d.mux.HandleFunc("POST "+Prefix+"/test/simulate", d.action(d.simulateFromTestPage))

	d.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		d.plainError(w, r, http.StatusNotFound, "No dashboard page is at "+r.URL.Path+".")
	})
}

// view is one request to a page or an action of a signed-in session.
type view struct {
	w    http.ResponseWriter
	r    *http.Request
	s    *session
	api  *caller
	data pageData
}

// pageData is what every template gets.
type pageData struct {
	Title string
	// Nav names the navigation entry of the page.
	Nav      string
	Path     string
	Project  string
	Projects []projectInfo
	CSRF     string
	// Idem is a fresh idempotency key for the page's forms: a form sent
	// twice (a double click, a reload) does its action once.
	Idem string
	// Notice says what an action did; Secret is a secret shown once.
	Notice string
	Secret string
	// Error is the API's error for the action or the page.
	Error *apiError
	// Form is the form that was sent, shown again after an error.
	Form url.Values
	D    any
}

// projectInfo is a project the key may switch to.
type projectInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Mode string `json:"mode"`
}

// projects lists the projects the key may switch to: an operator key's
// GET /projects; none for a key that may not list projects.
func (v *view) projects() []projectInfo {
	if v.data.Projects == nil && v.s != nil {
		var l list[projectInfo]
		if err := v.api.get("/projects", url.Values{"limit": {"200"}}, &l); err == nil {
			v.data.Projects = l.Items
		} else {
			v.data.Projects = []projectInfo{}
		}
	}
	return v.data.Projects
}

// page wraps a page handler: without a session it leads to the sign-in page.
func (d *Dashboard) page(fn func(v *view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := d.loadSession(r)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		if s == nil {
			if r.Header.Get("Accept") == "text/event-stream" {
				http.Error(w, "not signed in", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, Prefix+"/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		fn(d.newView(w, r, s))
	}
}

// action wraps a state-changing handler: it runs only with a valid session
// and its CSRF token; anything else is refused before the API is called.
func (d *Dashboard) action(fn func(v *view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			d.plainError(w, r, http.StatusBadRequest, "The form could not be read.")
			return
		}
		s, err := d.loadSession(r)
		if err != nil {
			d.fail(w, r, err)
			return
		}
		if s == nil {
			d.plainError(w, r, http.StatusUnauthorized, "You are not signed in (or your session ended): sign in again, then repeat the action.")
			return
		}
		if !validCSRF(r, s) {
			d.plainError(w, r, http.StatusForbidden, "The form's security token is missing or wrong: reload the page and try again.")
			return
		}
		v := d.newView(w, r, s)
		v.data.Form = r.PostForm
		fn(v)
	}
}

func (d *Dashboard) newView(w http.ResponseWriter, r *http.Request, s *session) *view {
	v := &view{w: w, r: r, s: s, api: d.caller(r, s)}
	v.data = pageData{Path: r.URL.Path, Project: s.project, CSRF: s.csrf(), Idem: randomToken()}
	if r.Method == http.MethodGet {
		v.notice()
	}
	return v
}

// render writes the page: with the error's status when an action or the
// page's main read failed.
func (d *Dashboard) render(v *view, name string) {
	if v.data.Error != nil && v.data.Error.Status == http.StatusUnauthorized && v.s != nil {
		// The key no longer opens the API (revoked, expired): the session ends.
		if err := d.endSession(v.r.Context(), v.w, v.r, v.s); err != nil {
			d.log.ErrorContext(v.r.Context(), "dashboard: end session", "err", err)
		}
		d.showSignin(v.w, v.r, http.StatusUnauthorized, v.data.Error, localPath(v.r.URL.Path), url.Values{"project": {v.s.project}})
		return
	}
	v.projects()
	status := http.StatusOK
	if v.data.Error != nil {
		status = v.data.Error.Status
	}
	d.write(v.w, v.r, name, status, v.data)
}

func (d *Dashboard) write(w http.ResponseWriter, r *http.Request, name string, status int, data pageData) {
	t, ok := d.pages[name]
	if !ok {
		d.fail(w, r, errors.New("dashboard: no template "+name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		d.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// plainError answers with a page that says what went wrong, outside any
// session.
func (d *Dashboard) plainError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d.write(w, r, "error", status, pageData{Title: http.StatusText(status), Path: r.URL.Path,
		Error: &apiError{Status: status, Message: msg}})
}

func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() == nil {
		d.log.ErrorContext(r.Context(), "dashboard: request failed", "path", r.URL.Path, "err", err)
	}
	d.plainError(w, r, http.StatusInternalServerError, "The dashboard failed to answer; the server's log says why.")
}

// redirect sends the browser to a dashboard page.
func (v *view) redirect(path string) { http.Redirect(v.w, v.r, path, http.StatusSeeOther) }

// notices are what a successful action says on the page it leads to, by
// code: the redirect carries the code, never the text.
var notices = map[string]string{
	"resent":    "Queued again for %d endpoint(s); the new attempt appears below once made.",
	"created":   "The endpoint was created.",
	"updated":   "Saved.",
	"enabled":   "The endpoint is enabled; its paused deliveries resume.",
	"disabled":  "The endpoint is disabled; its deliveries wait, paused.",
	"tested":    "A test delivery was queued (%d); its attempt appears below once made.",
	"recovered": "Queued %d failed deliveries again.",
	"deleted":   "The endpoint was deleted.",
	"simulated": "Done: the porting moved; its events are below.",
	"switched":  "Switched project.",
}

// done ends a successful action by leading the browser to the page that
// shows its result, saying what was done.
func (v *view) done(path, code string, n int) {
	q := url.Values{"done": {code}}
	if n != 0 {
		q.Set("n", strconv.Itoa(n))
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	v.redirect(path + sep + q.Encode())
}

// notice reads what the action before this page did.
func (v *view) notice() {
	msg, ok := notices[v.r.URL.Query().Get("done")]
	if !ok || v.data.Notice != "" {
		return
	}
	if strings.Contains(msg, "%d") {
		n, _ := strconv.Atoi(v.r.URL.Query().Get("n"))
		msg = fmt.Sprintf(msg, n)
	}
	v.data.Notice = msg
}

// fail records an API error for the page to show.
func (v *view) fail(err *apiError) {
	if err != nil && v.data.Error == nil {
		v.data.Error = err
	}
}

func (d *Dashboard) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, Prefix+"/events", http.StatusSeeOther)
}

// localPath keeps a "next" target inside the dashboard.
func localPath(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix + "/events"
	}
	return next
}
