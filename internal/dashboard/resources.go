package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/porting"
)

// obj is a resource as the API renders it.
type obj map[string]any

// Str returns a string field, "" when absent or null.
func (o obj) Str(k string) string {
	s, _ := o[k].(string)
	return s
}

// Obj returns an object field.
func (o obj) Obj(k string) obj {
	m, _ := o[k].(map[string]any)
	return obj(m)
}

// Num returns a number field.
func (o obj) Num(k string) float64 {
	n, _ := o[k].(float64)
	return n
}

// Fields lists the scalar fields, for a definition list.
func (o obj) Fields() []change {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]change, 0, len(keys))
	for _, k := range keys {
		b, _ := json.Marshal(o[k])
		out = append(out, change{Field: k, After: pretty(b)})
	}
	return out
}

type resourceList struct {
	Kind, Status string
	Statuses     []string
	Items        []obj
	Older, Newer string
}

// listResources reads a page of a kind, with the status filter its list takes.
func (d *Dashboard) listResources(v *view, kind string, statuses []string) resourceList {
	rl := resourceList{Kind: kind, Status: v.r.URL.Query().Get("status"), Statuses: statuses}
	q := url.Values{"limit": {"50"}}
	if rl.Status != "" {
		q.Set("status", rl.Status)
	}
	for _, k := range []string{"after", "before"} {
		if c := v.r.URL.Query().Get(k); c != "" {
			q.Set(k, c)
			break
		}
	}
	var l list[obj]
	v.fail(v.api.get(v.api.projectPath(kind), q, &l))
	rl.Items = l.Items
	page := func(k, c string) string {
		p := url.Values{k: {c}}
		if rl.Status != "" {
			p.Set("status", rl.Status)
		}
		return Prefix + "/" + kind + "?" + p.Encode()
	}
	if l.MoreItemsAfter != nil {
		rl.Older = page("after", *l.MoreItemsAfter)
	}
	if l.MoreItemsBefore != nil {
		rl.Newer = page("before", *l.MoreItemsBefore)
	}
	return rl
}

var (
	portingStatuses      = []string{"draft", "pending", "informationRequired", "requested", "declined", "completed", "canceled", "expired"}
	subscriptionStatuses = []string{"pending", "active", "ended"}
)

func (d *Dashboard) portingsPage(v *view) {
	v.data.Title, v.data.Nav = "Portings", "portings"
	v.data.D = d.listResources(v, "portings", portingStatuses)
	d.render(v, "resources")
}

func (d *Dashboard) subscriptionsPage(v *view) {
	v.data.Title, v.data.Nav = "Subscriptions", "subscriptions"
	v.data.D = d.listResources(v, "subscriptions", subscriptionStatuses)
	d.render(v, "resources")
}

func (d *Dashboard) usersPage(v *view) {
	v.data.Title, v.data.Nav = "Users", "users"
	v.data.D = d.listResources(v, "users", nil)
	d.render(v, "resources")
}

// timeline reads the events about a resource, newest first.
func (d *Dashboard) timeline(v *view, id string) []eventRow {
	var l list[event]
	v.fail(v.api.get(v.api.projectPath("events"), url.Values{"resource": {id}, "limit": {"100"}}, &l))
	rows := make([]eventRow, len(l.Items))
	for i, e := range l.Items {
		rows[i] = newEventRow(e)
	}
	return rows
}

// requirement is one detail a porting's donor needs, and whether it is given.
type requirement struct {
	Field   string
	Missing bool
}

// decline is one decline of a porting, from its declined events.
type decline struct {
	Event         eventRow
	Code, Message string
}

type resourceData struct {
	Kind string
	// Noun names one resource of the kind.
	Noun     string
	Item     obj
	JSON     string
	Timeline []eventRow
	// Portings: what the donor needs, the declines, the simulator.
	Requirements []requirement
	Declines     []decline
	Actions      []string
	DeclineCodes []string
	// Users: their subscriptions and portings.
	Subscriptions, Portings []obj
}

// getResource reads one resource; the page shows the API's error if that fails.
func (d *Dashboard) getResource(v *view, kind, title string) (resourceData, bool) {
	id := v.r.PathValue("id")
	rd := resourceData{Kind: kind, Noun: strings.ToLower(title)}
	raw, err := v.api.do(http.MethodGet, v.api.projectPath(kind, id), nil, nil, "", &rd.Item)
	v.data.Title, v.data.Nav = title+" "+id, kind
	if err != nil {
		v.fail(err)
		return rd, false
	}
	rd.JSON = pretty(raw)
	rd.Timeline = d.timeline(v, id)
	return rd, true
}

func (d *Dashboard) portingPage(v *view) {
	rd, ok := d.getResource(v, "portings", "Porting")
	if ok {
		d.portingDetails(v, &rd)
	}
	v.data.D = rd
	d.render(v, "resource")
}

// portingDetails adds what the donor requires, the declines and the
// simulator's actions.
func (d *Dashboard) portingDetails(v *view, rd *resourceData) {
	req, _ := rd.Item["required"].([]any)
	for _, f := range req {
		name, _ := f.(string)
		var missing bool
		switch name {
		case "accountPin":
			missing = rd.Item["accountPinExists"] != true
		case "donorProviderApproval":
			missing = rd.Item[name] != true
		default:
			val, ok := rd.Item[name]
			missing = !ok || val == nil || val == ""
		}
		rd.Requirements = append(rd.Requirements, requirement{Field: name, Missing: missing})
	}
	var l list[event]
	v.fail(v.api.get(v.api.projectPath("events"), url.Values{"resource": {rd.Item.Str("id")},
		"type": {"com.gigs.porting.declined"}, "limit": {"100"}}, &l))
	for _, e := range l.Items {
		var p struct {
			DeclinedCode    string `json:"declinedCode"`
			DeclinedMessage string `json:"declinedMessage"`
		}
		json.Unmarshal(e.Data, &p)
		rd.Declines = append(rd.Declines, decline{Event: newEventRow(e), Code: p.DeclinedCode, Message: p.DeclinedMessage})
	}
	rd.Actions = porting.Actions
	rd.DeclineCodes = declineCodes()
}

func declineCodes() []string {
	codes := make([]string, 0, len(porting.DeclineMessages))
	for c := range porting.DeclineMessages {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}

func (d *Dashboard) subscriptionPage(v *view) {
	rd, _ := d.getResource(v, "subscriptions", "Subscription")
	v.data.D = rd
	d.render(v, "resource")
}

func (d *Dashboard) userPage(v *view) {
	rd, ok := d.getResource(v, "users", "User")
	if ok {
		q := url.Values{"user": {rd.Item.Str("id")}, "limit": {"50"}}
		var subs, prts list[obj]
		v.fail(v.api.get(v.api.projectPath("subscriptions"), q, &subs))
		v.fail(v.api.get(v.api.projectPath("portings"), q, &prts))
		rd.Subscriptions, rd.Portings = subs.Items, prts.Items
	}
	v.data.D = rd
	d.render(v, "resource")
}

// simulateBody is the simulate request the form makes.
func simulateBody(r *http.Request) map[string]string {
	body := map[string]string{"action": r.PostFormValue("action")}
	if c := strings.TrimSpace(r.PostFormValue("declinedCode")); c != "" {
		body["declinedCode"] = c
	}
	return body
}

func (d *Dashboard) simulatePorting(v *view) {
	id := v.r.PathValue("id")
	if _, err := v.api.do(http.MethodPost, v.api.projectPath("portings", id, "simulate"), nil, simulateBody(v.r), v.r.PostFormValue("idem"), nil); err != nil {
		v.fail(err)
		d.portingPage(v)
		return
	}
	v.done(Prefix+"/portings/"+url.PathEscape(id), "simulated", 0)
}
