package bench

import "testing"

func TestRateLimitOf(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, RateLimitOff},
		{[]string{"--webhook-workers", "64"}, RateLimitOff},
		{[]string{"--api-rate-limit", "100"}, "--api-rate-limit 100 per key (from --serve-args)"},
		{[]string{"-api-rate-limit=5"}, "--api-rate-limit 5 per key (from --serve-args)"},
		{[]string{"--api-rate-limit-x", "5"}, RateLimitOff},
	}
	for _, tt := range tests {
		if got := rateLimitOf(tt.args); got != tt.want {
			t.Errorf("rateLimitOf(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
