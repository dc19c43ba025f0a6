package fakegoogle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"
)

// Paths served by Handler for groups: groups.list, and members.list as
// GroupsPath + "/{groupKey}/members".
const GroupsPath = "/admin/directory/v1/groups"

// GroupPageSize is Google's maximum (and the fake's) maxResults of
// groups.list and members.list.
const GroupPageSize = 200

// groupScopes and memberScopes are the scopes Google accepts for
// groups.list and members.list.
var (
	groupScopes  = []string{GroupReadonlyScope, "https://www.googleapis.com/auth/admin.directory.group"}
	memberScopes = append([]string{"https://www.googleapis.com/auth/admin.directory.group.member.readonly",
		"https://www.googleapis.com/auth/admin.directory.group.member"}, groupScopes...)
)

// SetGroups replaces the groups. The server reads the set on every page and
// keeps only an index of group ids, emails and aliases to their position.
func (s *Server) SetGroups(g GroupSet) {
	index := make(map[string]int, g.Len())
	for i := 0; i < g.Len(); i++ {
		gr := g.Group(i)
		index[gr.Id] = i
		index[strings.ToLower(gr.Email)] = i
		for _, a := range gr.Aliases {
			index[strings.ToLower(a)] = i
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups, s.groupIndex = g, index
}

// GroupRequests counts groups.list requests, failed ones included.
func (s *Server) GroupRequests() int { return s.counter(&s.groupRequests) }

// MemberRequests counts members.list requests, failed ones included.
func (s *Server) MemberRequests() int { return s.counter(&s.memberRequests) }

// LastGroupQuery returns the query of the last groups.list or members.list
// request.
func (s *Server) LastGroupQuery() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := url.Values{}
	for k, v := range s.lastGroupQuery {
		q[k] = append([]string(nil), v...)
	}
	return q
}

// groupRequest checks what groups.list and members.list share: the token
// and its scope, the quota, maxResults (at most 200), pageToken and fields.
// It writes the error and returns ok false when one fails.
func (s *Server) groupRequest(w http.ResponseWriter, r *http.Request, counter *int, scopes []string) (offset, max int, m mask, ok bool) {
	q := r.URL.Query()
	s.mu.Lock()
	*counter++
	s.lastGroupQuery = q
	s.mu.Unlock()
	if !s.authorize(w, r, scopes...) {
		return 0, 0, nil, false
	}
	max = GroupPageSize
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > GroupPageSize {
			writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "invalid",
				Message: fmt.Sprintf("Invalid value '%s'. Values must be within the range: [1, %d]", v, GroupPageSize)})
			return 0, 0, nil, false
		}
		max = n
	}
	offset, ok = decodePageToken(q.Get("pageToken"))
	if !ok {
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "invalid", Message: "Invalid Input: pageToken"})
		return 0, 0, nil, false
	}
	m, err := parseMask(q.Get("fields"))
	if err != nil {
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "invalidParameter", Message: "Invalid field selection " + q.Get("fields")})
		return 0, 0, nil, false
	}
	s.mu.Lock()
	f := s.takeFailure(offset/max + 1)
	s.mu.Unlock()
	if f != nil {
		writeGoogleError(w, *f)
		return 0, 0, nil, false
	}
	return offset, max, m, true
}

func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request) {
	offset, max, m, ok := s.groupRequest(w, r, &s.groupRequests, groupScopes)
	if !ok {
		return
	}
	q := r.URL.Query()
	customer, domain := q.Get("customer"), strings.ToLower(q.Get("domain"))
	s.mu.Lock()
	goodCustomer := customer == "my_customer" || customer == s.customerID
	groups := s.groups
	s.mu.Unlock()
	switch {
	case customer == "" && domain == "",
		customer != "" && !goodCustomer:
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "badRequest", Message: "Bad Request"})
		return
	case q.Get("userKey") != "":
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "invalid", Message: "the fake does not list groups by userKey"})
		return
	}
	match, err := parseGroupQuery(q.Get("query"))
	if err != nil {
		writeGoogleError(w, Failure{Status: http.StatusBadRequest, Reason: "invalid", Message: "Invalid Input: " + err.Error()})
		return
	}
	var items [][]byte
	n, next := 0, -1
	if groups != nil {
		n = groups.Len()
	}
	for i := offset; i < n; i++ {
		if len(items) == max {
			next = i
			break
		}
		g := groups.Group(i)
		if domain != "" && !strings.HasSuffix(strings.ToLower(g.Email), "@"+domain) {
			continue
		}
		if !match(g.Email, g.Name) {
			continue
		}
		b, err := renderItem(g, m, "groups")
		if err != nil {
			writeGoogleError(w, Failure{Status: http.StatusInternalServerError, Reason: "backendError", Message: err.Error()})
			return
		}
		items = append(items, b)
	}
	s.writeList(w, "admin#directory#groups", "groups", items, next, m)
}

func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request) {
	offset, max, m, ok := s.groupRequest(w, r, &s.memberRequests, memberScopes)
	if !ok {
		return
	}
	key := strings.ToLower(r.PathValue("groupKey"))
	s.mu.Lock()
	groups := s.groups
	i, found := s.groupIndex[key]
	s.mu.Unlock()
	if !found {
		writeGoogleError(w, Failure{Status: http.StatusNotFound, Reason: "notFound", Message: "Resource Not Found: groupKey"})
		return
	}
	q := r.URL.Query()
	var roles map[string]bool
	if v := q.Get("roles"); v != "" {
		roles = map[string]bool{}
		for _, role := range strings.Split(v, ",") {
			roles[strings.ToUpper(strings.TrimSpace(role))] = true
		}
	}
	// Direct members are read by position; derived membership is expanded
	// for this request only.
	count := groups.MemberCount(i)
	member := func(j int) *admin.Member { return groups.Member(i, j) }
	if q.Get("includeDerivedMembership") == "true" {
		all := derivedMembers(groups, s.groupIndexOf, i)
		count = len(all)
		member = func(j int) *admin.Member { return all[j] }
	}
	var items [][]byte
	next := -1
	for j := offset; j < count; j++ {
		if len(items) == max {
			next = j
			break
		}
		mem := member(j)
		if roles != nil && !roles[mem.Role] {
			continue
		}
		b, err := renderItem(mem, m, "members")
		if err != nil {
			writeGoogleError(w, Failure{Status: http.StatusInternalServerError, Reason: "backendError", Message: err.Error()})
			return
		}
		items = append(items, b)
	}
	s.writeList(w, "admin#directory#members", "members", items, next, m)
}

func (s *Server) groupIndexOf(key string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.groupIndex[strings.ToLower(key)]
	return i, ok
}

// renderItem marshals one group or member under the list's fields mask.
// A masked member skips the JSON round trip: it is the hot path of a
// members listing.
func renderItem(v any, m mask, list string) ([]byte, error) {
	var sub mask
	if m != nil {
		sub = m[list]
	}
	if mem, ok := v.(*admin.Member); ok && sub != nil {
		all := map[string]string{"kind": mem.Kind, "etag": mem.Etag, "id": mem.Id, "email": mem.Email,
			"role": mem.Role, "type": mem.Type, "status": mem.Status, "delivery_settings": mem.DeliverySettings}
		out := make(map[string]string, len(sub))
		for k := range sub {
			if all[k] != "" {
				out[k] = all[k]
			}
		}
		return json.Marshal(out)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %s item: %w", list, err)
	}
	if sub == nil {
		return b, nil
	}
	var d any
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("unmarshal %s item: %w", list, err)
	}
	return json.Marshal(sub.apply(d))
}

// writeList writes a groups.list or members.list page: kind, etag, the items
// and nextPageToken (next < 0: last page), each only if the mask keeps it.
func (s *Server) writeList(w http.ResponseWriter, kind, list string, items [][]byte, next int, m mask) {
	keep := func(k string) bool {
		if m == nil {
			return true
		}
		_, ok := m[k]
		return ok
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	sep := func() {
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
	}
	if keep("kind") {
		sep()
		fmt.Fprintf(&buf, `"kind":%q`, kind)
	}
	if keep("etag") {
		sep()
		fmt.Fprintf(&buf, `"etag":"\"fake-%s-%d\""`, list, next)
	}
	if keep(list) && len(items) > 0 {
		sep()
		fmt.Fprintf(&buf, "%q:[", list)
		buf.Write(bytes.Join(items, []byte{','}))
		buf.WriteByte(']')
	}
	if keep("nextPageToken") && next >= 0 {
		sep()
		fmt.Fprintf(&buf, `"nextPageToken":%q`, encodePageToken(next))
	}
	buf.WriteByte('}')
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Write(buf.Bytes())
}
