// Package porting moves phone numbers in from other carriers: the porting
// lifecycle (draft → pending or informationRequired → requested → completed,
// declined, canceled or expired), its API operations and its timers. Every
// transition is recorded with its events in the same transaction.
package porting
