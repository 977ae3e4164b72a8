// Package failure is the platform's error vocabulary: an Error carries the
// error type and code the API answers with, so services can say what went
// wrong without knowing HTTP.
package failure
