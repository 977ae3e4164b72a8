package field

import (
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/limits"
)

func invalid(code, format string, args ...any) error {
	return failure.New(failure.Invalid, code, format, args...)
}

// Required reports a missing field.
func Required(name string) error {
	return invalid("fieldRequired", "The field %s is required.", name)
}

// PhoneNumber checks that v is a valid phone number in E.164 format.
func PhoneNumber(name, v string) error {
	if !strings.HasPrefix(v, "+") {
		return invalid("invalidPhoneNumber", "The field %s must be a phone number in E.164 format, such as +14155552671.", name)
	}
	n, err := phonenumbers.Parse(v, "")
	if err != nil || !phonenumbers.IsValidNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != v {
		return invalid("invalidPhoneNumber", "The field %s must be a valid phone number in E.164 format, such as +14155552671.", name)
	}
	return nil
}

// Country checks that v is an ISO 3166-1 alpha-2 country code.
func Country(name, v string) error {
	if len(v) != 2 || !phonenumbers.GetSupportedRegions()[v] {
		return invalid("invalidCountry", "The field %s must be an ISO 3166-1 alpha-2 country code, such as US.", name)
	}
	return nil
}

// Date checks that v is a calendar date, YYYY-MM-DD, not in the future of now.
func Date(name, v string, now time.Time) error {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return invalid("invalidDate", "The field %s must be a date in the form YYYY-MM-DD.", name)
	}
	if d.After(now) || d.Year() < 1900 {
		return invalid("invalidDate", "The field %s must be a date between 1900 and today.", name)
	}
	return nil
}

// Email checks that v is a plain e-mail address of at most
// limits.MaxEmail characters.
func Email(name, v string) error {
	if len(v) > limits.MaxEmail {
		return invalid("invalidEmail", "The field %s must be an e-mail address of at most %d characters.", name, limits.MaxEmail)
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		return invalid("invalidEmail", "The field %s must be an e-mail address.", name)
	}
	return nil
}

// OneOf checks that v is one of the allowed values.
func OneOf(name, v string, allowed ...string) error {
	if !slices.Contains(allowed, v) {
		return invalid("invalidValue", "The field %s must be one of: %s.", name, strings.Join(allowed, ", "))
	}
	return nil
}

// Length checks that v has from min to max characters.
func Length(name, v string, min, max int) error {
	if n := len([]rune(v)); n < min || n > max {
		return invalid("invalidLength", "The field %s must have from %d to %d characters.", name, min, max)
	}
	return nil
}
