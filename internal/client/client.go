package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of the CLI and of New.
const (
	DefaultURL     = "http://127.0.0.1:8080"
	DefaultProject = "dev"
)

// Client calls the API. Its fields may be changed before first use.
type Client struct {
	// BaseURL is the server's base URL, such as http://127.0.0.1:8080.
	BaseURL string
	// APIKey authenticates every request.
	APIKey string
	// Project is the project the project-scoped calls address.
	Project string
	// HTTP sends the requests; a client with a 30 s timeout when nil.
	HTTP *http.Client
}

// New returns a client of the server at baseURL.
func New(baseURL, apiKey, project string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), APIKey: apiKey, Project: project,
		HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Error is a failure the API answered with.
type Error struct {
	// Status is the HTTP status code.
	Status int `json:"-"`
	// Type is the error type: invalid, notFound, conflict, …
	Type string `json:"type"`
	// Code is the specific error code, such as portingNotCancelable.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error describes the API error: its code, type, HTTP status and message.
func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("%s (%s, HTTP %d): %s", e.Code, e.Type, e.Status, e.Message)
}

// IsStatus reports whether err is an API error with the HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// List is a page of a list, newest first.
type List[T any] struct {
	Items []T `json:"items"`
	// MoreItemsAfter is the cursor of the next (older) page, if any.
	MoreItemsAfter *string `json:"moreItemsAfter"`
	// MoreItemsBefore is the cursor of the previous (newer) page, if any.
	MoreItemsBefore *string `json:"moreItemsBefore"`
}

// Page selects a page of a list.
type Page struct {
	After  string
	Before string
	// Limit is 1 to 200; the server's default (10) when zero.
	Limit int
}

func (p Page) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if p.After != "" {
		q.Set("after", p.After)
	}
	if p.Before != "" {
		q.Set("before", p.Before)
	}
	if p.Limit > 0 {
		q.Set("limit", fmt.Sprint(p.Limit))
	}
	return q
}

// projectPath returns the path of a project-scoped resource.
func (c *Client) projectPath(format string, args ...any) string {
	escaped := make([]any, len(args))
	for i, a := range args {
		escaped[i] = url.PathEscape(fmt.Sprint(a))
	}
	return "/projects/" + url.PathEscape(c.Project) + fmt.Sprintf(format, escaped...)
}

// Do sends a request with a JSON body (none when in is nil) and decodes the
// answer into out (ignored when nil; a *json.RawMessage or *[]byte receives
// the raw body).
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	u := strings.TrimSuffix(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("client: %s %s: %w (is the server running at %s?)", method, path, err, c.BaseURL)
		}
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("client: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Message == "" {
			*e = Error{Status: resp.StatusCode, Message: excerpt(raw)}
			if e.Message == "" {
				e.Message = http.StatusText(resp.StatusCode)
			}
		}
		return fmt.Errorf("%s %s: %w", method, path, e)
	}
	if out == nil {
		return nil
	}
	if !json.Valid(raw) {
		return fmt.Errorf("client: %s %s: the answer (HTTP %d, %s) is not JSON: %q", method, path,
			resp.StatusCode, orNone(resp.Header.Get("Content-Type")), excerpt(raw))
	}
	switch o := out.(type) {
	case *[]byte:
		*o = raw
		return nil
	case *json.RawMessage:
		*o = raw
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("client: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// excerpt returns the start of an answer that is not the error object, on
// one line, for an error message.
func excerpt(raw []byte) string {
	const max = 120
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}
