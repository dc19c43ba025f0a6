package scimbridge

import "time"

// EventSource says where an event came from.
type EventSource string

const (
	EventIdP    EventSource = "idp"    // a SCIM request from an identity provider
	EventGoogle EventSource = "google" // a change the Google bridge applied
	EventAdmin  EventSource = "admin"  // an admin action (the command line)
)

// AdminPathPrefix is where the admin API's organizations live. An admin
// event's method and path are those of the admin API call that does what
// the event records, whichever of the command line, the API or the console
// acted.
const AdminPathPrefix = "/api/admin/v1/orgs"

// AdminPath is the admin API path of rest ("/scim", "/admin-tokens/ID")
// on the organization slug.
func AdminPath(slug, rest string) string { return AdminPathPrefix + "/" + slug + rest }

// Event is one row of the events log: one per SCIM request, per change the
// bridge applies, and per admin action. Bodies are redacted and capped
// before they get here.
type Event struct {
	ID             int64         `json:"id"`
	OrgID          string        `json:"org_id,omitempty"` // empty when no organization could be named
	Time           time.Time     `json:"time"`
	Method         string        `json:"method"`
	Path           string        `json:"path"` // with query
	Status         int           `json:"status"`
	TargetUserName string        `json:"target_username,omitempty"`
	ClientIP       string        `json:"client_ip,omitempty"`
	UserAgent      string        `json:"user_agent,omitempty"`
	RequestID      string        `json:"request_id,omitempty"`
	Duration       time.Duration `json:"duration"`
	Source         EventSource   `json:"source"`
	// Actor names who performed an admin action: "cli:" and the OS user
	// for the command line. Empty for other events.
	Actor string `json:"actor,omitempty"`
	RunID string `json:"run_id,omitempty"`
	// Kind and ProfileID name the change a write event committed with.
	Kind         ChangeKind `json:"kind,omitempty"`
	ProfileID    string     `json:"profile_id,omitempty"`
	Error        string     `json:"error,omitempty"`
	RequestBody  string     `json:"request_body,omitempty"`
	ResponseBody string     `json:"response_body,omitempty"`
	// RequestTruncated and ResponseTruncated say a body was cut at 64 KiB.
	RequestTruncated  bool `json:"request_truncated,omitempty"`
	ResponseTruncated bool `json:"response_truncated,omitempty"`
	// Count is how many requests the event stands for: repeated 401/429 from
	// one IP are aggregated after 10 a minute. 1 for a normal event.
	Count int `json:"count"`
}

// EventQuery filters and pages the events log. Results are newest first;
// Cursor is the ID of the last event of the previous page (0 for the first).
type EventQuery struct {
	OrgID       string
	StatusClass int    // 2, 4 or 5 for 2xx, 4xx, 5xx; 0 for any
	Method      string // exact, upper-case
	UserName    string // target username, case-insensitive
	Source      EventSource
	Since       time.Time // inclusive; zero for no bound
	Until       time.Time // exclusive; zero for no bound
	Cursor      int64
	Limit       int // default 100, at most 1000
	// PathPrefix keeps the events whose path (with query) starts with it,
	// case-exactly.
	PathPrefix string
}

// EventPage is one page of events and the cursor of the next (0 when none).
type EventPage struct {
	Events     []Event `json:"events"`
	NextCursor int64   `json:"next_cursor,omitempty"`
}
