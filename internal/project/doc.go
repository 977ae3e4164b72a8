// Package project manages projects, the tenants of a Switchboard: each has
// its own resources, events, webhook endpoints and API keys, and a mode.
// A test project has the network-provider simulator and a test clock of its
// own that moves only forward, and only when asked; a live project has
// neither and runs on the wall clock. A project's mode never changes, and a
// project is never deleted.
package project
