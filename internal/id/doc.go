// Package id makes the platform's opaque identifiers: "<prefix>_<suffix>"
// with a base62 suffix whose first characters encode the creation time, so
// that identifiers sort by creation time, and in one process strictly so.
package id
