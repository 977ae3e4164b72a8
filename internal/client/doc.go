// Package client is a small typed client of Switchboard's REST API, used by
// the switchboard CLI and by test and load harnesses.
//
// A Client is bound to one server, API key and project:
//
//	c := client.New("http://127.0.0.1:8080", key, "dev")
//	u, err := c.CreateUser(ctx, client.UserParams{Email: "ada@example.com"})
//
// Failures the API reports come back as *Error, carrying the error object's
// type and code.
package client
