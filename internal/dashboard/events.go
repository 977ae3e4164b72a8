package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard"
)

// event is the part of an event envelope the pages read; Raw is all of it.
type event struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Time         time.Time       `json:"time"`
	Version      string          `json:"version"`
	Data         json.RawMessage `json:"data"`
	PreviousData json.RawMessage `json:"previousData"`
	Raw          json.RawMessage `json:"-"`
}

// resource is the object the event is about.
func (e event) resource() (object, id string) {
	var r struct{ Object, ID string }
	json.Unmarshal(e.Data, &r)
	return r.Object, r.ID
}

// eventRow is an event as a list shows it.
type eventRow struct {
	ID, Type, Object, Resource string
	Time                       time.Time
	// Link is the resource's dashboard page, if it has one.
	Link string
}

func newEventRow(e event) eventRow {
	obj, id := e.resource()
	return eventRow{ID: e.ID, Type: e.Type, Object: obj, Resource: id, Time: e.Time, Link: resourceLink(obj, id)}
}

// resourceLink is the dashboard page of a resource, "" for kinds it has none for.
func resourceLink(object, id string) string {
	switch object {
	case "porting":
		return Prefix + "/portings/" + url.PathEscape(id)
	case "subscription":
		return Prefix + "/subscriptions/" + url.PathEscape(id)
	case "user":
		return Prefix + "/users/" + url.PathEscape(id)
	}
	return ""
}

type eventsData struct {
	Type, Resource string
	Events         []eventRow
	Older, Newer   string
	EventTypes     []string
	// Stream is the live tail's URL: the filter and the newest event
	// shown; "" on older pages, which do not tail.
	Stream string
}

// eventFilter reads the type and resource filters of a request.
func eventFilter(r *http.Request) url.Values {
	q := url.Values{}
	if t := strings.TrimSpace(r.FormValue("type")); t != "" {
		q.Set("type", t)
	}
	if res := strings.TrimSpace(r.FormValue("resource")); res != "" {
		q.Set("resource", res)
	}
	return q
}

func (d *Dashboard) eventsPage(v *view) {
	q := eventFilter(v.r)
	data := eventsData{Type: q.Get("type"), Resource: q.Get("resource"), EventTypes: switchboard.EventTypes}
	call := url.Values{"limit": {"50"}}
	for k, vs := range q {
		call[k] = vs
	}
	if a := v.r.URL.Query().Get("after"); a != "" {
		call.Set("after", a)
	} else if b := v.r.URL.Query().Get("before"); b != "" {
		call.Set("before", b)
	}
	var l list[json.RawMessage]
	if err := v.api.get(v.api.projectPath("events"), call, &l); err != nil {
		v.fail(err)
	}
	for _, raw := range l.Items {
		var e event
		if json.Unmarshal(raw, &e) == nil {
			data.Events = append(data.Events, newEventRow(e))
		}
	}
	page := func(k, cursor string) string {
		p := url.Values{k: {cursor}}
		for k, vs := range q {
			p[k] = vs
		}
		return Prefix + "/events?" + p.Encode()
	}
	if l.MoreItemsAfter != nil {
		data.Older = page("after", *l.MoreItemsAfter)
	}
	if l.MoreItemsBefore != nil {
		data.Newer = page("before", *l.MoreItemsBefore)
	} else {
		sq := url.Values{}
		for k, vs := range q {
			sq[k] = vs
		}
		if len(data.Events) > 0 {
			sq.Set("since", data.Events[0].ID)
		}
		data.Stream = Prefix + "/events/stream?" + sq.Encode()
	}
	v.data.Title, v.data.Nav, v.data.D = "Events", "events", data
	d.render(v, "events")
}

// keepAlive is how long a live tail stays silent before it sends a comment.
const keepAlive = 15 * time.Second

// tailMaxAge bounds one live-tail stream; the browser reconnects and resumes
// from the last event it got (Last-Event-ID).
const tailMaxAge = 5 * time.Minute

// eventStream is the live tail: server-sent events, one per new event
// matching the filter, oldest first, each with its ID so that a reconnect
// resumes after it.
func (d *Dashboard) eventStream(v *view) {
	w, r := v.w, v.r
	q := eventFilter(r)
	// The page names the newest event it shows; a reconnect, the last one
	// it got. With neither, the tail starts with the newest events there are.
	since := r.Header.Get("Last-Event-ID")
	if since == "" {
		since = r.URL.Query().Get("since")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	fmt.Fprint(w, "retry: 2000\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(d.tailEvery)
	defer tick.Stop()
	end := time.NewTimer(tailMaxAge)
	defer end.Stop()
	wrote := time.Now()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-d.done:
			return
		case <-end.C:
			return
		case <-tick.C:
		}
		call := url.Values{"limit": {"100"}}
		for k, vs := range q {
			call[k] = vs
		}
		if since != "" {
			call.Set("before", since)
		}
		var l list[json.RawMessage]
		if err := v.api.get(v.api.projectPath("events"), call, &l); err != nil {
			if err.Status == http.StatusUnauthorized || err.Status == http.StatusNotFound {
				return
			}
			continue
		}
		if len(l.Items) == 0 {
			if time.Since(wrote) < keepAlive {
				continue
			}
			rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprint(w, ": keep-alive\n\n") // a comment keeps proxies from closing an idle stream
			if rc.Flush() != nil {
				return
			}
			wrote = time.Now()
			continue
		}
		rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		for _, raw := range slices.Backward(l.Items) {
			var e event
			if json.Unmarshal(raw, &e) != nil {
				continue
			}
			row, _ := json.Marshal(newEventRow(e))
			fmt.Fprintf(w, "id: %s\nevent: event\ndata: %s\n\n", e.ID, row)
			since = e.ID
		}
		if rc.Flush() != nil {
			return
		}
		wrote = time.Now()
	}
}

// change is one field of previousData: what it was and what it is now.
type change struct {
	Field         string
	Before, After string
}

// diff pairs each field of previousData with its value in data.
func diff(data, previous json.RawMessage) []change {
	var prev, cur map[string]json.RawMessage
	if json.Unmarshal(previous, &prev) != nil || len(prev) == 0 {
		return nil
	}
	json.Unmarshal(data, &cur)
	out := make([]change, 0, len(prev))
	for k, p := range prev {
		after, ok := cur[k]
		a := "(absent)"
		if ok {
			a = pretty(after)
		}
		out = append(out, change{Field: k, Before: pretty(p), After: a})
	}
	slices.SortFunc(out, func(a, b change) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// pretty indents JSON for a page.
func pretty(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

// delivery and attempt are the API's webhookDelivery.
type delivery struct {
	ID            string     `json:"id"`
	Endpoint      string     `json:"endpoint"`
	Event         string     `json:"event"`
	Status        string     `json:"status"`
	Paused        bool       `json:"paused"`
	Attempts      []attempt  `json:"attempts"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

type attempt struct {
	AttemptedAt    time.Time `json:"attemptedAt"`
	ResponseStatus *int      `json:"responseStatus"`
	ResponseBody   *string   `json:"responseBody"`
	LatencyMs      int64     `json:"latencyMs"`
	Error          *string   `json:"error"`
}

// ok reports whether the attempt succeeded (a 2xx answer).
func (a attempt) OK() bool {
	return a.ResponseStatus != nil && *a.ResponseStatus >= 200 && *a.ResponseStatus < 300
}

type eventData struct {
	Event      event
	Row        eventRow
	JSON       string
	Changes    []change
	Version    string
	Versions   []string
	Deliveries []delivery
	Endpoints  []endpointObj
}

func (d *Dashboard) eventPage(v *view) {
	id := v.r.PathValue("id")
	version := v.r.FormValue("version")
	data := eventData{Versions: switchboard.Versions, Version: version}
	q := url.Values{}
	if version != "" {
		q.Set("version", version)
	}
	raw, err := v.api.do(http.MethodGet, v.api.projectPath("events", id), q, nil, "", &data.Event)
	if err != nil && version != "" && err.Code == "invalidVersion" {
		v.fail(err) // show the API's error, and the event in its default version
		raw, err = v.api.do(http.MethodGet, v.api.projectPath("events", id), nil, nil, "", &data.Event)
	}
	v.data.Title, v.data.Nav = "Event "+id, "events"
	if err != nil {
		v.fail(err)
		v.data.D = data
		d.render(v, "event")
		return
	}
	data.Event.Raw = raw
	data.Version = data.Event.Version
	data.Row = newEventRow(data.Event)
	data.JSON = pretty(raw)
	data.Changes = diff(data.Event.Data, data.Event.PreviousData)
	var ds list[delivery]
	v.fail(v.api.get(v.api.projectPath("events", id, "deliveries"), url.Values{"limit": {"100"}}, &ds))
	data.Deliveries = ds.Items
	var es list[endpointObj]
	if v.api.get(v.api.projectPath("webhookEndpoints"), url.Values{"limit": {"200"}}, &es) == nil {
		data.Endpoints = es.Items
	}
	v.data.Title = data.Event.Type
	v.data.D = data
	d.render(v, "event")
}

type resendResult struct {
	Items []delivery `json:"items"`
}

func (d *Dashboard) resendEvent(v *view) {
	id := v.r.PathValue("id")
	body := map[string]string{}
	if ep := v.r.PostFormValue("endpoint"); ep != "" {
		body["endpoint"] = ep
	}
	var res resendResult
	if _, err := v.api.do(http.MethodPost, v.api.projectPath("events", id, "resend"), nil, body, v.r.PostFormValue("idem"), &res); err != nil {
		v.fail(err)
		d.eventPage(v)
		return
	}
	path := Prefix + "/events/" + url.PathEscape(id)
	if ver := v.r.PostFormValue("version"); ver != "" {
		path += "?" + url.Values{"version": {ver}}.Encode()
	}
	v.done(path, "resent", len(res.Items))
}
