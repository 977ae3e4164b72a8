// Package scheduler fires the timers the projects' clocks drive — draft
// clean-up, porting expiry, period renewals and scheduled ends, credential
// expiry — each as a service call in its own transaction, so that it emits
// its events like any other change. Each timer fires once even when several
// processes run schedulers: a handler locks its resource and re-checks that
// it is due.
//
// Each project's timers fire by that project's clock: a test project whose
// clock was moved forward has its own scan, so that moving it fires its
// timers and no other project's.
package scheduler
