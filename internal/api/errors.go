package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/wirejson"
)

// errorBody is the platform's error object.
type errorBody struct {
	Object  string `json:"object"`
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

var statusOf = map[string]int{
	failure.Malformed:        http.StatusBadRequest,
	failure.Unauthenticated:  http.StatusUnauthorized,
	failure.PermissionDenied: http.StatusForbidden,
	failure.NotFound:         http.StatusNotFound,
	failure.Conflict:         http.StatusConflict,
	failure.Invalid:          http.StatusUnprocessableEntity,
	failure.TooManyRequests:  http.StatusTooManyRequests,
	failure.Internal:         http.StatusInternalServerError,
	failure.NotImplemented:   http.StatusNotImplemented,
	failure.Unavailable:      http.StatusServiceUnavailable,
}

// statusOfCode are the codes whose HTTP status is not their type's.
var statusOfCode = map[string]int{
	"methodNotAllowed": http.StatusMethodNotAllowed,
	"requestTooLarge":  http.StatusRequestEntityTooLarge,
}

// asFailure turns any error into the failure the API answers with: a
// failure.Error as it is, the store's sentinels by meaning, anything else
// as an internal error whose details stay in the log.
func asFailure(err error) *failure.Error {
	if f, ok := failure.As(err); ok {
		return f
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return failure.New(failure.NotFound, "notFound", "The resource was not found.")
	case errors.Is(err, store.ErrDuplicate):
		return failure.New(failure.Conflict, "alreadyExists", "The resource already exists.")
	case errors.Is(err, store.ErrUnavailable):
		return failure.New(failure.Unavailable, "databaseUnavailable", "The service is temporarily unavailable; retry later.")
	}
	return failure.New(failure.Internal, "internalError", "An internal error occurred.")
}

// writeError answers with the platform's error object.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	f := asFailure(err)
	status := statusOfCode[f.Code]
	if status == 0 {
		status = statusOf[f.Type]
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	// A request whose caller went away is not the server's failure.
	if status >= 500 && r.Context().Err() == nil {
		s.log.ErrorContext(r.Context(), "api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{Object: "error", Type: f.Type, Code: f.Code, Message: f.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := wirejson.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"object":"error","type":"internal","code":"internalError","message":"An internal error occurred."}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}
