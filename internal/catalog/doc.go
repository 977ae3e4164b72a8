// Package catalog holds what a project sells and connects to: the service
// providers (donor carriers and recipient networks), plans, and SIMs.
package catalog
