package contracttest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/contract/contracttest"
)

// TestTransportRejects serves answers the document does not allow and
// checks that the validating transport reports each, and accepts a valid
// one.
func TestTransportRejects(t *testing.T) {
	const porting = `{"object":"porting","id":"prt_0SNlurA049MEWV39s2kSYqaat7ZS","accountNumber":null,"accountPinExists":false,` +
		`"address":null,"birthday":null,"declinedAttempts":0,"declinedCode":null,"declinedMessage":null,"donorProvider":null,` +
		`"donorProviderApproval":null,"firstName":null,"lastName":null,"phoneNumber":"+12015550123","provider":"p9",` +
		`"recipientProvider":{"object":"serviceProvider","id":"svp_0SNlurA01K6GY5L0XJffY8","name":"Gigs","recipientProviders":["p9"]},` +
		`"required":[],"status":"%s","subscription":null,"user":"usr_0SNlurA049MEWV4OpCwsNyC9Kn2d","canceledAt":null,` +
		`"completedAt":null,"createdAt":"2025-01-01T00:00:00Z","expiredAt":null,"lastDeclinedAt":null,"lastRequestedAt":null}`
	tests := []struct {
		name        string
		status      int
		body        string
		ok          bool
		contentType string
	}{
		{"text where JSON is documented", 200, "ok", false, "text/plain"},
		{"JSON with a charset", 200, fmt.Sprintf(porting, "pending"), true, "application/json; charset=utf-8"},
		{"valid", 200, fmt.Sprintf(porting, "draft"), true, ""},
		{"unknown status", 200, fmt.Sprintf(porting, "lost"), false, ""},
		{"undocumented status code", 418, `{"object":"error","type":"invalid","code":"teapot","message":"no"}`, false, ""},
		{"not the error object", 404, `{"error":"not found"}`, false, ""},
		{"valid error", 404, `{"object":"error","type":"notFound","code":"portingNotFound","message":"The porting was not found."}`, true, ""},
		{"wrong type", 200, `{"object":"porting","id":5}`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ct := tt.contentType
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			tr := contracttest.NewTransport(t, nil)
			var reports []string
			tr.Report = func(format string, args ...any) { reports = append(reports, fmt.Sprintf(format, args...)) }
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/projects/dev/portings/prt_x")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := len(reports) == 0; got != tt.ok {
				t.Errorf("valid %v, want %v; reports %q", got, tt.ok, reports)
			}
		})
	}
}

// TestTransportRejectsBodiesTheDocumentRefuses: a body the server accepted
// but the document does not allow is reported, as a generated client could
// not send it.
func TestTransportRejectsBodiesTheDocumentRefuses(t *testing.T) {
	const user = `{"object":"user","id":"usr_0SNlurA049MEWV4OpCwsNyC9Kn2d","birthday":null,"email":"a@example.com",` +
		`"emailVerified":false,"fullName":null,"preferredLocale":"en-US","createdAt":"2025-01-01T00:00:00Z"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		w.Write([]byte(user))
	}))
	defer srv.Close()
	for body, ok := range map[string]bool{
		`{"email":"a@example.com"}`: true,
		`{"email":5}`:               false,
		`{"nickname":"a"}`:          false,
	} {
		tr := contracttest.NewTransport(t, nil)
		var reports []string
		tr.Report = func(format string, args ...any) { reports = append(reports, fmt.Sprintf(format, args...)) }
		resp, err := (&http.Client{Transport: tr}).Post(srv.URL+"/projects/dev/users", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := len(reports) == 0; got != ok {
			t.Errorf("%s: valid %v, want %v; reports %q", body, got, ok, reports)
		}
	}
}
