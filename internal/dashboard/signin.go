package dashboard

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/store"
)

type signinData struct {
	Next           string
	DefaultProject string
}

func (d *Dashboard) signinPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if s, err := d.loadSession(r); err == nil && s != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d.showSignin(w, r, http.StatusOK, nil, next, url.Values{"project": {d.defaultProject}})
}

func (d *Dashboard) showSignin(w http.ResponseWriter, r *http.Request, status int, apiErr *apiError, next string, form url.Values) {
	token := randomToken()
	d.setCookie(w, r, signinCookie, token, 0)
	d.write(w, r, "signin", status, pageData{Title: "Sign in", Path: r.URL.Path, CSRF: token, Error: apiErr, Form: form,
		D: signinData{Next: next, DefaultProject: d.defaultProject}})
}

// signin checks the key against the API (it must reach the project) and
// starts a session. Only the session ID reaches the browser.
func (d *Dashboard) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		d.plainError(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	c, err := r.Cookie(signinCookie)
	token := r.PostFormValue("csrf")
	if err != nil || token == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(token)) != 1 {
		d.plainError(w, r, http.StatusForbidden, "The sign-in form's security token is missing or wrong: open the sign-in page and try again.")
		return
	}
	next := localPath(r.PostFormValue("next"))
	key := strings.TrimSpace(r.PostFormValue("key"))
	project := strings.TrimSpace(r.PostFormValue("project"))
	form := url.Values{"project": {project}} // the key is never shown back
	if key == "" {
		d.showSignin(w, r, http.StatusUnprocessableEntity, &apiError{Status: http.StatusUnprocessableEntity, Type: "invalid",
			Code: "fieldRequired", Message: "Enter an API key."}, next, form)
		return
	}
	api := d.caller(r, &session{key: key})
	if project == "" {
		// An operator key may list the projects: take the first.
		var l list[projectInfo]
		if err := api.get("/projects", url.Values{"limit": {"1"}}, &l); err == nil && len(l.Items) > 0 {
			project = l.Items[0].ID
		} else {
			project = d.defaultProject
		}
	}
	api.project = project
	if err := api.get(api.projectPath("events"), url.Values{"limit": {"1"}}, nil); err != nil {
		d.showSignin(w, r, err.Status, err, next, form)
		return
	}
	if err := d.newSession(r.Context(), w, r, key, project); err != nil {
		d.fail(w, r, err)
		return
	}
	d.setCookie(w, r, signinCookie, "", -1)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Dashboard) signout(v *view) {
	if err := d.endSession(v.r.Context(), v.w, v.r, v.s); err != nil {
		d.fail(v.w, v.r, err)
		return
	}
	v.redirect(Prefix + "/signin")
}

// switchProject points the session at another project the key reaches (an
// operator key reaches every project).
func (d *Dashboard) switchProject(v *view) {
	project := strings.TrimSpace(v.r.PostFormValue("project"))
	v.api.project = project
	if err := v.api.get(v.api.projectPath("events"), url.Values{"limit": {"1"}}, nil); err != nil {
		v.api.project = v.s.project
		v.fail(err)
		d.eventsPage(v)
		return
	}
	err := d.store.Update(v.r.Context(), func(tx *store.Tx) error {
		return tx.SetDashboardSessionProject(v.r.Context(), v.s.hash, project)
	})
	if errors.Is(err, store.ErrNotFound) {
		v.redirect(Prefix + "/signin")
		return
	}
	if err != nil {
		d.fail(v.w, v.r, err)
		return
	}
	v.done(Prefix+"/events", "switched", 0)
}
