package eventlog

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/wirejson"
)

// Envelope is an event on its way to a version's rendering: the canonical
// event, newest shape first, then changed by each version change in turn.
type Envelope struct {
	ID           string
	Data         json.RawMessage
	Actor        json.RawMessage // nil: not rendered
	PreviousData json.RawMessage // nil: not rendered
	Project      string
	Source       string
	Time         time.Time
	Type         string
}

// VersionChange turns an envelope of Version into the shape of the version
// before it. Adding a version is adding one VersionChange at the head of
// Changes.
type VersionChange struct {
	// Version is the version that introduced the change.
	Version string
	// Description says what changed, for the changelog.
	Description string
	// Down undoes the change; nil when the versions render alike.
	Down func(*Envelope)
}

// Changes is the chain of version changes, newest first.
var Changes = []VersionChange{
	{
		Version:     switchboard.Version20250522,
		Description: "The event envelope carries actor, right after id, naming who caused the change.",
		Down:        func(e *Envelope) { e.Actor = nil },
	},
	{
		// The public record, checked for this version: the platform's event
		// schema pages rendered in 2024-12-20 (com.gigs.sim.updated,
		// com.gigs.sim.retired, com.gigs.portOutCredentials.issued, the user
		// schema) list the same fields for our resources as in 2024-10-28,
		// apart from the preview field metadata, which Switchboard renders
		// in no version; no public changelog names the version's changes.
		// So 2024-12-20 renders as 2024-10-28 does. The property order of
		// the examples differs between renderings of the same page (some
		// list createdAt right after id), so the order stays the seeds'.
		Version: switchboard.Version20241220,
		Description: "No field differences are documented for users, portings, subscriptions, SIMs or " +
			"port-out credentials between 2024-10-28 and 2024-12-20; both render the same fields.",
	},
	{
		Version: switchboard.Version20241028,
		Description: "No field differences are documented between 2024-08-29 and 2024-10-28; " +
			"both render the fields the platform documents.",
	},
}

// Supported reports whether events can be rendered in version v.
func Supported(v string) bool { return slices.Contains(switchboard.Versions, v) }

// Render renders a stored event as the JSON envelope of version v.
func Render(e store.EventRow, v string) ([]byte, error) {
	if !Supported(v) {
		return nil, fmt.Errorf("eventlog: unsupported version %q", v)
	}
	env := Envelope{
		ID: e.ID, Data: e.Data, Actor: e.Actor, PreviousData: e.PreviousData,
		Project: e.Project, Source: e.Source, Time: e.Time, Type: e.Type,
	}
	for _, c := range Changes {
		if c.Version <= v { // versions are dates: they sort as strings
			break
		}
		if c.Down != nil {
			c.Down(&env)
		}
	}
	return env.AppendJSON(make([]byte, 0, len(e.Data)+len(e.PreviousData)+320), v), nil
}

// AppendJSON appends the envelope's encoding in version v, fields in the
// platform's order, to buf.
func (e *Envelope) AppendJSON(buf []byte, v string) []byte {
	buf = append(buf, `{"object":"event","id":`...)
	buf = appendString(buf, e.ID)
	if e.Actor != nil {
		// 2025-05-22 envelopes read object, id, actor, data, … (the
		// platform's event schema pages, checked for this change).
		buf = append(buf, `,"actor":`...)
		buf = append(buf, e.Actor...)
	}
	buf = append(buf, `,"data":`...)
	buf = append(buf, e.Data...)
	buf = append(buf, `,"datacontenttype":"application/json"`...)
	if e.PreviousData != nil {
		buf = append(buf, `,"previousData":`...)
		buf = append(buf, e.PreviousData...)
	}
	buf = append(buf, `,"project":`...)
	buf = appendString(buf, e.Project)
	buf = append(buf, `,"source":`...)
	buf = appendString(buf, e.Source)
	buf = append(buf, `,"specversion":"1.0","time":"`...)
	buf = e.Time.UTC().AppendFormat(buf, time.RFC3339)
	buf = append(buf, `","type":`...)
	buf = appendString(buf, e.Type)
	buf = append(buf, `,"version":`...)
	buf = appendString(buf, v)
	return append(buf, '}')
}

// appendString appends s as a JSON string.
func appendString(buf []byte, s string) []byte {
	b, _ := wirejson.Marshal(s) // a string always encodes
	return append(buf, b...)
}
