// Package user keeps the end users of a project: created, updated, each change
// recorded as its event.
package user
