package scimserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
)

// recorder collects what the event of one request needs as the request
// goes through the middleware and its handler.
type recorder struct {
	start     time.Time
	requestID string
	clientIP  string
	// org is the authenticated organization, or the one a rejected token's
	// slug names (attribution of 401s).
	org scimbridge.Organization

	body         []byte // the request body as read (at most maxBodyBytes)
	bodyTooLarge bool
	bodyErr      string // why the body could not be read

	target    string // target userName
	profileID string
	kind      scimbridge.ChangeKind
	errMsg    string

	// committed is set once the handler committed the event with a change;
	// the middleware then writes no other.
	committed bool
}

type recorderKey struct{}

// recorderFrom returns the request's recorder; outside the middleware (a
// handler called directly) it returns a throwaway one.
func recorderFrom(ctx context.Context) *recorder {
	if rec, ok := ctx.Value(recorderKey{}).(*recorder); ok {
		return rec
	}
	return &recorder{}
}

// captureWriter keeps the status and body of the response for the event.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if room := maxBodyBytes - c.body.Len(); room > 0 {
		c.body.Write(b[:min(len(b), room)])
	}
	return c.ResponseWriter.Write(b)
}

func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// logEvents is the outermost middleware: it gives the request a recorder
// and a request id (limitBody reads the body once the request is
// authenticated), and once the handler is done writes
// the request's one event through the buffered writer, unless the handler
// committed it with a change. A panic becomes a 500 and is logged.
func (s *Server) logEvents(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{
			start:     s.clock(),
			requestID: requestID(r.Header.Get("X-Request-Id")),
			clientIP:  clientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.trustedProxies()),
		}
		w.Header().Set("X-Request-Id", rec.requestID)
		r = r.WithContext(context.WithValue(r.Context(), recorderKey{}, rec))
		cw := &captureWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v != nil && v != http.ErrAbortHandler {
				s.logger.Error("scim handler panicked", "request_id", rec.requestID, "panic", v)
				if cw.status == 0 {
					s.writeError(cw, r, fmt.Errorf("serve request: panic: %v", v))
				}
			}
			if !rec.committed {
				status := cw.status
				if status == 0 {
					status = http.StatusOK
				}
				s.events.record(s.newEvent(rec, r, status, cw.body.Bytes()))
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
		}()
		next.ServeHTTP(cw, r)
	})
}

// newEvent builds the event of a request that answers status with body.
func (s *Server) newEvent(rec *recorder, r *http.Request, status int, body []byte) scimbridge.Event {
	reqBody, reqTrunc := redactBody(rec.body)
	respBody, respTrunc := redactBody(body)
	path, _ := capText(redactPath(r.URL.RequestURI()), maxPathBytes)
	ua, _ := capText(r.UserAgent(), maxUserAgentBytes)
	target, _ := capText(rec.target, 1024)
	errMsg, _ := capText(redactQuotedFilters(rec.errMsg), 1024)
	return scimbridge.Event{
		OrgID:             rec.org.ID,
		Time:              rec.start.UTC(),
		Method:            r.Method,
		Path:              path,
		Status:            status,
		TargetUserName:    target,
		ClientIP:          rec.clientIP,
		UserAgent:         ua,
		RequestID:         rec.requestID,
		Duration:          s.clock().Sub(rec.start),
		Source:            scimbridge.EventIdP,
		Kind:              rec.kind,
		ProfileID:         rec.profileID,
		Error:             errMsg,
		RequestBody:       reqBody,
		ResponseBody:      respBody,
		RequestTruncated:  reqTrunc,
		ResponseTruncated: respTrunc,
		Count:             1,
	}
}

// requestID returns the client's X-Request-Id when it is a sane token
// (printable ASCII, at most maxRequestIDBytes), else a fresh UUID.
func requestID(h string) string {
	h = strings.TrimSpace(h)
	if h == "" || len(h) > maxRequestIDBytes {
		return uuid.NewString()
	}
	for i := 0; i < len(h); i++ {
		if h[i] < 0x21 || h[i] > 0x7e {
			return uuid.NewString()
		}
	}
	return h
}
