package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/webhook"
)

// vector is one case of testdata/standard-webhooks.json, copied from the
// Standard Webhooks specification's test suite.
type vector struct {
	Name      string `json:"name"`
	Secret    string `json:"secret"`
	MsgID     string `json:"msgId"`
	Timestamp int64  `json:"timestamp"`
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
	Valid     bool   `json:"valid"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "standard-webhooks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []vector `json:"cases"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("decoding vectors: %v", err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no vectors")
	}
	return file.Cases
}

// referenceSignature computes a v1 signature straight from the
// specification, without the package, so that the vectors check the
// package's output as well as its verdicts.
func referenceSignature(t testing.TB, secret, msgID string, timestamp int64, payload []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("decoding secret %q: %v", secret, err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + strconv.FormatInt(timestamp, 10) + "." + string(payload)))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// headers returns the delivery headers of a message.
func headers(msgID string, timestamp int64, signature string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, msgID)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(timestamp, 10))
	h.Set(webhook.HeaderSignature, signature)
	return h
}

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			ts := time.Unix(v.Timestamp, 0)
			want := referenceSignature(t, v.Secret, v.MsgID, v.Timestamp, []byte(v.Payload))

			// The vector agrees with the specification.
			if got := slices.Contains(strings.Fields(v.Signature), want); got != v.Valid {
				t.Fatalf("reference check of the vector: valid = %v, want %v", got, v.Valid)
			}
			// The package signs as the specification does.
			got, err := webhook.Sign(v.Secret, v.MsgID, ts, []byte(v.Payload))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if got != want {
				t.Errorf("Sign = %q, want %q", got, want)
			}
			// The package verifies as the vector says.
			ver, err := webhook.NewVerifier(v.Secret)
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			ver.Now = func() time.Time { return ts }
			err = ver.Verify(headers(v.MsgID, v.Timestamp, v.Signature), []byte(v.Payload))
			if v.Valid && err != nil {
				t.Errorf("Verify = %v, want nil", err)
			}
			if !v.Valid && !errors.Is(err, webhook.ErrInvalidSignature) {
				t.Errorf("Verify = %v, want %v", err, webhook.ErrInvalidSignature)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := webhook.NewSecret()
		if err != nil {
			t.Fatalf("NewSecret: %v", err)
		}
		enc, ok := strings.CutPrefix(s, webhook.SecretPrefix)
		if !ok {
			t.Fatalf("NewSecret = %q, want the %q prefix", s, webhook.SecretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Fatalf("NewSecret = %q: %v", s, err)
		}
		if len(key) != 32 {
			t.Fatalf("NewSecret key has %d bytes, want 32", len(key))
		}
		if seen[s] {
			t.Fatalf("NewSecret returned %q twice", s)
		}
		seen[s] = true
		if _, err := webhook.NewSigner(s); err != nil {
			t.Fatalf("NewSigner(NewSecret()): %v", err)
		}
	}
}

func TestInvalidSecrets(t *testing.T) {
	key := func(n int) string { return "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		name   string
		secret string
	}{
		{"empty", ""},
		{"blank", "   "},
		{"no prefix", base64.StdEncoding.EncodeToString(make([]byte, 32))},
		{"other prefix", "sk_" + base64.StdEncoding.EncodeToString(make([]byte, 32))},
		{"not base64", "whsec_not base64!"},
		{"url base64", "whsec_" + base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15})},
		{"key too short", key(23)},
		{"key too long", key(65)},
		{"second of two invalid", key(32) + " whsec_x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := webhook.NewSigner(tt.secret); !errors.Is(err, webhook.ErrInvalidSecret) {
				t.Errorf("NewSigner error = %v, want %v", err, webhook.ErrInvalidSecret)
			}
			if _, err := webhook.NewVerifier(tt.secret); !errors.Is(err, webhook.ErrInvalidSecret) {
				t.Errorf("NewVerifier error = %v, want %v", err, webhook.ErrInvalidSecret)
			}
			if _, err := webhook.Sign(tt.secret, "msg_1", time.Now(), nil); !errors.Is(err, webhook.ErrInvalidSecret) {
				t.Errorf("Sign error = %v, want %v", err, webhook.ErrInvalidSecret)
			}
			if err := webhook.Verify(tt.secret, http.Header{}, nil); !errors.Is(err, webhook.ErrInvalidSecret) {
				t.Errorf("Verify error = %v, want %v", err, webhook.ErrInvalidSecret)
			}
		})
	}
	for _, n := range []int{24, 32, 64} {
		if _, err := webhook.NewSigner(key(n)); err != nil {
			t.Errorf("NewSigner with a %d-byte key: %v, want nil", n, err)
		}
	}
}

func mustSecret(t testing.TB) string {
	t.Helper()
	s, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignVerifyRoundTrip(t *testing.T) {
	secret := mustSecret(t)
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		msgID string
		body  []byte
	}{
		{"event", "evt_0SNlurA049MEWV5gNTcQ5A07h3Ol", []byte(`{"object":"event"}`)},
		{"empty body", "msg_1", nil},
		{"binary body", "msg_2", []byte{0, 1, 2, 0xff, '.', '\n'}},
		{"id with dots", "a.b.c", []byte("x.y")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			h := http.Header{}
			signer.SetHeaders(h, tt.msgID, now, tt.body)
			if got, want := h.Get(webhook.HeaderTimestamp), strconv.FormatInt(now.Unix(), 10); got != want {
				t.Errorf("webhook-timestamp = %q, want %q", got, want)
			}
			if err := webhook.Verify(secret, h, tt.body); err != nil {
				t.Errorf("Verify = %v, want nil", err)
			}
			// Sign and SetHeaders agree.
			got, err := webhook.Sign(secret, tt.msgID, now, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if want := h.Get(webhook.HeaderSignature); got != want {
				t.Errorf("Sign = %q, want %q (from SetHeaders)", got, want)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	secret := mustSecret(t)
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{}`)
	tests := []struct {
		name      string
		tolerance time.Duration
		offset    time.Duration // timestamp minus now
		want      error
	}{
		{"now", 0, 0, nil},
		{"5 minutes old", 0, -5 * time.Minute, nil},
		{"5 minutes 1 second old", 0, -5*time.Minute - time.Second, webhook.ErrTimestampTooOld},
		{"5 minutes ahead", 0, 5 * time.Minute, nil},
		{"5 minutes 1 second ahead", 0, 5*time.Minute + time.Second, webhook.ErrTimestampTooNew},
		{"a day old", 0, -24 * time.Hour, webhook.ErrTimestampTooOld},
		{"negative tolerance is the default", -time.Second, -4 * time.Minute, nil},
		{"1 minute tolerance, 61 s old", time.Minute, -61 * time.Second, webhook.ErrTimestampTooOld},
		{"1 minute tolerance, 61 s ahead", time.Minute, 61 * time.Second, webhook.ErrTimestampTooNew},
		{"1 hour tolerance, 59 min old", time.Hour, -59 * time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := now.Add(tt.offset)
			sig, err := webhook.Sign(secret, "msg_1", ts, body)
			if err != nil {
				t.Fatal(err)
			}
			v, err := webhook.NewVerifier(secret)
			if err != nil {
				t.Fatal(err)
			}
			v.Tolerance = tt.tolerance
			v.Now = func() time.Time { return now }
			err = v.Verify(headers("msg_1", ts.Unix(), sig), body)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRotation(t *testing.T) {
	oldSecret, newSecret, otherSecret := mustSecret(t), mustSecret(t), mustSecret(t)
	now := time.Now()
	body := []byte(`{"object":"event"}`)
	tests := []struct {
		name     string
		signWith string
		verifyBy string
		want     error
	}{
		{"both signatures, receiver on old", newSecret + " " + oldSecret, oldSecret, nil},
		{"both signatures, receiver on new", newSecret + " " + oldSecret, newSecret, nil},
		{"old signature, receiver on both", oldSecret, newSecret + " " + oldSecret, nil},
		{"new signature, receiver on both", newSecret, oldSecret + " " + newSecret, nil},
		{"both signatures, receiver on another", newSecret + " " + oldSecret, otherSecret, webhook.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := webhook.Sign(tt.signWith, "msg_1", now, body)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(strings.Fields(sig)), len(strings.Fields(tt.signWith)); got != want {
				t.Errorf("Sign gave %d signatures, want %d", got, want)
			}
			err = webhook.Verify(tt.verifyBy, headers("msg_1", now.Unix(), sig), body)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	secret := mustSecret(t)
	now := time.Now()
	ts := now.Unix()
	body := []byte(`{"object":"event","id":"evt_1"}`)
	sig, err := webhook.Sign(secret, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	mac := strings.TrimPrefix(sig, "v1,")
	stale := now.Add(-time.Hour)

	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"valid", headers("msg_1", ts, sig), body, nil},
		{"no headers", http.Header{}, body, webhook.ErrMissingHeaders},
		{"no id", without(headers("msg_1", ts, sig), webhook.HeaderID), body, webhook.ErrMissingHeaders},
		{"no timestamp", without(headers("msg_1", ts, sig), webhook.HeaderTimestamp), body, webhook.ErrMissingHeaders},
		{"no signature", without(headers("msg_1", ts, sig), webhook.HeaderSignature), body, webhook.ErrMissingHeaders},
		{"timestamp not a number", with(headers("msg_1", ts, sig), webhook.HeaderTimestamp, "yesterday"), body, webhook.ErrInvalidTimestamp},
		{"timestamp in milliseconds", with(headers("msg_1", ts, sig), webhook.HeaderTimestamp, strconv.FormatInt(now.UnixMilli(), 10)), body, webhook.ErrInvalidSignature},
		{"tampered body", headers("msg_1", ts, sig), []byte(`{"object":"event","id":"evt_2"}`), webhook.ErrInvalidSignature},
		{"tampered id", headers("msg_2", ts, sig), body, webhook.ErrInvalidSignature},
		{"tampered timestamp", headers("msg_1", ts+1, sig), body, webhook.ErrInvalidSignature},
		{"tampered signature", headers("msg_1", ts, "v1,"+flip(mac)), body, webhook.ErrInvalidSignature},
		{"truncated signature", headers("msg_1", ts, sig[:len(sig)-4]), body, webhook.ErrInvalidSignature},
		{"other version only", headers("msg_1", ts, "v1a,"+mac), body, webhook.ErrInvalidSignature},
		{"no version", headers("msg_1", ts, mac), body, webhook.ErrInvalidSignature},
		{"unknown entries beside a valid one", headers("msg_1", ts, "v2,abc v1,!!! v1, "+sig+" v1a,"+mac), body, nil},
		{"signature valid but stale", headers("msg_1", stale.Unix(), mustSign(t, secret, "msg_1", stale, body)), body, webhook.ErrTimestampTooOld},
		{"signature invalid and stale", headers("msg_1", stale.Unix(), sig), body, webhook.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(secret, tt.header, tt.body)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func mustSign(t testing.TB, secret, msgID string, ts time.Time, body []byte) string {
	t.Helper()
	sig, err := webhook.Sign(secret, msgID, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func without(h http.Header, key string) http.Header {
	h.Del(key)
	return h
}

func with(h http.Header, key, value string) http.Header {
	h.Set(key, value)
	return h
}

// flip changes the first base64 character of s to another valid one.
func flip(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

// FuzzVerify checks that Verify never panics, accepts only what the
// specification's own computation accepts, and always accepts what Sign
// produced.
func FuzzVerify(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.MsgID, strconv.FormatInt(v.Timestamp, 10), v.Signature, []byte(v.Payload))
	}
	f.Add("msg_1", "-1", "v1,", []byte{})
	f.Add("", "1614265330", "v1,a v1,b", []byte("{}"))
	f.Add("a.b", "99999999999999999999", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v2,x", []byte("."))

	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	f.Fuzz(func(t *testing.T, msgID, timestamp, signature string, body []byte) {
		h := http.Header{}
		h.Set(webhook.HeaderID, msgID)
		h.Set(webhook.HeaderTimestamp, timestamp)
		h.Set(webhook.HeaderSignature, signature)
		sec, convErr := strconv.ParseInt(timestamp, 10, 64)

		v, err := webhook.NewVerifier(secret)
		if err != nil {
			t.Fatal(err)
		}
		v.Now = func() time.Time { return time.Unix(sec, 0) }
		if err := v.Verify(h, body); err == nil {
			if convErr != nil || msgID == "" {
				t.Fatalf("Verify accepted id %q, timestamp %q", msgID, timestamp)
			}
			want := referenceSignatureText(t, secret, msgID, timestamp, body)
			if !slices.Contains(strings.Fields(signature), want) {
				t.Fatalf("Verify accepted %q, which lacks %q", signature, want)
			}
		}

		if msgID == "" || sec < -1<<40 || sec > 1<<40 {
			return
		}
		ts := time.Unix(sec, 0)
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(webhook.HeaderSignature, mustSign(t, secret, msgID, ts, body))
		if err := v.Verify(h, body); err != nil {
			t.Fatalf("Verify of a signed message = %v, want nil", err)
		}
	})
}

// referenceSignatureText is referenceSignature over a timestamp's header text.
func referenceSignatureText(t testing.TB, secret, msgID, timestamp string, payload []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID + "." + timestamp + "." + string(payload)))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}
