package field

import (
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/failure"
)

func TestValidators(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"valid US number", PhoneNumber("phoneNumber", "+14155552671"), true},
		{"valid DE number", PhoneNumber("phoneNumber", "+4915112345678"), true},
		{"seed number is not valid", PhoneNumber("phoneNumber", "+19591234567"), false},
		{"no plus", PhoneNumber("phoneNumber", "14155552671"), false},
		{"formatted", PhoneNumber("phoneNumber", "+1 415 555 2671"), false},
		{"too short", PhoneNumber("phoneNumber", "+1415555"), false},
		{"country US", Country("country", "US"), true},
		{"country lower case", Country("country", "us"), false},
		{"country unknown", Country("country", "XX"), false},
		{"date", Date("birthday", "1990-02-28", now), true},
		{"date impossible", Date("birthday", "1990-02-30", now), false},
		{"date future", Date("birthday", "2030-01-01", now), false},
		{"date with time", Date("birthday", "1990-02-28T00:00:00Z", now), false},
		{"email", Email("email", "jerry@example.com"), true},
		{"email with name", Email("email", "Jerry <jerry@example.com>"), false},
		{"email garbage", Email("email", "jerry"), false},
		{"one of", OneOf("unit", "day", "day", "month"), true},
		{"not one of", OneOf("unit", "week", "day", "month"), false},
		{"length", Length("name", "abc", 1, 3), true},
		{"too long", Length("name", "abcd", 1, 3), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ok {
				if tt.err != nil {
					t.Fatalf("got %v, want no error", tt.err)
				}
				return
			}
			if !failure.Is(tt.err, failure.Invalid, "") {
				t.Fatalf("got %v, want an invalid failure", tt.err)
			}
		})
	}
}
