package scimserver

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// Error codes of the HTTP layer, next to the domain's in the one table
// below.
const (
	eMethodNotAllowed = "method_not_allowed"
	eTooLarge         = "too_large"
	eUnsupportedMedia = "unsupported_media_type"
	eRateLimited      = "rate_limited"
	// eConcurrent is a write that kept losing to concurrent writers.
	eConcurrent = "concurrent_modification"
)

// errorStatus is what a client sees for an error code.
type errorStatus struct {
	status   int
	scimType string // used when the error names none
}

// errorTable maps every error code to its HTTP status and default scimType.
// A code missing from it is an internal error.
var errorTable = map[string]errorStatus{
	scimbridge.EINVALID:      {http.StatusBadRequest, "invalidValue"},
	scimbridge.EUNAUTHORIZED: {http.StatusUnauthorized, ""},
	scimbridge.ENOTFOUND:     {http.StatusNotFound, ""},
	eMethodNotAllowed:        {http.StatusMethodNotAllowed, ""},
	scimbridge.ECONFLICT:     {http.StatusConflict, "uniqueness"},
	eConcurrent:              {http.StatusConflict, ""},
	scimbridge.EPRECONDITION: {http.StatusPreconditionFailed, ""},
	eTooLarge:                {http.StatusRequestEntityTooLarge, ""},
	eUnsupportedMedia:        {http.StatusUnsupportedMediaType, ""},
	eRateLimited:             {http.StatusTooManyRequests, ""},
	scimbridge.EINTERNAL:     {http.StatusInternalServerError, ""},
	scimbridge.ELEASELOST:    {http.StatusServiceUnavailable, ""},
}

// scimError is the RFC 7644 §3.12 error body.
type scimError struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// statusOf returns the HTTP status, scimType and client-safe detail of err.
// Internal error text never leaves here: anything that is not an
// *scimbridge.Error with a known, non-internal code is "internal error".
func statusOf(err error) (status int, scimType, detail string) {
	code := scimbridge.ErrorCode(err)
	st, ok := errorTable[code]
	if !ok {
		st, code = errorTable[scimbridge.EINTERNAL], scimbridge.EINTERNAL
	}
	detail = "internal error"
	if code != scimbridge.EINTERNAL && code != scimbridge.ELEASELOST {
		detail = scimbridge.ErrorMessage(err)
	}
	scimType = scimbridge.ErrorScimType(err)
	if scimType == "" || st.status >= 500 {
		scimType = st.scimType
	}
	return st.status, scimType, detail
}

// errorBody renders the SCIM error body.
func errorBody(status int, scimType, detail string) []byte {
	b, _ := json.Marshal(scimError{
		Schemas:  []string{scim.SchemaError},
		Status:   strconv.Itoa(status),
		ScimType: scimType,
		Detail:   detail,
	})
	return b
}

// writeError answers the request with err as a SCIM error. Server-side
// failures are logged with the request id; the client sees only the
// table's status and the safe detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, scimType, detail := statusOf(err)
	rec := recorderFrom(r.Context())
	if status >= 500 {
		s.logger.Error("scim request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", rec.requestID, "org_id", rec.org.ID, "err", err)
	}
	if rec.errMsg == "" {
		rec.errMsg = detail
	}
	writeSCIM(w, status, errorBody(status, scimType, detail))
}

// writeSCIM writes a SCIM response body with its content type.
func writeSCIM(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	if len(body) > 0 {
		h.Set("Content-Type", scimContentType)
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if len(body) > 0 {
		w.Write(body)
	}
}

// scimContentType is the media type of every response body.
const scimContentType = "application/scim+json"
