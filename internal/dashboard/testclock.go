package dashboard

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-dev/switchboard/internal/porting"
)

// clockObj is the API's clock.
type clockObj struct {
	Time          time.Time `json:"time"`
	OffsetSeconds int64     `json:"offsetSeconds"`
	TimersFired   int       `json:"timersFired"`
}

// clockCall asks the project's test clock: GET /projects/{p}/simulator/clock
// and POST …/advance.
func (v *view) clockCall(method, suffix string, body any, out *clockObj) *apiError {
	_, err := v.api.do(method, v.api.projectPath("simulator", "clock")+suffix, nil, body, "", out)
	return err
}

type testData struct {
	Clock      *clockObj
	Mode       string
	Presets    []preset
	Fired      string
	Happened   []eventRow
	Renewing   []obj
	Portings   []obj
	Actions    []string
	Codes      []string
	ClockError *apiError
}

type preset struct {
	Label   string
	Seconds int
}

var presets = []preset{{"1 hour", 3600}, {"1 day", 86400}, {"7 days", 7 * 86400}, {"31 days", 31 * 86400}}

// openPortings are the statuses the simulator can still act on.
var openPortings = []string{"pending", "informationRequired", "requested", "declined"}

func (d *Dashboard) testPage(v *view) {
	data := testData{Presets: presets, Codes: declineCodes()}
	var c clockObj
	if err := v.clockCall(http.MethodGet, "", nil, &c); err != nil {
		data.ClockError = err
	} else {
		data.Clock = &c
	}
	var p projectInfo // a project key may read its own project
	if v.api.get(v.api.projectPath(), nil, &p) == nil {
		data.Mode = p.Mode
	}
	q := v.r.URL.Query()
	if since := q.Get("since"); since != "" || q.Get("fired") != "" {
		data.Fired = q.Get("fired")
		call := url.Values{"limit": {"100"}}
		if since != "" {
			call.Set("before", since)
		}
		var l list[event]
		v.fail(v.api.get(v.api.projectPath("events"), call, &l))
		for _, e := range slices.Backward(l.Items) { // in the order they happened
			data.Happened = append(data.Happened, newEventRow(e))
		}
	}
	var subs list[obj]
	v.fail(v.api.get(v.api.projectPath("subscriptions"), url.Values{"status": {"active"}, "limit": {"50"}}, &subs))
	data.Renewing = subs.Items
	var prts list[obj]
	v.fail(v.api.get(v.api.projectPath("portings"), url.Values{"limit": {"100"}}, &prts))
	for _, p := range prts.Items {
		if slices.Contains(openPortings, p.Str("status")) {
			data.Portings = append(data.Portings, p)
		}
	}
	data.Actions = porting.Actions
	v.data.Title, v.data.Nav, v.data.D = "Test clock and simulator", "test", data
	d.render(v, "test")
}

// advanceClock moves the test clock and shows what happened: the timers
// that fired and the events since.
func (d *Dashboard) advanceClock(v *view) {
	var newest list[event]
	if err := v.api.get(v.api.projectPath("events"), url.Values{"limit": {"1"}}, &newest); err != nil {
		v.fail(err)
		d.testPage(v)
		return
	}
	var c clockObj
	body := map[string]any{"seconds": formNumber(v.r.PostFormValue("seconds"))}
	if err := v.clockCall(http.MethodPost, "/advance", body, &c); err != nil {
		v.fail(err)
		d.testPage(v)
		return
	}
	q := url.Values{"fired": {strconv.Itoa(c.TimersFired)}}
	if len(newest.Items) > 0 {
		q.Set("since", newest.Items[0].ID)
	}
	v.redirect(Prefix + "/test?" + q.Encode())
}

func (d *Dashboard) simulateFromTestPage(v *view) {
	id := v.r.PostFormValue("porting")
	if _, err := v.api.do(http.MethodPost, v.api.projectPath("portings", id, "simulate"), nil, simulateBody(v.r), v.r.PostFormValue("idem"), nil); err != nil {
		v.fail(err)
		d.testPage(v)
		return
	}
	v.done(Prefix+"/portings/"+url.PathEscape(id), "simulated", 0)
}
