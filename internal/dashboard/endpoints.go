package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/endpoint"
)

// endpointObj is the API's webhookEndpoint.
type endpointObj struct {
	ID             string    `json:"id"`
	URL            string    `json:"url"`
	EnabledEvents  []string  `json:"enabledEvents"`
	Version        string    `json:"version"`
	Status         string    `json:"status"`
	Description    *string   `json:"description"`
	Ordered        bool      `json:"ordered"`
	RateLimit      *int      `json:"rateLimit"`
	DisabledReason *string   `json:"disabledReason"`
	Secret         string    `json:"secret"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

type endpointsData struct {
	Endpoints  []endpointObj
	Versions   []string
	EventTypes []string
}

func (d *Dashboard) endpointsPage(v *view) {
	var l list[endpointObj]
	v.fail(v.api.get(v.api.projectPath("webhookEndpoints"), url.Values{"limit": {"200"}}, &l))
	v.data.Title, v.data.Nav = "Webhook endpoints", "endpoints"
	v.data.D = endpointsData{Endpoints: l.Items, Versions: switchboard.Versions, EventTypes: switchboard.EventTypes}
	d.render(v, "endpoints")
}

var numberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// formNumber sends a form's number as the user typed it: a number when it
// reads as one, else as a string, so the API's validation says what is
// wrong with it.
func formNumber(s string) json.RawMessage {
	s = strings.TrimSpace(s)
	if numberRE.MatchString(s) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// eventList splits the enabled events field: commas, spaces or new lines.
func eventList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// endpointBody is the create or update request the endpoint form makes;
// update sends every field (clearing description and rate limit when empty).
func endpointBody(r *http.Request, update bool) map[string]any {
	f := r.PostForm
	body := map[string]any{"url": strings.TrimSpace(f.Get("url"))}
	if ev := eventList(f.Get("enabledEvents")); len(ev) > 0 {
		body["enabledEvents"] = ev
	}
	if ver := f.Get("version"); ver != "" {
		body["version"] = ver
	}
	if desc := strings.TrimSpace(f.Get("description")); desc != "" {
		body["description"] = desc
	} else if update {
		body["description"] = nil
	}
	body["ordered"] = f.Get("ordered") == "on"
	if rl := strings.TrimSpace(f.Get("rateLimit")); rl != "" {
		body["rateLimit"] = formNumber(rl)
	} else if update {
		body["rateLimit"] = nil
	}
	return body
}

func (d *Dashboard) createEndpoint(v *view) {
	var e endpointObj
	if _, err := v.api.do(http.MethodPost, v.api.projectPath("webhookEndpoints"), nil, endpointBody(v.r, false), v.r.PostFormValue("idem"), &e); err != nil {
		v.fail(err)
		d.endpointsPage(v)
		return
	}
	// The secret is shown once, in this answer: never in a URL or a cookie.
	v.data.Notice = "The endpoint was created. Copy its signing secret now: it is not shown again."
	v.data.Secret = e.Secret
	v.data.Form = nil
	v.r.SetPathValue("id", e.ID)
	d.endpointPage(v)
}

// health is an endpoint's recent deliveries at a glance.
type health struct {
	// Deliveries and Attempts counted; Partial when older deliveries exist
	// beyond those read.
	Deliveries, Attempts, Succeeded int
	Partial                         bool
	SuccessRate                     string
	P50, P99                        string
	QueueDepth                      int
	LastError                       string
	LastErrorAt                     *time.Time
	Chart                           chart
}

// healthPages bounds how many deliveries the health panel reads (200 a page).
const healthPages = 5

type endpointData struct {
	Endpoint   endpointObj
	Health     health
	Log        []delivery
	Versions   []string
	EventTypes []string
	// Since proposes a time for recovery: a day before now.
	Since string
}

func (d *Dashboard) endpointPage(v *view) {
	id := v.r.PathValue("id")
	data := endpointData{Versions: switchboard.Versions, EventTypes: switchboard.EventTypes,
		Since: time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02T15:04:05")}
	v.data.Title, v.data.Nav = "Endpoint "+id, "endpoints"
	if err := v.api.get(v.api.projectPath("webhookEndpoints", id), nil, &data.Endpoint); err != nil {
		v.fail(err)
		v.data.D = data
		d.render(v, "endpoint")
		return
	}
	var all []delivery
	q := url.Values{"limit": {"200"}}
	more := false
	for range healthPages {
		var l list[delivery]
		if err := v.api.get(v.api.projectPath("webhookEndpoints", id, "deliveries"), q, &l); err != nil {
			v.fail(err)
			break
		}
		all = append(all, l.Items...)
		more = l.MoreItemsAfter != nil
		if !more {
			break
		}
		q.Set("after", *l.MoreItemsAfter)
	}
	data.Health = measure(all, more)
	data.Log = all[:min(len(all), 50)]
	if v.data.Form == nil || v.r.URL.Path != Prefix+"/endpoints/"+id {
		v.data.Form = endpointForm(data.Endpoint)
	}
	v.data.D = data
	d.render(v, "endpoint")
}

// endpointForm fills the edit form with the endpoint as it is.
func endpointForm(e endpointObj) url.Values {
	f := url.Values{"url": {e.URL}, "enabledEvents": {strings.Join(e.EnabledEvents, ", ")}, "version": {e.Version}}
	if e.Description != nil {
		f.Set("description", *e.Description)
	}
	if e.Ordered {
		f.Set("ordered", "on")
	}
	if e.RateLimit != nil {
		f.Set("rateLimit", fmt.Sprint(*e.RateLimit))
	}
	return f
}

func (d *Dashboard) updateEndpoint(v *view) {
	id := v.r.PathValue("id")
	if _, err := v.api.do(http.MethodPatch, v.api.projectPath("webhookEndpoints", id), nil, endpointBody(v.r, true), "", nil); err != nil {
		v.fail(err)
		d.endpointPage(v)
		return
	}
	v.done(Prefix+"/endpoints/"+url.PathEscape(id), "updated", 0)
}

func (d *Dashboard) setEndpointStatus(v *view) {
	id := v.r.PathValue("id")
	status := v.r.PostFormValue("status")
	if _, err := v.api.do(http.MethodPatch, v.api.projectPath("webhookEndpoints", id), nil, map[string]string{"status": status}, "", nil); err != nil {
		v.fail(err)
		v.data.Form = nil
		d.endpointPage(v)
		return
	}
	v.done(Prefix+"/endpoints/"+url.PathEscape(id), status, 0)
}

func (d *Dashboard) rotateSecret(v *view) {
	id := v.r.PathValue("id")
	var e endpointObj
	v.data.Form = nil
	if _, err := v.api.do(http.MethodPost, v.api.projectPath("webhookEndpoints", id, "rotateSecret"), nil, nil, v.r.PostFormValue("idem"), &e); err != nil {
		v.fail(err)
		d.endpointPage(v)
		return
	}
	v.data.Notice = "The secret was rotated; the old one keeps signing during the grace period. Copy the new one now: it is not shown again."
	v.data.Secret = e.Secret
	d.endpointPage(v)
}

// testEndpoint sends the endpoint the project's newest event of a type it
// receives, again, to it alone: a delivery like any other, signed, logged
// and retried (the API has no synthetic test event).
func (d *Dashboard) testEndpoint(v *view) {
	id := v.r.PathValue("id")
	v.data.Form = nil
	var e endpointObj
	if err := v.api.get(v.api.projectPath("webhookEndpoints", id), nil, &e); err != nil {
		v.fail(err)
		d.endpointPage(v)
		return
	}
	var pick string
	q := url.Values{"limit": {"200"}}
	for range 5 {
		var l list[event]
		if err := v.api.get(v.api.projectPath("events"), q, &l); err != nil {
			v.fail(err)
			d.endpointPage(v)
			return
		}
		for _, ev := range l.Items {
			if endpoint.Matches(e.EnabledEvents, ev.Type) {
				pick = ev.ID
				break
			}
		}
		if pick != "" || l.MoreItemsAfter == nil {
			break
		}
		q.Set("after", *l.MoreItemsAfter)
	}
	if pick == "" {
		v.fail(&apiError{Status: http.StatusUnprocessableEntity, Type: "invalid", Code: "noEventToSend",
			Message: "No recent event of the project is of a type this endpoint receives: make one happen (the simulator, a new user), then send it."})
		d.endpointPage(v)
		return
	}
	if _, err := v.api.do(http.MethodPost, v.api.projectPath("events", pick, "resend"), nil, map[string]string{"endpoint": id}, v.r.PostFormValue("idem"), nil); err != nil {
		v.fail(err)
		d.endpointPage(v)
		return
	}
	v.done(Prefix+"/endpoints/"+url.PathEscape(id), "tested", 1)
}

// formTime reads a datetime-local value (UTC) as RFC 3339; anything else is
// sent as typed, for the API to judge.
func formTime(s string) string {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}

func (d *Dashboard) recoverEndpoint(v *view) {
	id := v.r.PathValue("id")
	var res struct {
		Requeued int `json:"requeued"`
	}
	body := map[string]any{"since": formTime(v.r.PostFormValue("since"))}
	if _, err := v.api.do(http.MethodPost, v.api.projectPath("webhookEndpoints", id, "recover"), nil, body, v.r.PostFormValue("idem"), &res); err != nil {
		v.fail(err)
		d.endpointPage(v)
		return
	}
	v.done(Prefix+"/endpoints/"+url.PathEscape(id), "recovered", res.Requeued)
}

func (d *Dashboard) deleteEndpoint(v *view) {
	id := v.r.PathValue("id")
	if _, err := v.api.do(http.MethodDelete, v.api.projectPath("webhookEndpoints", id), nil, nil, "", nil); err != nil {
		v.fail(err)
		v.data.Form = nil
		d.endpointPage(v)
		return
	}
	v.done(Prefix+"/endpoints", "deleted", 0)
}
