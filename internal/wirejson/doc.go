// Package wirejson encodes JSON as the platform's wire format has it: like
// encoding/json, but without escaping <, > and & (a carrier named "AT&T"
// stays "AT&T").
package wirejson
