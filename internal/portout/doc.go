// Package portout issues port-out credentials: the account number and PIN a
// customer needs to move a subscription's number to another carrier. The PIN
// is shown once, in the response that issues it; events carry null. It is
// stored only as a hash, which a simulated port-out checks.
//
// Expiry and replacement emit no event. The public record (the platform's
// event schema pages, checked for this change) documents one port-out
// credentials event, com.gigs.portOutCredentials.issued, and none for
// credentials that expire or that newer ones replace: their expiresAt tells
// integrators when they stop working, and a new issued event for the same
// subscription that the earlier ones are void. So credentials past their
// expiresAt are marked expired by their timer, and issuing new ones marks
// the earlier ones replaced, silently; neither can port a number out.
package portout
