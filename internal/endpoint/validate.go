package endpoint

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/limits"
)

// Limits of an endpoint's fields (the sizes are in package limits).
const (
	MinRateLimit = 1
	MaxRateLimit = 10_000
)

// SecretPrefix begins every signing secret.
const SecretPrefix = "whsec_"

// secretBytes is the size of a generated secret's key (Standard Webhooks
// allows 24 to 64).
const secretBytes = 32

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 32
// random bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails: crypto/rand crashes the program rather than return short
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SecretKey returns the HMAC key of a secret: the decoded bytes after the
// prefix.
func SecretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("endpoint: secret is not base64: %w", err)
	}
	return key, nil
}

func invalid(code, format string, args ...any) error {
	return failure.New(failure.Invalid, code, format, args...)
}

// ValidateURL checks that raw is an absolute http or https URL. With
// refusePrivate it also refuses hosts that name a loopback, private,
// link-local, unspecified or multicast address literally (or "localhost");
// names that merely resolve to one are refused when connecting.
func ValidateURL(raw string, refusePrivate bool) error {
	if raw == "" {
		return invalid("fieldRequired", "The field url is required.")
	}
	if len(raw) > limits.MaxURL {
		return invalid("invalidUrl", "The field url must be at most %d characters.", limits.MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return invalid("invalidUrl", "The field url must be an absolute http or https URL.")
	}
	if u.Fragment != "" {
		return invalid("invalidUrl", "The field url must not have a fragment.")
	}
	if !refusePrivate {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return invalid("privateUrl", "The field url must not point at this host.")
	}
	if addr, err := netip.ParseAddr(host); err == nil && Forbidden(addr) {
		return invalid("privateUrl", "The field url must not point at a loopback, private or link-local address.")
	}
	return nil
}

// forbiddenPrefixes are ranges no webhook may reach when private endpoints
// are refused, beyond what netip classifies.
var forbiddenPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64, may embed a private IPv4
}

// Forbidden reports whether addr is one that a webhook must not reach when
// private endpoints are refused: loopback, private, link-local, unspecified,
// multicast and other non-public ranges.
func Forbidden(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() || !addr.IsValid() {
		return true
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// ValidateEvents checks a list of event-type patterns: "*", a known type,
// or a wildcard such as "com.gigs.porting.*" that selects known types.
func ValidateEvents(patterns []string) error {
	if len(patterns) == 0 {
		return invalid("invalidEnabledEvents", "The field enabledEvents must list at least one event type or \"*\".")
	}
	if len(patterns) > limits.MaxEnabledEvents {
		return invalid("invalidEnabledEvents", "The field enabledEvents may list at most %d patterns.", limits.MaxEnabledEvents)
	}
	for _, p := range patterns {
		if p == "*" || slices.Contains(switchboard.EventTypes, p) {
			continue
		}
		prefix, wild := strings.CutSuffix(p, "*")
		if wild && strings.HasPrefix(prefix, "com.gigs.") && strings.HasSuffix(prefix, ".") &&
			slices.ContainsFunc(switchboard.EventTypes, func(t string) bool { return strings.HasPrefix(t, prefix) }) {
			continue
		}
		return invalid("invalidEnabledEvents",
			"The event type %q is not known; use a type such as %s, a wildcard such as com.gigs.porting.*, or \"*\".",
			p, switchboard.TypePortingUpdated)
	}
	return nil
}

// ValidateVersion checks that events can be rendered in version v.
func ValidateVersion(v string) error {
	if !slices.Contains(switchboard.Versions, v) {
		return invalid("invalidVersion", "The version %q is not supported; supported: %s.", v, strings.Join(switchboard.Versions, ", "))
	}
	return nil
}

// ValidateRateLimit checks a requests-per-second cap.
func ValidateRateLimit(n *int) error {
	if n != nil && (*n < MinRateLimit || *n > MaxRateLimit) {
		return invalid("invalidRateLimit", "The field rateLimit must be from %d to %d requests per second, or null.", MinRateLimit, MaxRateLimit)
	}
	return nil
}

// ValidateDescription checks a description's length.
func ValidateDescription(d *string) error {
	if d != nil && len(*d) > limits.MaxDescription {
		return invalid("invalidDescription", "The field description must be at most %d characters.", limits.MaxDescription)
	}
	return nil
}
