package scimbridge

import (
	"errors"
	"fmt"
)

// Error codes. They are mapped to HTTP and SCIM statuses in one table in the
// scimserver package.
const (
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"            // a uniqueness violation
	EINVALID      = "invalid"             // the caller's input is wrong
	EPRECONDITION = "precondition_failed" // a version did not match
	EUNAUTHORIZED = "unauthorized"
	ELEASELOST    = "lease_lost" // the run no longer holds its organization's lease
	EINTERNAL     = "internal"
)

// Error is the application error. Message is safe to show to a client; the
// wrapped Err is not.
type Error struct {
	Code    string
	Message string
	// ScimType is the RFC 7644 scimType that fits, when one does
	// (uniqueness, invalidValue, invalidFilter, mutability, ...).
	ScimType string
	Err      error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ScimErrorf returns an *Error that also names the SCIM scimType.
func ScimErrorf(code, scimType, format string, args ...any) *Error {
	return &Error{Code: code, ScimType: scimType, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err, or "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}

// ErrorScimType returns the scimType of err, if any.
func ErrorScimType(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.ScimType
	}
	return ""
}
