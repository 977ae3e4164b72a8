// Package docs holds Switchboard's architecture document, architecture.md,
// and the test that keeps its state diagrams and the code's transition
// tables in agreement.
package docs
