// Package field validates the values of request fields — phone numbers,
// countries, dates, e-mail addresses, enumerations — and reports a bad one as
// the API's "invalid" failure naming the field.
package field
