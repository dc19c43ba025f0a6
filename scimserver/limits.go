package scimserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

const (
	// bodyTimeout is how long a request body may take to arrive once the
	// request is authenticated (400 after it).
	bodyTimeout = 30 * time.Second
	// maxBodyBytes is the largest request body accepted (413 above).
	maxBodyBytes = 1 << 20
	// maxPathBytes, maxUserAgentBytes and maxRequestIDBytes bound what an
	// event keeps of the request line and headers.
	maxPathBytes      = 8 << 10
	maxUserAgentBytes = 512
	maxRequestIDBytes = 128
)

// readRequestBody reads up to maxBodyBytes of r's body into rec within
// timeout (a read deadline on the connection) and replaces r.Body with
// what was read, so handlers and the events log see the same bytes. A
// larger body marks rec too large; only its first maxBodyBytes are kept.
// The deadline is lifted once the body is read whole; when it is not (too
// large, too slow, broken), the connection is closed after the response,
// so net/http does not wait for the rest. Where w offers no read deadline
// (a writer without Unwrap), the body is read without one.
func readRequestBody(w http.ResponseWriter, r *http.Request, rec *recorder, timeout time.Duration) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	if r.ContentLength > maxBodyBytes {
		rec.bodyTooLarge = true
	}
	rc := http.NewResponseController(w)
	deadline := rc.SetReadDeadline(time.Now().Add(timeout)) == nil
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if len(body) > maxBodyBytes {
		rec.bodyTooLarge = true
		body = body[:maxBodyBytes]
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		rec.bodyErr = fmt.Sprintf("request body did not arrive within %s", timeout)
	case err != nil:
		rec.bodyErr = "request body could not be read"
	}
	if rec.bodyTooLarge || rec.bodyErr != "" {
		skipUnreadBody(w, r)
	} else if deadline {
		rc.SetReadDeadline(time.Time{})
	}
	rec.body = body
	r.Body = io.NopCloser(bytes.NewReader(body))
}

// limitBody reads the body of an authenticated request (nothing of a
// refused request's body is read) and refuses, with 413, requests whose
// body is over maxBodyBytes, and with 400 those whose body could not be
// read or did not arrive in time.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorderFrom(r.Context())
		readRequestBody(w, r, rec, s.bodyTimeout)
		switch {
		case rec.bodyTooLarge:
			s.writeError(w, r, scimbridge.Errorf(eTooLarge, "request body is larger than 1 MiB"))
		case rec.bodyErr != "":
			s.writeError(w, r, scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidSyntax", "%s", rec.bodyErr))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// skipUnreadBody makes an HTTP/1 connection close after a response that
// did not read the request's body whole: net/http would otherwise read up
// to 256 KiB more of it, at the client's pace, to reuse the connection.
// (HTTP/2 resets the stream instead; closing would end other streams.)
func skipUnreadBody(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 && r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		w.Header().Set("Connection", "close")
	}
}

// jsonBody returns the request body of a handler that expects JSON: the
// content type, when given, must be application/scim+json or
// application/json; the body must be valid UTF-8, not empty, and not
// nested deeper than scim.MaxJSONDepth.
func jsonBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/scim+json" && mt != "application/json") {
			return nil, scimbridge.Errorf(eUnsupportedMedia, "content type must be application/scim+json or application/json")
		}
	}
	body := recorderFrom(r.Context()).body
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidSyntax", "request body is empty")
	}
	if !utf8.Valid(body) {
		return nil, scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidSyntax", "request body is not valid UTF-8")
	}
	if jsonDepth(body) > scim.MaxJSONDepth {
		return nil, scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidSyntax", "JSON is nested deeper than %d levels", scim.MaxJSONDepth)
	}
	return body, nil
}

// jsonDepth returns the deepest nesting of objects and arrays in b,
// skipping string contents. It does not validate b.
func jsonDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
