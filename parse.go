package switchboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Errors returned by [Parse]. Match them with [errors.Is].
var (
	// ErrNotEvent means the body is not a JSON object whose "object" is "event".
	ErrNotEvent = errors.New("switchboard: not an event")
	// ErrInvalidEvent means the body is an event but cannot be decoded: a
	// required envelope field is missing or has the wrong type, or the data
	// of a known event type does not match its resource.
	ErrInvalidEvent = errors.New("switchboard: invalid event")
)

// typePrefix begins every event type the platform emits.
const typePrefix = "com.gigs."

// ParsedEvent is an [Event] whose data has been decoded into the resource its
// type names. It encodes to JSON exactly as the embedded Event does.
type ParsedEvent struct {
	Event
	// Resource is the decoded Data: a *Porting, *Subscription, *User, *Sim,
	// *PortOutCredentials or *APIKey. It is nil for event types this package does not
	// know; their data stays available, undecoded, in Event.Data.
	Resource any `json:"-"`
}

// Parse decodes a webhook body into its envelope and typed resource, chosen
// by the resource named in the event type: com.gigs.porting.* gives a
// *Porting, com.gigs.subscription.* a *Subscription, com.gigs.user.* a
// *User, com.gigs.sim.* a *Sim and com.gigs.portOutCredentials.* a
// *PortOutCredentials.
//
// Unknown event types are not an error, as consumers must ignore them: the
// event parses with a nil Resource. A body that is not a JSON object with
// "object": "event" fails with [ErrNotEvent]; an event that cannot be decoded
// fails with [ErrInvalidEvent].
//
// Parse does not authenticate the body; verify its signature first (see the
// webhook package).
func Parse(body []byte) (*ParsedEvent, error) {
	var probe struct {
		Object string `json:"object"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotEvent, err)
	}
	if probe.Object != "event" {
		return nil, fmt.Errorf("%w: object is %q", ErrNotEvent, probe.Object)
	}

	ev := new(ParsedEvent)
	if err := json.Unmarshal(body, &ev.Event); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	switch {
	case ev.ID == "":
		return nil, fmt.Errorf("%w: missing id", ErrInvalidEvent)
	case ev.Type == "":
		return nil, fmt.Errorf("%w: missing type", ErrInvalidEvent)
	}

	res, err := decodeResource(ev.Type, ev.Data)
	if err != nil {
		if !knownTypes[ev.Type] {
			// A type added after this package was written may carry another
			// resource under a familiar prefix: keep its data raw.
			return ev, nil
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ErrInvalidEvent, ev.Type, ev.ID, err)
	}
	ev.Resource = res
	return ev, nil
}

// knownTypes holds the event types listed in EventTypes.
var knownTypes = func() map[string]bool {
	m := make(map[string]bool, len(EventTypes))
	for _, t := range EventTypes {
		m[t] = true
	}
	return m
}()

// decodeResource decodes data into the resource named by eventType, or
// returns nil, nil when the type names no resource this package knows.
func decodeResource(eventType string, data json.RawMessage) (any, error) {
	rest, ok := strings.CutPrefix(eventType, typePrefix)
	if !ok {
		return nil, nil
	}
	name, _, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, nil
	}
	var (
		res    any
		object *string
	)
	switch name {
	case "porting":
		p := new(Porting)
		res, object = p, &p.Object
	case "subscription":
		s := new(Subscription)
		res, object = s, &s.Object
	case "user":
		u := new(User)
		res, object = u, &u.Object
	case "sim":
		sim := new(Sim)
		res, object = sim, &sim.Object
	case "portOutCredentials":
		c := new(PortOutCredentials)
		res, object = c, &c.Object
	case "apiKey":
		k := new(APIKey)
		res, object = k, &k.Object
	default:
		return nil, nil
	}
	if d := bytes.TrimLeft(data, " \t\r\n"); len(d) == 0 || d[0] != '{' {
		return nil, errors.New("data is not a JSON object")
	}
	if err := json.Unmarshal(data, res); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if *object != name {
		return nil, fmt.Errorf("data object is %q, want %q", *object, name)
	}
	return res, nil
}

// Porting returns the event's porting, and whether it carries one.
func (e *ParsedEvent) Porting() (*Porting, bool) {
	p, ok := e.Resource.(*Porting)
	return p, ok
}

// Subscription returns the event's subscription, and whether it carries one.
func (e *ParsedEvent) Subscription() (*Subscription, bool) {
	s, ok := e.Resource.(*Subscription)
	return s, ok
}

// User returns the event's user, and whether it carries one.
func (e *ParsedEvent) User() (*User, bool) {
	u, ok := e.Resource.(*User)
	return u, ok
}

// APIKey returns the event's API key (its token redacted), and whether it
// carries one.
func (e *ParsedEvent) APIKey() (*APIKey, bool) {
	k, ok := e.Resource.(*APIKey)
	return k, ok
}

// Sim returns the event's SIM, and whether it carries one.
func (e *ParsedEvent) Sim() (*Sim, bool) {
	s, ok := e.Resource.(*Sim)
	return s, ok
}

// PortOutCredentials returns the event's port-out credentials, and whether it
// carries them.
func (e *ParsedEvent) PortOutCredentials() (*PortOutCredentials, bool) {
	c, ok := e.Resource.(*PortOutCredentials)
	return c, ok
}
