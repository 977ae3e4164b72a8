package apikey_test

import (
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/apikey"
	"github.com/switchboard-dev/switchboard/internal/secret"
)

func TestRedact(t *testing.T) {
	tests := []struct{ token, want string }{
		{"sk_live_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "sk_live_AbCd••••"},
		{"sk_test_mykey", "sk_test_••••"},
		{"sk_demo", "sk_••••"},
		{"nounderscore", "••••"},
		{"", "••••"},
	}
	for _, tt := range tests {
		if got := apikey.Redact(tt.token); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}

func TestNewToken(t *testing.T) {
	keys, err := secret.Parse(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 100 {
		tok, err := apikey.NewToken(apikey.Prefix("test"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, "sk_test_") || len(tok) != len("sk_test_")+32 || seen[tok] {
			t.Fatalf("token %q: want sk_test_ and 32 fresh characters", tok)
		}
		seen[tok] = true
		if h := apikey.Hash(keys, tok); h == tok || strings.Contains(h, tok[8:]) || h != apikey.Hash(keys, tok) ||
			!apikey.Matches(keys, h, tok) || apikey.Matches(keys, h, tok+"x") || h == apikey.Hash(nil, tok) {
			t.Fatalf("Hash(%q) = %q", tok, h)
		}
	}
}
