// Package scheduler fires the timers the platform clock drives — draft
// clean-up, porting expiry, period renewals and scheduled ends, credential
// expiry — each as a service call in its own transaction, so that it emits
// its events like any other change. Each timer fires once even when several
// processes run schedulers: a handler locks its resource and re-checks that
// it is due.
package scheduler
