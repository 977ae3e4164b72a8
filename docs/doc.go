// Package docs holds Switchboard's architecture document, architecture.md,
// and the tests that hold the code to it and to the house rules: the state
// diagrams agree with the code's transition tables, the sequence diagram
// names only functions and types that exist, every package imports
// only from its layer or below, every package has its doc in doc.go and
// every exported name a doc comment, the README's Layout names every
// package, and no test stops from a goroutine.
package docs
