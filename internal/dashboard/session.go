package dashboard

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// Cookie names.
const (
	sessionCookie = "switchboard_session"
	// signinCookie carries the sign-in form's token: a form posted from
	// another site has no such cookie (SameSite=Strict), so no one can sign
	// a browser in to their own project behind its user's back.
	signinCookie = "switchboard_signin"
)

// session is a signed-in browser's session, as the handlers see it.
type session struct {
	// raw is the session ID the cookie holds; hash its store key.
	raw, hash string
	project   string
	key       string
}

// csrf returns the session's CSRF token, derived from the session ID, so
// that only a page the session was shown can carry it.
func (s *session) csrf() string { return csrfToken(s.raw) }

func csrfToken(raw string) string {
	m := hmac.New(sha256.New, []byte(raw))
	m.Write([]byte("switchboard dashboard csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("dashboard: random: %v", err)) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(raw string) string {
	sum := sha256.Sum256([]byte("switchboard dashboard session\x00" + raw))
	return hex.EncodeToString(sum[:])
}

// sealer returns the AEAD that seals a session's API key: its key is derived
// from the session ID, which the database never sees.
func sealer(raw string) (cipher.AEAD, error) {
	k := sha256.Sum256([]byte("switchboard dashboard seal\x00" + raw))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(raw, hash, key string) (string, error) {
	aead, err := sealer(raw)
	if err != nil {
		return "", fmt.Errorf("dashboard: seal: %w", err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("dashboard: seal: %w", err)
	}
	return base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(key), []byte(hash))), nil
}

func unseal(raw, hash, sealed string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("dashboard: unseal: %w", err)
	}
	aead, err := sealer(raw)
	if err != nil {
		return "", fmt.Errorf("dashboard: unseal: %w", err)
	}
	if len(b) < aead.NonceSize() {
		return "", errors.New("dashboard: unseal: too short")
	}
	key, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(hash))
	if err != nil {
		return "", fmt.Errorf("dashboard: unseal: %w", err)
	}
	return string(key), nil
}

// newSession stores a session for the key and project and sets its cookie.
func (d *Dashboard) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, key, project string) error {
	raw := randomToken()
	hash := hashID(raw)
	sealed, err := seal(raw, hash, key)
	if err != nil {
		return err
	}
	now := time.Now()
	row := store.DashboardSession{ID: hash, Project: project, SealedKey: sealed, CreatedAt: now, ExpiresAt: now.Add(d.ttl)}
	err = d.store.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.DeleteExpiredDashboardSessions(ctx, now); err != nil {
			return err
		}
		return tx.PutDashboardSession(ctx, row)
	})
	if err != nil {
		return err
	}
	d.setCookie(w, r, sessionCookie, raw, d.ttl)
	return nil
}

// loadSession returns the request's session, or nil when it has none that
// is valid.
func (d *Dashboard) loadSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	hash := hashID(c.Value)
	var row store.DashboardSession
	err = d.store.View(r.Context(), func(tx *store.Tx) (err error) {
		row, err = tx.DashboardSession(r.Context(), hash, time.Now())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	key, err := unseal(c.Value, hash, row.SealedKey)
	if err != nil {
		return nil, nil // a cookie that does not open its session is no session
	}
	return &session{raw: c.Value, hash: hash, project: row.Project, key: key}, nil
}

func (d *Dashboard) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request, s *session) error {
	err := d.store.Update(ctx, func(tx *store.Tx) error { return tx.DeleteDashboardSession(ctx, s.hash) })
	d.setCookie(w, r, sessionCookie, "", -1)
	return err
}

// setCookie sets a dashboard cookie: HttpOnly, SameSite=Strict, scoped to
// the dashboard, Secure when the request came over TLS (or through a proxy
// that says it did: a false claim only keeps the cookie off plain HTTP). A
// negative maxAge deletes it.
func (d *Dashboard) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || d.secure || r.Header.Get("X-Forwarded-Proto") == "https"}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// validCSRF reports whether the form carries the session's CSRF token.
func validCSRF(r *http.Request, s *session) bool {
	got := r.PostFormValue("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf())) == 1
}
