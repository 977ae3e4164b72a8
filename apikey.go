package switchboard

import "time"

// APIKey is one of a project's API keys. Token is the whole key only in the
// response that creates it; everywhere else — lists, the key itself, the
// com.gigs.apiKey.created event — it is redacted: a prefix followed by
// "••••".
type APIKey struct {
	Object    string     `json:"object"`
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Token     string     `json:"token"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt"`
}
