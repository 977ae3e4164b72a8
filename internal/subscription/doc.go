// Package subscription runs subscriptions: created for a user and a plan,
// activated (at once, or when the porting of their number completes),
// renewed period after period, canceled now or at the period's end, resumed,
// and ended. Every change is recorded with its events in its transaction.
package subscription
