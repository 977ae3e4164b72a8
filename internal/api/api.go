package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Server serves the REST API. Build it with New.
type Server struct {
	deps Deps
	log  *slog.Logger
	mux  *http.ServeMux
	// rate limits requests per API key (nil: no limit); authFails limits
	// failed authentications per client address.
	rate, authFails *limiter
	// patterns are the registered routes' patterns, in registration order.
	patterns []string
	// operatorOnly are the patterns only the operator key may call.
	operatorOnly map[string]bool
}

// Handler serves one authenticated request and returns the status and the
// value to answer with (a json.RawMessage is written as it is).
type Handler func(c *Call) (int, any, error)

// Call is one authenticated request.
type Call struct {
	R *http.Request
	// Project is the project of the caller's key, or the project of the
	// path when the operator key calls ("" on routes of no project).
	Project string
	// Operator is set when the caller holds the operator key.
	Operator bool
	// KeyID is the caller's API key's ID ("" for the operator key).
	KeyID string
	// Ctx carries the actor the changes are attributed to.
	Ctx context.Context
	// ShowsSecret is set by a handler whose success shows a secret (a PIN,
	// a signing secret): secrets are shown once, so its response is not
	// kept for idempotent replay.
	ShowsSecret bool
}

// New returns the API server over the dependencies.
func New(deps Deps) *Server {
	s := &Server{deps: deps, log: deps.Logger, mux: http.NewServeMux(), authFails: newAuthFailures()}
	if deps.RateLimit > 0 {
		s.rate = newLimiter(deps.RateLimit, deps.RateLimit*limits.APIBurst)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.routes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, failure.New(failure.Malformed, "methodNotAllowed",
				"%s %s is not allowed; the path takes %s.", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		s.writeError(w, r, failure.New(failure.NotFound, "routeNotFound", "No route matches %s %s.", r.Method, r.URL.Path))
	})
	return s
}

// methods are the HTTP methods a route may take, in the order Allow names
// them.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowed returns the methods a route takes at the request's path, none
// when no route has the path. The catch-all pattern "/" matches every
// request the routes do not, so the mux itself never answers 405: ask it
// which pattern each method would reach instead.
func (s *Server) allowed(r *http.Request) []string {
	var allow []string
	for _, m := range methods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// ServeHTTP checks the request's encoding, reads its body, and routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := checkEncoding(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := readBodyFirst(w, r); err != nil {
		if err == errBodyUnread {
			w.Header().Set("Connection", "close")
		}
		s.writeError(w, r, err)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Mux returns the router, for routes served beside the API (health, metrics).
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Handle registers an authenticated route, open to the operator key and to
// project keys. A pattern with a {project} wildcard answers 404 for any
// project but a project key's own, and for a project that does not exist.
func (s *Server) Handle(pattern string, h Handler) {
	s.handle(pattern, false, h)
}

// HandleOperator registers a route only the operator key may call; a
// project key gets 403 operatorKeyRequired.
func (s *Server) HandleOperator(pattern string, h Handler) {
	s.handle(pattern, true, h)
}

func (s *Server) handle(pattern string, operatorOnly bool, h Handler) {
	s.patterns = append(s.patterns, pattern)
	if operatorOnly {
		if s.operatorOnly == nil {
			s.operatorOnly = map[string]bool{}
		}
		s.operatorOnly[pattern] = true
	}
	withProject := strings.Contains(pattern, "{project}")
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := s.authBlocked(w, r); err != nil {
			s.writeError(w, r, err)
			return
		}
		c, err := s.authenticate(r, operatorOnly, withProject)
		if err != nil {
			if failure.Is(err, failure.Unauthenticated, "") {
				s.authFailed(r)
			}
			s.writeError(w, r, err)
			return
		}
		if err := s.limitKey(w, c.KeyID); err != nil {
			s.writeError(w, r, err)
			return
		}
		if r.Method == http.MethodPost && r.Header.Get("Idempotency-Key") != "" {
			s.idempotent(w, c, h)
			return
		}
		status, body, err := h(c)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.write(w, status, body)
	})
}

// BearerToken returns the request's bearer token; ok is false when it has
// none. The scheme is matched case-insensitively (RFC 9110 §11.1).
func BearerToken(r *http.Request) (token string, ok bool) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	return token, strings.EqualFold(scheme, "Bearer") && token != ""
}

// authenticate finds who calls — a project key, or the operator key — and
// whether they may call the route.
func (s *Server) authenticate(r *http.Request, operatorOnly, withProject bool) (*Call, error) {
	token, ok := BearerToken(r)
	if !ok {
		return nil, failure.New(failure.Unauthenticated, "unauthenticated", "Authenticate with an API key: Authorization: Bearer <key>.")
	}
	path := r.PathValue("project")
	key, err := s.deps.APIKeys.Authenticate(r.Context(), token)
	if err == nil {
		if operatorOnly {
			return nil, operatorRequired()
		}
		if withProject && path != key.Project {
			return nil, failure.New(failure.NotFound, "projectNotFound", "The project %s was not found.", path)
		}
		return &Call{R: r, Project: key.Project, KeyID: key.ID,
			Ctx: eventlog.WithActor(r.Context(), switchboard.Actor{Type: switchboard.ActorAPIKey, APIKey: key.ID})}, nil
	}
	if !failure.Is(err, failure.Unauthenticated, "") {
		return nil, err
	}
	if operator, oerr := s.deps.Operator(r.Context(), token); oerr != nil {
		return nil, oerr
	} else if !operator {
		return nil, err
	}
	if withProject {
		if _, err := s.deps.Projects.Mode(r.Context(), path); err != nil {
			return nil, err
		}
	}
	return &Call{R: r, Project: path, Operator: true,
		Ctx: eventlog.WithActor(r.Context(), switchboard.Actor{Type: switchboard.ActorSystem})}, nil
}

func operatorRequired() error {
	return failure.New(failure.PermissionDenied, "operatorKeyRequired", "Only the operator key (SWITCHBOARD_ADMIN_KEY) may do this.")
}

func (s *Server) write(w http.ResponseWriter, status int, body any) {
	if raw, ok := body.([]byte); ok {
		writeRaw(w, status, raw)
		return
	}
	writeJSON(w, status, body)
}

// abandonAfter is how long an idempotency key may stay reserved by a
// request that never finished (its process died) before a retry runs again.
const abandonAfter = time.Minute

// idempotent runs a POST at most once per idempotency key: a retry with the
// same key and body gets the first response, with another body a conflict.
func (s *Server) idempotent(w http.ResponseWriter, c *Call, h Handler) {
	r := c.R
	key := r.Header.Get("Idempotency-Key")
	if len(key) > limits.MaxIdempotencyKey {
		s.writeError(w, r, failure.New(failure.Invalid, "invalidIdempotencyKey", "The idempotency key must be at most %d characters.", limits.MaxIdempotencyKey))
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	request := append([]byte(r.Method+" "+r.URL.Path+"\n"), body...)
	hash := s.requestHash(request)
	now := s.deps.Wall.Now()
	var replay *store.Idempotent
	err = s.deps.Store.Update(r.Context(), func(tx *store.Tx) error {
		prev, err := tx.Idempotent(r.Context(), c.Project, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return tx.PutIdempotent(r.Context(), c.Project, key, store.Idempotent{Hash: hash, CreatedAt: now})
		case err != nil:
			return err
		case !s.sameRequest(prev.Hash, request):
			return failure.New(failure.Conflict, "idempotencyKeyReused", "The idempotency key was used with another request.")
		case prev.StatusCode == 0 && now.Sub(prev.CreatedAt) < abandonAfter:
			return failure.New(failure.Conflict, "idempotencyKeyInProgress", "A request with this idempotency key is in progress.")
		case prev.StatusCode == 0:
			return tx.CompleteIdempotent(r.Context(), c.Project, key, store.Idempotent{CreatedAt: now})
		}
		replay = &prev
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if replay != nil {
		w.Header().Set("Idempotent-Replayed", "true")
		writeRaw(w, replay.StatusCode, bytes.TrimSuffix(replay.Body, []byte("\n")))
		return
	}
	rec := &recorder{header: w.Header()}
	status, out, herr := h(c)
	if herr != nil {
		s.writeError(rec, r, herr)
	} else {
		s.write(rec, status, out)
	}
	// A failure that a retry may cure (5xx) forgets the key; anything else is
	// the answer to every retry.
	kept := store.Idempotent{Hash: hash, StatusCode: rec.status, Body: rec.body.Bytes(), CreatedAt: now}
	if c.ShowsSecret && rec.status < 300 {
		// A retry learns that the request was done, not the secret again.
		kept.StatusCode, kept.Body = http.StatusConflict, secretNotReplayed
	}
	save := func(tx *store.Tx) error {
		if rec.status >= 500 {
			return tx.DeleteIdempotent(r.Context(), c.Project, key)
		}
		return tx.CompleteIdempotent(r.Context(), c.Project, key, kept)
	}
	if err := s.deps.Store.Update(context.WithoutCancel(r.Context()), save); err != nil {
		s.log.ErrorContext(r.Context(), "api: record idempotency key", "err", err)
	}
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
}

// secretNotReplayed answers a retry of a request whose response showed a
// secret.
var secretNotReplayed = []byte(`{"object":"error","type":"conflict","code":"idempotentSecretNotReplayed",` +
	`"message":"A request with this idempotency key succeeded; its response showed a secret, which is shown only once."}`)

// recorder captures a response so it can be stored before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// requestPurpose is the purpose idempotent requests are hashed for: a
// request body may hold a PIN, so its hash is keyed too.
const requestPurpose = "idempotentRequest"

// requestHash returns the stored hash of an idempotent request.
func (s *Server) requestHash(request []byte) string {
	if s.deps.Keys != nil {
		return s.deps.Keys.Hash(requestPurpose, string(request))
	}
	sum := sha256.Sum256(request)
	return hex.EncodeToString(sum[:])
}

// sameRequest reports whether stored is the hash of request.
func (s *Server) sameRequest(stored string, request []byte) bool {
	if s.deps.Keys != nil && strings.HasPrefix(stored, secret.HashPrefix) {
		return s.deps.Keys.Verify(requestPurpose, stored, string(request))
	}
	sum := sha256.Sum256(request)
	return stored == hex.EncodeToString(sum[:])
}
