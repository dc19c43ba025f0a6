// Package scim is the HTTP-free core of the SCIM 2.0 server: it encodes
// profiles as SCIM User resources, decodes POST/PUT bodies into desired
// profiles, applies PATCH operations (RFC 7644 §3.5.2 plus the dialects real
// identity providers speak) and parses filters into scimbridge.Filter trees.
//
// Every client mistake is returned as a *scimbridge.Error with code EINVALID
// and the RFC 7644 scimType that fits; no input makes it panic.
package scim

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/scimbridge/scimbridge"
)

// Schema and message URNs (RFC 7643 §8.7, RFC 7644 §3).
const (
	// SchemaUser is the core User schema.
	SchemaUser = "urn:ietf:params:scim:schemas:core:2.0:User"
	// SchemaEnterprise is the enterprise User extension.
	SchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// SchemaPatchOp is the PATCH request message.
	SchemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	// SchemaListResponse is the list (query) response message.
	SchemaListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	// SchemaError is the error response message.
	SchemaError = "urn:ietf:params:scim:api:messages:2.0:Error"
	// SchemaSearchRequest is the POST .search request message.
	SchemaSearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
)

// RFC 7644 §3.12 scimType values this package reports.
const (
	scimInvalidSyntax = "invalidSyntax"
	scimInvalidValue  = "invalidValue"
	scimInvalidPath   = "invalidPath"
	scimInvalidFilter = "invalidFilter"
	scimMutability    = "mutability"
	scimNoTarget      = "noTarget"
)

// BasePath is where the SCIM API lives under the daemon's public URL; the
// server mounts it there and the bridge records its changes as calls to it.
const BasePath = "/api/connect/v1"

// MaxJSONDepth is the deepest nesting of a request body accepted.
const MaxJSONDepth = 32

// Limits.
const (
	maxPatchOperations = 1000 // operations in one PATCH request
	maxFilterBytes     = 2048 // length of a filter
	maxFilterCompares  = 50   // comparisons in a filter
	maxFilterDepth     = 8    // nesting of parentheses and brackets in a filter
)

// Manager is a resolved enterprise manager reference: the profile that
// manager.value names.
type Manager struct{ ID, DisplayName string }

// ETag returns the weak entity tag of a resource version: W/"<version>".
func ETag(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

func invalid(scimType, format string, args ...any) *scimbridge.Error {
	return scimbridge.ScimErrorf(scimbridge.EINVALID, scimType, format, args...)
}

// prefixError prefixes the client-safe message of an *Error.
func prefixError(err error, format string, args ...any) error {
	var e *scimbridge.Error
	if errors.As(err, &e) {
		c := *e
		c.Message = fmt.Sprintf(format, args...) + c.Message
		return &c
	}
	return err
}
