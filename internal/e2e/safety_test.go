package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/limits"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
)

// TestInvalidEncodingIsRefused sends what no ID, cursor, filter or key can
// be — bytes that are not UTF-8, NUL, malformed escapes — in every place a
// request carries text, and checks for a 4xx error object on each backend
// (PostgreSQL answered 500 to some of them) and that nothing was recorded.
func TestInvalidEncodingIsRefused(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		e.newEvents()
		manyTypes := strings.TrimSuffix(strings.Repeat("com.gigs.user.created,", 40000), ",")
		tests := []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
			code               string
		}{
			{"user ID", "GET", "/projects/dev/users/usr_%ff", nil, nil, 400, "invalidEncoding"},
			{"porting ID", "GET", "/projects/dev/portings/%ff%fe", nil, nil, 400, "invalidEncoding"},
			{"event ID", "GET", "/projects/dev/events/evt_%c3%28", nil, nil, 400, "invalidEncoding"},
			{"endpoint ID", "PATCH", "/projects/dev/webhookEndpoints/%ff", obj{}, nil, 400, "invalidEncoding"},
			{"NUL in ID", "GET", "/projects/dev/users/usr_%00", nil, nil, 400, "invalidEncoding"},
			{"project", "GET", "/projects/%ff/users", nil, nil, 400, "invalidEncoding"},
			{"cursor after", "GET", "/projects/dev/events?after=%ff", nil, nil, 400, "invalidEncoding"},
			{"cursor before", "GET", "/projects/dev/users?before=evt_%80", nil, nil, 400, "invalidEncoding"},
			{"type filter", "GET", "/projects/dev/events?type=%ff", nil, nil, 400, "invalidEncoding"},
			{"NUL in filter", "GET", "/projects/dev/events?type=com.gigs%00", nil, nil, 400, "invalidEncoding"},
			{"query escape", "GET", "/projects/dev/events?type=%zz", nil, nil, 400, "invalidEncoding"},
			{"version", "GET", "/projects/dev/events?version=%ff", nil, nil, 400, "invalidEncoding"},
			{"idempotency key", "POST", "/projects/dev/users", obj{"email": "kramer@example.com"}, []string{"Idempotency-Key", "k\xff"}, 400, "invalidIdempotencyKey"},
			{"other header", "GET", "/projects/dev/users", nil, []string{"X-Note", "\xff\xfe"}, 400, "invalidEncoding"},
			{"NUL in body", "POST", "/projects/dev/users", `{"email":"newman@example.com","fullName":"New\u0000man"}`, nil, 422, "invalidCharacters"},
			{"long ID", "GET", "/projects/dev/users/usr_" + strings.Repeat("a", 200), nil, nil, 422, "invalidId"},
			{"long cursor", "GET", "/projects/dev/events?after=" + strings.Repeat("a", 200), nil, nil, 422, "invalidCursor"},
			{"40,000 type filters", "GET", "/projects/dev/events?type=" + manyTypes, nil, nil, 422, "tooManyFilterValues"},
			{"too many parameters", "GET", "/projects/dev/events?" + strings.Repeat("type=x&", 200), nil, nil, 422, "tooManyParameters"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				e.expectError(tt.method, tt.path, tt.body, tt.status, failureType(tt.status), tt.code, tt.headers...)
			})
		}
		e.t = t
		e.expectTypes() // nothing was recorded
		// The same requests with valid values work.
		e.call("GET", "/projects/dev/events?type=com.gigs.user.created,com.gigs.user.updated", nil, 200)
	})
}

// failureType is the error type the API answers with a status.
func failureType(status int) string {
	switch status {
	case 400:
		return "malformed"
	case 429:
		return "tooManyRequests"
	}
	return "invalid"
}

// TestAPIRateLimit checks the per-key token bucket: a key that spent its
// burst gets 429 tooManyRequests with Retry-After and the RateLimit
// headers, and another key (of another project) is not affected.
func TestAPIRateLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		// 0.2 requests a second: a burst of one, the next token 5 s away.
		e := start(t, b, func(c *server.Config) { c.APIRateLimit = 0.2 })
		otherKey, err := e.srv.NewAPIKey(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		get := func(key, path string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("GET", e.base+path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp
		}
		first := get(e.key, "/projects/dev/users")
		if first.StatusCode != 200 || first.Header.Get("RateLimit-Limit") != "1" || first.Header.Get("RateLimit-Remaining") != "0" ||
			first.Header.Get("RateLimit-Reset") == "" {
			t.Fatalf("first request: %d, headers %v", first.StatusCode, first.Header)
		}
		e.expectError("GET", "/projects/dev/users", nil, 429, "tooManyRequests", "tooManyRequests")
		limited := get(e.key, "/projects/dev/users")
		if ra, err := strconv.Atoi(limited.Header.Get("Retry-After")); limited.StatusCode != 429 || err != nil || ra < 1 || ra > 5 ||
			limited.Header.Get("RateLimit-Remaining") != "0" {
			t.Fatalf("limited request: %d, headers %v", limited.StatusCode, limited.Header)
		}
		if resp := get(otherKey, "/projects/other/users"); resp.StatusCode != 200 {
			t.Fatalf("another project's key: status %d, want 200", resp.StatusCode)
		}
	})
}

// TestFailedAuthenticationsLimited checks that one client address that keeps
// failing to authenticate is refused with 429 before any authentication
// work, while another address still gets in.
func TestFailedAuthenticationsLimited(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		from := func(local string) *http.Client {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
			return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		}
		do := func(c *http.Client, key string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest("GET", e.base+"/projects/dev/users", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Code string }
			json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode, body.Code
		}
		attacker := from("127.0.0.1")
		failures := 0
		for ; failures <= 2*limits.AuthFailures; failures++ {
			status, code := do(attacker, fmt.Sprintf("sk_guess_%d", failures))
			if status == 429 {
				if code != "tooManyRequests" {
					t.Fatalf("code %s, want tooManyRequests", code)
				}
				break
			}
			if status != 401 {
				t.Fatalf("guess %d: status %d, want 401", failures, status)
			}
		}
		if failures < limits.AuthFailures || failures > 2*limits.AuthFailures {
			t.Fatalf("refused after %d failures, want after %d", failures, limits.AuthFailures)
		}
		if status, _ := do(attacker, e.key); status != 429 {
			t.Fatalf("the limited address with the right key: status %d, want 429", status)
		}
		if status, _ := do(from("127.0.0.2"), e.key); status != 200 {
			t.Fatalf("another address: status %d, want 200", status)
		}
	})
}

// TestTricklingClientIsCutOff sends a request whose body trickles in, one
// byte at a time, with a wrong key: the server must cut it off at its read
// timeout without ever authenticating it (that would answer 401 at once).
func TestTricklingClientIsCutOff(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		const readTimeout = 500 * time.Millisecond
		e := start(t, b, func(c *server.Config) { c.ReadTimeout = readTimeout })
		conn, err := net.Dial("tcp", e.srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /projects/dev/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_wrong\r\n"+
			"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
		stop := make(chan struct{})
		trickled := make(chan int)
		go func() {
			n := 0
			defer func() { trickled <- n }()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
				n++
			}
		}()
		// Await the server's answer, bounded so a server that never cuts
		// the client off fails the test instead of hanging it.
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		close(stop)
		n := <-trickled
		if err != nil {
			t.Fatalf("no answer while trickling (%d bytes sent): %v", n, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 401 {
			t.Fatalf("answered 401: the server authenticated before reading the body")
		}
		if resp.StatusCode != 400 || !strings.Contains(string(body), "requestTimeout") || !resp.Close {
			t.Fatalf("answer %d (close %v) %s, want 400 requestTimeout and the connection closed", resp.StatusCode, resp.Close, body)
		}
		if n < 2 {
			t.Fatalf("cut off after %d bytes: the client was not trickling yet", n)
		}
	})
}

// TestQuotas checks each quota's clear 4xx error, and that one project's
// quota leaves another's alone.
func TestQuotas(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		e := start(t, b)
		s := e.setup()
		long := func(n int) string { return strings.Repeat("a", n) }
		tests := []struct {
			name, method, path string
			body               any
			code               string
		}{
			{"900 KB e-mail", "POST", "/projects/dev/users", obj{"email": long(900<<10) + "@example.com"}, "invalidEmail"},
			{"e-mail over the limit", "POST", "/projects/dev/users", obj{"email": long(limits.MaxEmail) + "@example.com"}, "invalidEmail"},
			{"full name", "POST", "/projects/dev/users", obj{"email": "a@example.com", "fullName": long(limits.MaxFullName + 1)}, "invalidLength"},
			{"first name", "POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9",
				"firstName": long(limits.MaxPersonName + 1)}, "invalidLength"},
			{"address line", "POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9",
				"address": obj{"line1": long(limits.MaxAddressLine + 1), "city": "X", "postalCode": "10024", "country": "US"}}, "invalidLength"},
			{"account number", "POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9",
				"accountNumber": long(limits.MaxAccountNumber + 1)}, "invalidAccountNumber"},
			{"endpoint URL", "POST", "/projects/dev/webhookEndpoints", obj{"url": "https://example.com/" + long(limits.MaxURL)}, "invalidUrl"},
			{"endpoint description", "POST", "/projects/dev/webhookEndpoints", obj{"url": "https://example.com/", "description": long(limits.MaxDescription + 1)}, "invalidDescription"},
		}
		e.newEvents()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.t = t
				e.expectError(tt.method, tt.path, tt.body, 422, "invalid", tt.code)
			})
		}
		e.t = t
		e.expectTypes()

		// Secret rotations: at most MaxEndpointSecrets secrets sign at once.
		ep := e.json("POST", "/projects/dev/webhookEndpoints", obj{"url": "https://example.com/hook"}, 201).str("id")
		rotations := 0
		for ; rotations < 300; rotations++ {
			status, body := e.send("POST", "/projects/dev/webhookEndpoints/"+ep+"/rotateSecret", nil)
			if status == 409 {
				if !strings.Contains(string(body), "tooManySecrets") {
					t.Fatalf("rotation refused with %s", body)
				}
				break
			}
			if status != 200 {
				t.Fatalf("rotation %d: status %d %s", rotations, status, body)
			}
		}
		if rotations != limits.MaxEndpointSecrets-1 {
			t.Fatalf("%d rotations succeeded, want %d", rotations, limits.MaxEndpointSecrets-1)
		}

		// Endpoints per project: the project has one already. The last
		// two places are raced for by four creations at once.
		for i := 1; i < limits.MaxEndpointsPerProject-2; i++ {
			e.call("POST", "/projects/dev/webhookEndpoints", obj{"url": fmt.Sprintf("https://example.com/%d", i)}, 201)
		}
		statuses := make(chan int, 4)
		for i := range 4 {
			go func() {
				req, _ := http.NewRequest("POST", e.base+"/projects/dev/webhookEndpoints",
					strings.NewReader(fmt.Sprintf(`{"url":"https://example.com/race%d"}`, i)))
				req.Header.Set("Authorization", "Bearer "+e.key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		created := 0
		for range 4 {
			switch status := <-statuses; status {
			case 201:
				created++
			case 422:
			default:
				t.Fatalf("a racing creation answered %d", status)
			}
		}
		if created != 2 {
			t.Fatalf("%d of 4 racing creations succeeded for the last 2 places", created)
		}
		e.expectError("POST", "/projects/dev/webhookEndpoints", obj{"url": "https://example.com/one-too-many"}, 422, "invalid", "tooManyWebhookEndpoints")
		otherKey, err := e.srv.NewAPIKey(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		e.key = otherKey
		e.call("POST", "/projects/other/webhookEndpoints", obj{"url": "https://example.com/other"}, 201)
	})
}
