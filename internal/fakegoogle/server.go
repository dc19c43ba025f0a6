// Package fakegoogle is a fake Google Admin SDK Directory API and OAuth token
// endpoint for tests and benchmarks. It speaks the real wire format: pages
// are the library's own admin.Users and admin.User structs marshalled to JSON,
// with nextPageToken paging, maxResults, customer, showDeleted and fields
// masks; groups.list and members.list page at 200 over a GroupSet that can be
// generated on the fly; scopes are checked per token; Google's default quota
// of 2,400 queries a minute is enforced; errors are Google's error JSON with reasons and Retry-After; the
// token endpoint serves the service-account JWT-bearer grant (verifying the
// RS256 signature) and the refresh_token grant, and the API accepts only the
// bearer tokens it issued. It does not depend on package testing.
package fakegoogle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
)

// Paths served by Handler.
const (
	TokenPath = "/token"
	UsersPath = "/admin/directory/v1/users"
)

// DefaultCustomerID is the customer id the fake answers to besides
// "my_customer".
const DefaultCustomerID = "C03az79cb"

// Failure is an injected API or token-endpoint error.
type Failure struct {
	Status  int    // HTTP status
	Reason  string // Google's reason: rateLimitExceeded, forbidden, invalid_grant, ...
	Message string // empty: Google's usual message for Reason
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Times is how many requests fail; negative means every request.
	Times int
}

// Server is the fake. Its zero value is not usable: call NewServer.
type Server struct {
	mu         sync.Mutex
	customerID string
	users      []*admin.User
	// source, when set, computes the users of each page instead of users.
	source  UserSource
	deleted []*admin.User
	// cache holds each user's JSON per (deleted, users fields mask).
	cache map[cacheKey][][]byte

	pageFailures  map[int]*Failure
	allFailure    *Failure
	tokenFailure  *Failure
	requests      int
	pages         int
	deletedPages  int
	tokenRequests int
	lastQuery     url.Values

	groups         GroupSet
	groupIndex     map[string]int // group id, email and aliases (lower case) -> position
	groupRequests  int
	memberRequests int
	lastGroupQuery url.Values

	quota       quota
	now         func() time.Time
	rateLimited int

	auth authState
	flow oauthFlow
}

type cacheKey struct {
	deleted bool
	mask    string
}

// NewServer returns an empty fake directory.
func NewServer() *Server {
	s := &Server{
		customerID:   DefaultCustomerID,
		cache:        map[cacheKey][][]byte{},
		pageFailures: map[int]*Failure{},
		quota:        quota{limit: DefaultQuota},
		now:          time.Now,
	}
	s.auth.init()
	return s
}

// Handler serves the token endpoint at TokenPath, the OAuth authorisation
// endpoint at AuthPath, users.list at UsersPath,
// groups.list at GroupsPath and members.list under it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TokenPath, s.handleToken)
	mux.HandleFunc("GET "+AuthPath, s.handleAuth)
	mux.HandleFunc("GET "+UsersPath, s.handleUsers)
	mux.HandleFunc("GET "+GroupsPath, s.handleGroups)
	mux.HandleFunc("GET "+GroupsPath+"/{groupKey}/members", s.handleMembers)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeGoogleError(w, Failure{Status: http.StatusNotFound, Reason: "notFound", Message: "Not Found"})
	})
	return mux
}

// SetUsers replaces the directory. The server keeps the slice; change users
// only through SetUsers.
func (s *Server) SetUsers(users []*admin.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users, s.source = users, nil
	s.cache = map[cacheKey][][]byte{}
}

// SetSource replaces the directory by users computed page by page: the
// server keeps no user and no rendered JSON of its own.
func (s *Server) SetSource(src UserSource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users, s.source = nil, src
	s.cache = map[cacheKey][][]byte{}
}

// Render renders every user under a users.list fields mask now (the
// "fields" query parameter; "" for the whole resource), so the next listing
// does not pay for it: each user's JSON is otherwise computed on the first
// page that needs it.
func (s *Server) Render(fields string, showDeleted bool) error {
	m, err := parseMask(fields)
	if err != nil {
		return fmt.Errorf("render users: invalid fields %q: %w", fields, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.source != nil && !showDeleted {
		return nil
	}
	var userMask mask
	if m != nil {
		var ok bool
		if userMask, ok = m["users"]; !ok {
			return nil
		}
	}
	_, err = s.rendered(showDeleted, userMask)
	return err
}

// SetDeleted replaces the recently deleted users, listed with showDeleted=true.
func (s *Server) SetDeleted(users []*admin.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = users
	s.cache = map[cacheKey][][]byte{}
}

// SetCustomerID sets the customer id accepted besides "my_customer".
func (s *Server) SetCustomerID(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.customerID = id
}

// FailPage makes the n-th page (1-based: offset/maxResults+1) of any listing
// (users, groups or members)
// fail times times (negative: always) with status and reason.
func (s *Server) FailPage(n, status int, reason string, times int) {
	s.FailPageWith(n, Failure{Status: status, Reason: reason, Times: times})
}

// FailPageWith is FailPage with every Failure field.
func (s *Server) FailPageWith(n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageFailures[n] = &f
}

// FailAll makes every API request fail until ClearFailures.
func (s *Server) FailAll(status int, reason, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allFailure = &Failure{Status: status, Reason: reason, Message: message, Times: -1}
}

// FailToken makes the token endpoint answer {"error": code} with status,
// times times (negative: always).
func (s *Server) FailToken(status int, code, description string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenFailure = &Failure{Status: status, Reason: code, Message: description, Times: times}
}

// ClearFailures removes every injected failure.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageFailures = map[int]*Failure{}
	s.allFailure = nil
	s.tokenFailure = nil
}

// Requests counts users.list requests, failed ones included.
func (s *Server) Requests() int { return s.counter(&s.requests) }

// Pages counts users.list pages served successfully.
func (s *Server) Pages() int { return s.counter(&s.pages) }

// ShowDeletedPages counts the successful pages listed with showDeleted=true.
func (s *Server) ShowDeletedPages() int { return s.counter(&s.deletedPages) }

// TokenRequests counts token endpoint requests.
func (s *Server) TokenRequests() int { return s.counter(&s.tokenRequests) }

// ResetCounters sets every counter to zero.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.pages, s.deletedPages, s.tokenRequests = 0, 0, 0, 0
	s.groupRequests, s.memberRequests, s.rateLimited = 0, 0, 0
}

// LastQuery returns the query of the last users.list request.
func (s *Server) LastQuery() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := url.Values{}
	for k, v := range s.lastQuery {
		q[k] = append([]string(nil), v...)
	}
	return q
}

func (s *Server) counter(p *int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *p
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.requests++
	s.lastQuery = q
	s.mu.Unlock()

	if !s.authorize(w, r, DirectoryReadonlyScope, "https://www.googleapis.com/auth/admin.directory.user") {
		return
	}
	customer := q.Get("customer")
	if customer == "" && q.Get("domain") == "" {
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "badRequest", Message: "Bad Request"})
		return
	}
	max := 100
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "invalid",
				Message: fmt.Sprintf("Invalid value '%s'. Values must be within the range: [1, 500]", v)})
			return
		}
		max = n
	}
	offset, ok := decodePageToken(q.Get("pageToken"))
	if !ok {
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "invalid", Message: "Invalid Input: pageToken"})
		return
	}
	showDeleted := q.Get("showDeleted") == "true"
	fields, err := parseMask(q.Get("fields"))
	if err != nil {
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "invalidParameter", Message: "Invalid field selection " + q.Get("fields")})
		return
	}

	s.mu.Lock()
	if f := s.takeFailure(offset/max + 1); f != nil {
		s.mu.Unlock()
		writeGoogleError(w, *f)
		return
	}
	if customer != "" && customer != "my_customer" && customer != s.customerID {
		s.mu.Unlock()
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "badRequest", Message: "Bad Request"})
		return
	}
	body, err := s.page(showDeleted, offset, max, fields)
	if err == nil {
		s.pages++
		if showDeleted {
			s.deletedPages++
		}
	}
	s.mu.Unlock()
	if err != nil {
		writeGoogleError(w, Failure{Status: http.StatusInternalServerError, Reason: "backendError", Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Write(body)
}

// takeFailure returns the failure for this request, if any, and uses up one
// of its times. Callers hold s.mu.
func (s *Server) takeFailure(page int) *Failure {
	if s.allFailure != nil {
		return s.allFailure
	}
	f := s.pageFailures[page]
	if f == nil || f.Times == 0 {
		return nil
	}
	if f.Times > 0 {
		f.Times--
	}
	c := *f
	return &c
}

// page renders one users.list response. Callers hold s.mu.
func (s *Server) page(deleted bool, offset, max int, m mask) ([]byte, error) {
	all := s.users
	if deleted {
		all = s.deleted
	}
	total := len(all)
	src := s.source
	if deleted || src == nil {
		src = nil
	} else {
		total = src.Len()
	}
	start := min(offset, total)
	end := min(start+max, total)
	var userMask mask
	wantUsers, wantToken, wantKind, wantEtag := true, true, true, true
	if m != nil {
		userMask, wantUsers = m["users"]
		_, wantToken = m["nextPageToken"]
		_, wantKind = m["kind"]
		_, wantEtag = m["etag"]
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	sep := func() {
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
	}
	if wantKind {
		sep()
		buf.WriteString(`"kind":"admin#directory#users"`)
	}
	if wantEtag {
		sep()
		fmt.Fprintf(&buf, `"etag":"\"fake-%d-%d\""`, total, offset)
	}
	if wantUsers && end > start && src != nil {
		sep()
		buf.WriteString(`"users":[`)
		for i := start; i < end; i++ {
			if i > start {
				buf.WriteByte(',')
			}
			if raw, ok := src.(rawSource); ok {
				raw.appendUser(&buf, i, userMask)
				continue
			}
			b, err := renderUser(src.User(i), userMask)
			if err != nil {
				return nil, err
			}
			buf.Write(b)
		}
		buf.WriteByte(']')
	} else if wantUsers && end > start {
		rendered, err := s.rendered(deleted, userMask)
		if err != nil {
			return nil, err
		}
		sep()
		buf.WriteString(`"users":[`)
		for i := start; i < end; i++ {
			if i > start {
				buf.WriteByte(',')
			}
			buf.Write(rendered[i])
		}
		buf.WriteByte(']')
	}
	if wantToken && end < total {
		sep()
		tok, _ := json.Marshal(encodePageToken(end))
		buf.WriteString(`"nextPageToken":`)
		buf.Write(tok)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// rendered returns every user's JSON under the mask, computed once per
// directory and mask. Callers hold s.mu.
func (s *Server) rendered(deleted bool, m mask) ([][]byte, error) {
	key := cacheKey{deleted: deleted, mask: m.String()}
	if r, ok := s.cache[key]; ok {
		return r, nil
	}
	all := s.users
	if deleted {
		all = s.deleted
	}
	out := make([][]byte, len(all))
	for i, u := range all {
		b, err := json.Marshal(u)
		if err != nil {
			return nil, fmt.Errorf("marshal user %s: %w", u.Id, err)
		}
		if m != nil {
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				return nil, fmt.Errorf("unmarshal user %s: %w", u.Id, err)
			}
			if b, err = json.Marshal(m.apply(v)); err != nil {
				return nil, fmt.Errorf("marshal user %s: %w", u.Id, err)
			}
		}
		out[i] = b
	}
	s.cache[key] = out
	return out, nil
}

func encodePageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodePageToken(tok string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "offset:") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
	return n, err == nil && n >= 0
}

// googleMessages are the messages Google sends with each reason.
var googleMessages = map[string]string{
	"rateLimitExceeded":     "Rate Limit Exceeded",
	"userRateLimitExceeded": "User Rate Limit Exceeded",
	"quotaExceeded":         "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'admin.googleapis.com'.",
	"forbidden":             "Not Authorized to access this resource/api",
	"accessNotConfigured":   "Admin SDK API has not been used in project 123456789012 before or it is disabled. Enable it by visiting the API console, then retry.",
	"authError":             "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
	"backendError":          "Backend Error",
	"internalError":         "Internal error encountered.",
	"notFound":              "Resource Not Found: userKey",
}

var googleStatuses = map[int]string{
	400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
	429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}

// writeGoogleError writes Google's JSON error envelope.
func writeGoogleError(w http.ResponseWriter, f Failure) {
	msg := f.Message
	if msg == "" {
		msg = googleMessages[f.Reason]
	}
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	domain := "global"
	switch f.Reason {
	case "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "accessNotConfigured":
		domain = "usageLimits"
	}
	type item struct {
		Message string `json:"message"`
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
	}
	body := map[string]any{"error": map[string]any{
		"code":    f.Status,
		"message": msg,
		"errors":  []item{{Message: msg, Domain: domain, Reason: f.Reason}},
		"status":  googleStatuses[f.Status],
	}}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(f.Status)
	json.NewEncoder(w).Encode(body)
}
