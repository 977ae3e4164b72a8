package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to read a PostgreSQL schema raw

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
	"github.com/switchboard-dev/switchboard/internal/porting"
	"github.com/switchboard-dev/switchboard/internal/secret"
	"github.com/switchboard-dev/switchboard/internal/server"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/store/storetest"
	"github.com/switchboard-dev/switchboard/webhook"
)

// signedReceiver keeps the webhook requests it gets.
type signedReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []signed
}

type signed struct {
	header http.Header
	body   []byte
}

func newSignedReceiver(t *testing.T) *signedReceiver {
	rc := &signedReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, signed{r.Header.Clone(), b})
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *signedReceiver) got() []signed {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]signed(nil), rc.reqs...)
}

// startWith runs a server the test shuts down itself (to start another on
// the same database).
func startWith(t *testing.T, b storetest.Backend, secretKey string) (*env, func()) {
	t.Helper()
	cfg := server.Config{Addr: "127.0.0.1:0", DB: b.DB, Schema: b.Schema, Project: project, APIKey: "sk_test_secret_" + b.Name,
		AdminKey: "sk_admin_secret_" + b.Name, SecretKey: secretKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	return &env{t: t, srv: srv, base: srv.URL(), key: cfg.APIKey, seen: map[string]bool{}}, stop
}

// TestSecretsAtRest runs a journey that stores every kind of secret, then
// reads the database's files (SQLite: the file and its WAL) or every row
// (PostgreSQL) raw, and checks that no PIN, API token, signing secret or
// unkeyed PIN hash is there; then it re-seals the database under a new key
// and checks that everything still works, and that a wrong key is refused.
func TestSecretsAtRest(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		oldKey := ""
		if b.Name != "sqlite" {
			oldKey = secret.Generate()
		}
		e, stop := startWith(t, b, oldKey)
		if b.Name == "sqlite" {
			fi, err := os.Stat(server.KeyFilePath(b.DB))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
			}
		}
		s := e.setup()
		const pin1, pin2 = "73519284061759328406", "86420975318642097531"
		var created obj
		if err := json.Unmarshal(e.call("POST", "/projects/dev/portings", obj{"phoneNumber": portingNumber, "user": s.user, "provider": "p9",
			"accountPin": pin1}, 201, "Idempotency-Key", "prt-1"), &created); err != nil {
			t.Fatal(err)
		}
		prt := created.str("id")
		e.call("PATCH", "/projects/dev/portings/"+prt, obj{"accountPin": pin2}, 200)
		rc := newSignedReceiver(t)
		ep := e.json("POST", "/projects/dev/webhookEndpoints", obj{"url": rc.URL, "enabledEvents": []string{"com.gigs.user.*"}}, 201)
		rotated := e.json("POST", "/projects/dev/webhookEndpoints/"+ep.str("id")+"/rotateSecret", nil, 200)
		whsec1, whsec2 := ep.str("secret"), rotated.str("secret")
		sub := e.json("POST", "/projects/dev/subscriptions", obj{"user": s.user, "plan": s.plan}, 201).str("id")
		creds := e.json("POST", "/projects/dev/subscriptions/"+sub+"/portOutCredentials", nil, 201)
		outPin := creds.str("accountPin")
		var apiKey obj
		if err := json.Unmarshal(e.call("POST", "/projects/dev/apiKeys", obj{"name": "ci"}, 201, "Idempotency-Key", "apk-1"), &apiKey); err != nil {
			t.Fatal(err)
		}
		token := apiKey.str("token")
		if whsec1 == "" || whsec2 == "" || outPin == "" || token == "" {
			t.Fatalf("secrets not shown: %q %q %q", whsec1, whsec2, outPin)
		}
		verified := func(secrets ...string) {
			t.Helper()
			n := len(rc.got())
			e.call("PATCH", "/projects/dev/users/"+s.user, obj{"fullName": "Jerry " + time.Now().Format(time.StampNano)}, 200)
			storetest.WaitFor(t, 10*time.Second, "a delivery", func() bool { return len(rc.got()) > n })
			d := rc.got()[n]
			for _, sec := range secrets {
				if err := webhook.Verify(sec, d.header, d.body); err != nil {
					t.Fatalf("delivery not signed with %s…: %v", sec[:10], err)
				}
			}
		}
		verified(whsec1, whsec2)

		sum := sha256.Sum256([]byte(outPin))
		secrets := map[string]string{
			"account PIN": pin1, "corrected account PIN": pin2, "API token": e.key,
			"API token made through the API": token, "operator key": "sk_admin_secret_" + b.Name,
			"signing secret": whsec1, "rotated signing secret": whsec2,
			"signing secret's key": strings.TrimPrefix(whsec2, "whsec_"), "whsec_ prefix": "whsec_",
			"unkeyed port-out PIN hash": hex.EncodeToString(sum[:]),
		}
		raw := rawDatabase(t, b)
		for what, v := range secrets {
			if bytes.Contains(raw, []byte(v)) {
				t.Errorf("the database holds the %s in clear", what)
			}
		}
		if !bytes.Contains(raw, []byte(secret.SealedPrefix)) || !bytes.Contains(raw, []byte(secret.HashPrefix)) {
			t.Fatalf("the database holds no sealed value or keyed hash (%d bytes read)", len(raw))
		}
		stop()

		// A server with another key refuses to start.
		wrong := server.Config{DB: b.DB, Schema: b.Schema, SecretKey: secret.Generate(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if srv, err := server.New(context.Background(), wrong); err == nil {
			srv.Shutdown(context.Background())
			t.Fatal("a server with the wrong secret key started")
		}

		// Re-seal under a new key, as switchboard reseal does.
		old, _, _, err := server.LoadKeys(b.DB, oldKey, "")
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := secret.Parse(secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		keys, err := old.Under(fresh)
		if err != nil {
			t.Fatal(err)
		}
		st := b.Open(t)
		rep, err := server.Reseal(context.Background(), st, keys)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Two signing secrets and one account PIN; the port-out PIN's and
		// the API token's hashes stay with the old key.
		if rep.Resealed != 3 || rep.Sealed != 0 || rep.OldHashes[old.Current()] < 2 {
			t.Fatalf("reseal: %+v", rep)
		}
		raw = rawDatabase(t, b)
		if bytes.Contains(raw, []byte(secret.SealedPrefix+old.Current())) {
			t.Fatal("a value is still sealed under the old key")
		}
		e, stop = startWith(t, b, strings.Join(strings.Fields(keys.String()), ","))
		defer stop()
		e.call("GET", "/projects/dev/portings/"+prt, nil, 200) // the API token still authenticates
		verified(whsec1, whsec2)
	})
}

// rawDatabase returns what the database stores, raw: for SQLite the bytes
// of the database file and its WAL, for PostgreSQL the text of every row
// of the schema's tables.
func rawDatabase(t *testing.T, b storetest.Backend) []byte {
	t.Helper()
	if b.Name == "sqlite" {
		var out []byte
		for _, suffix := range []string{"", "-wal", "-shm"} {
			data, err := os.ReadFile(b.DB + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			out = append(out, data...)
		}
		return out
	}
	db, err := sql.Open("pgx", storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", b.Schema)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) == 0 {
		t.Fatalf("no tables in schema %s", b.Schema)
	}
	var out bytes.Buffer
	for _, table := range tables {
		rows, err := db.Query(`SELECT t::text FROM "` + b.Schema + `"."` + table + `" t`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			rows.Scan(&row)
			out.WriteString(row)
			out.WriteByte('\n')
		}
		rows.Close()
	}
	return out.Bytes()
}

// TestUpgradeSealsClearSecrets starts a server on a database as a version
// from before sealing left it — a signing secret and an account PIN in
// clear — and checks that the first start seals them, and that the
// endpoint still signs with its secret.
func TestUpgradeSealsClearSecrets(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		key := ""
		if b.Name != "sqlite" {
			key = secret.Generate()
		}
		e, stop := startWith(t, b, key) // makes the default project
		s := e.setup()
		stop()
		rc := newSignedReceiver(t)
		whsec := endpoint.NewSecret()
		const pin = "55512345678901234567"
		st := b.Open(t)
		storetest.Update(t, st, func(tx *store.Tx) error {
			ep := endpoint.Endpoint{ID: "whe_legacy", Project: project, URL: rc.URL, EnabledEvents: []string{"*"},
				Version: switchboard.LatestVersion, Status: endpoint.Enabled, Secrets: []endpoint.Secret{{Value: whsec}}}
			if err := tx.Put(context.Background(), ep.Record()); err != nil {
				return err
			}
			if err := tx.Put(context.Background(), store.Resource{Kind: porting.Kind, Project: project, ID: "prt_legacy",
				Body: map[string]any{"id": "prt_legacy", "accountPin": pin, "accountPinExists": true}}); err != nil {
				return err
			}
			// As if the secrets had never been sealed under this key.
			return tx.SetSetting(context.Background(), "secret.sealedUnder", "")
		})
		st.Close()
		if raw := rawDatabase(t, b); !bytes.Contains(raw, []byte(pin)) || !bytes.Contains(raw, []byte(whsec)) {
			t.Fatal("the legacy secrets were not stored in clear to begin with")
		}
		e, stop = startWith(t, b, key)
		defer stop()
		raw := rawDatabase(t, b)
		if bytes.Contains(raw, []byte(pin)) || bytes.Contains(raw, []byte(whsec)) {
			t.Fatal("the first start left a secret in clear")
		}
		e.call("PATCH", "/projects/dev/users/"+s.user, obj{"fullName": "Jerry Upgraded"}, 200)
		storetest.WaitFor(t, 10*time.Second, "a delivery", func() bool { return len(rc.got()) > 0 })
		d := rc.got()[0]
		if err := webhook.Verify(whsec, d.header, d.body); err != nil {
			t.Fatalf("the upgraded endpoint does not sign with its secret: %v", err)
		}
	})
}
