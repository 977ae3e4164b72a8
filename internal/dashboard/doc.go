// Package dashboard is the web dashboard the binary serves at /dashboard:
// the project's events (with a live tail), resources, webhook endpoints and
// their health, and the test project's clock and simulator, in server-rendered
// HTML with a little JavaScript, every asset embedded.
//
// The dashboard is a client of the project API: every read and every action
// is an in-process round trip through the API's http.Handler with the
// session's API key, so authentication, validation, errors and side effects
// are exactly the API's, and the API's error messages are shown in the page.
//
// A session is made by signing in with an API key. The key stays on the
// server: the sessions table (shared by every process on PostgreSQL) holds
// it sealed under a key derived from the session ID, which only the
// browser's cookie (HttpOnly, SameSite=Strict, Secure over TLS) carries.
// Every state-changing request needs the session and its CSRF token.
package dashboard
