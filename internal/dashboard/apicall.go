package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// apiError is the API's error object, shown in the page as the API gave it.
type apiError struct {
	Status  int    `json:"-"`
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// list is the API's list object.
type list[T any] struct {
	Items           []T     `json:"items"`
	MoreItemsAfter  *string `json:"moreItemsAfter"`
	MoreItemsBefore *string `json:"moreItemsBefore"`
}

// caller makes API requests for one browser request with one key.
type caller struct {
	api     http.Handler
	ctx     context.Context
	key     string
	remote  string
	host    string
	project string
}

func (d *Dashboard) caller(r *http.Request, s *session) *caller {
	c := &caller{api: d.api, ctx: r.Context(), remote: r.RemoteAddr, host: r.Host}
	if s != nil {
		c.key, c.project = s.key, s.project
	}
	return c
}

// projectPath returns /projects/{project} followed by the path elements,
// each escaped.
func (c *caller) projectPath(elems ...string) string {
	var b strings.Builder
	b.WriteString("/projects/")
	b.WriteString(url.PathEscape(c.project))
	for _, e := range elems {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(e))
	}
	return b.String()
}

// do sends one request through the API handler in process. body, when not
// nil, is sent as JSON; idem, when set, is the Idempotency-Key. A 2xx
// answer is decoded into out (when not nil) and its raw body returned; any
// other answer is the API's error.
func (c *caller) do(method, path string, query url.Values, body any, idem string, out any) ([]byte, *apiError) {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &apiError{Status: 500, Type: "internal", Code: "dashboardError", Message: err.Error()}
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(c.ctx, method, target, rd)
	if err != nil {
		return nil, &apiError{Status: 400, Type: "malformed", Code: "invalidRequest", Message: err.Error()}
	}
	req.RemoteAddr, req.Host, req.RequestURI = c.remote, c.host, target
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	c.api.ServeHTTP(rec, req)
	raw := rec.body.Bytes()
	if rec.status < 200 || rec.status > 299 {
		e := &apiError{Status: rec.status}
		if err := json.Unmarshal(raw, e); err != nil || e.Message == "" {
			e.Type, e.Code = "internal", "unexpectedResponse"
			e.Message = fmt.Sprintf("The API answered %d %s.", rec.status, http.StatusText(rec.status))
		}
		return nil, e
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, &apiError{Status: 500, Type: "internal", Code: "dashboardError",
				Message: fmt.Sprintf("The API's answer to %s %s could not be read: %v.", method, path, err)}
		}
	}
	return raw, nil
}

// get is do for a GET without a body.
func (c *caller) get(path string, query url.Values, out any) *apiError {
	_, err := c.do(http.MethodGet, path, query, nil, "", out)
	return err
}

// recorder is the in-process response of the API handler.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}
