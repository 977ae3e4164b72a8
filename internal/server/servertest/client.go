package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Client calls a server's API with one API key, failing the test on a
// transport error. It must be used from the test's goroutine.
type Client struct {
	t testing.TB
	// Base is the server's base URL; Key the API key sent as a bearer token.
	Base, Key string
}

// NewClient returns a client of the server at base with the API key.
func NewClient(t testing.TB, base, key string) *Client {
	return &Client{t: t, Base: base, Key: key}
}

// Do sends a request and returns the status and the body. A string or
// []byte body is sent as it is, anything else but nil as JSON; headers are
// name, value pairs.
func (c *Client) Do(method, path string, body any, headers ...string) (int, []byte) {
	c.t.Helper()
	status, _, b := c.DoHeader(method, path, body, headers...)
	return status, b
}

// DoHeader is Do that returns the response's header too.
func (c *Client) DoHeader(method, path string, body any, headers ...string) (int, http.Header, []byte) {
	c.t.Helper()
	var r io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(v)
	case []byte:
		r = bytes.NewReader(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			c.t.Fatalf("encode %s %s body: %v", method, path, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+path, r)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// Call sends a request, fails the test unless the status is want, decodes
// the body into out unless out is nil, and returns the body.
func (c *Client) Call(method, path string, body any, want int, out any, headers ...string) []byte {
	c.t.Helper()
	got, b := c.Do(method, path, body, headers...)
	if got != want {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return b
}
