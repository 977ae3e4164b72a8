package failure

import (
	"errors"
	"fmt"
)

// Error types, as the API names them.
const (
	Malformed        = "malformed"
	Unauthenticated  = "unauthenticated"
	PermissionDenied = "permissionDenied"
	NotFound         = "notFound"
	Conflict         = "conflict"
	Invalid          = "invalid"
	TooManyRequests  = "tooManyRequests"
	Internal         = "internal"
	NotImplemented   = "notImplemented"
	Unavailable      = "unavailable"
)

// Error is a failure the API reports to its caller.
type Error struct {
	Type    string
	Code    string
	Message string
}

// Error describes the failure as "type: code: message".
func (e *Error) Error() string { return e.Type + ": " + e.Code + ": " + e.Message }

// New returns an Error of the given type and code.
func New(typ, code, format string, args ...any) *Error {
	return &Error{Type: typ, Code: code, Message: fmt.Sprintf(format, args...)}
}

// As returns the Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries an Error of the given type and code
// (any code when code is empty).
func Is(err error, typ, code string) bool {
	e, ok := As(err)
	return ok && e.Type == typ && (code == "" || e.Code == code)
}
