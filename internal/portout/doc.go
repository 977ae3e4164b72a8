// Package portout issues port-out credentials: the account number and PIN a
// customer needs to move a subscription's number to another carrier. The PIN
// is shown once, in the response that issues it; events carry null.
package portout
