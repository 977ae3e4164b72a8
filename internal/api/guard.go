package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/limits"
)

// checkEncoding refuses a request whose path, query or headers carry what
// no ID, cursor, filter or key can be: bytes that are not UTF-8, control
// characters (NUL among them, which PostgreSQL cannot store), malformed
// percent-escapes, too many query parameters, or an over-long ID. It runs
// before routing and authentication, so no backend ever sees such a value.
func checkEncoding(r *http.Request) error {
	if !cleanText(r.URL.Path) {
		return failure.New(failure.Malformed, "invalidEncoding", "The request path must be valid UTF-8 without control characters.")
	}
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if len(seg) > limits.MaxID {
			return failure.New(failure.Invalid, "invalidId", "An ID in the path must be at most %d characters.", limits.MaxID)
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return failure.New(failure.Malformed, "invalidEncoding", "The query string has a malformed escape or separator.")
	}
	n := 0
	for name, values := range q {
		if !cleanText(name) {
			return failure.New(failure.Malformed, "invalidEncoding", "A query parameter name is not valid UTF-8 text.")
		}
		for _, v := range values {
			n++
			if !cleanText(v) {
				return failure.New(failure.Malformed, "invalidEncoding", "The query parameter %s must be valid UTF-8 without control characters.", name)
			}
		}
	}
	if n > limits.MaxQueryParams {
		return failure.New(failure.Invalid, "tooManyParameters", "A request may have at most %d query parameters.", limits.MaxQueryParams)
	}
	for _, name := range []string{"after", "before"} {
		if len(q.Get(name)) > limits.MaxID {
			return failure.New(failure.Invalid, "invalidCursor", "The cursor %s must be at most %d characters.", name, limits.MaxID)
		}
	}
	if k := r.Header.Get("Idempotency-Key"); !cleanText(k) {
		return failure.New(failure.Malformed, "invalidIdempotencyKey", "The idempotency key must be valid UTF-8 without control characters.")
	}
	for name, values := range r.Header {
		for _, v := range values {
			if !utf8.ValidString(v) {
				return failure.New(failure.Malformed, "invalidEncoding", "The header %s must be valid UTF-8.", name)
			}
		}
	}
	return nil
}

// cleanText reports whether s is valid UTF-8 without control characters.
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// readBodyFirst reads the whole request body (up to limits.MaxRequestBody)
// before the request is authenticated or routed, so that a client that
// trickles its body holds nothing but its connection until the server's
// read timeout cuts it off, and no authentication work is spent on it.
func readBodyFirst(w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limits.MaxRequestBody))
	r.Body.Close()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return failure.New(failure.Invalid, "requestTooLarge", "The request body exceeds %d bytes.", limits.MaxRequestBody)
		}
		return errBodyUnread
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// errBodyUnread is the failure of a body that could not be read in time.
var errBodyUnread = failure.New(failure.Malformed, "requestTimeout", "The request body was not received in time.")
