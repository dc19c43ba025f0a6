package scimserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// maxPageBytes is the size at which a list response stops adding
// resources (PRODUCT.md: no page costs more memory than that).
const maxPageBytes = 8 << 20

// listEnvelope bounds what a list response adds after its head
// (schemas, totalResults, startIndex) around its resources.
const listEnvelope = len(`"itemsPerPage":1000,"Resources":[]}`)

// maxCount is the largest page (and the page size when count is absent),
// advertised as filter.maxResults.
const maxCount = 1000

// listResponse is the RFC 7644 §3.4.2 ListResponse. Resources is never
// nil, so it always renders as an array.
type listResponse struct {
	Schemas      []string          `json:"schemas"`
	TotalResults int               `json:"totalResults"`
	StartIndex   int               `json:"startIndex"`
	ItemsPerPage int               `json:"itemsPerPage"`
	Resources    []json.RawMessage `json:"Resources"`
}

// listParams are the query parameters of a listing, from the URL of a GET
// or the body of a POST .search.
type listParams struct {
	filter     string
	startIndex int // 1-based
	count      int
	sortBy     string
	descending bool
	attributes []string
	excluded   []string
}

// listFromQuery serves a GET listing (GET /Users, GET /Groups): its
// parameters come from the query string.
func (s *Server) listFromQuery(list func(http.ResponseWriter, *http.Request, listParams)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := listParamsFromQuery(r.URL.Query())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		list(w, r, p)
	}
}

// listFromSearch serves a POST .search listing: its parameters come from
// the SearchRequest body.
func (s *Server) listFromSearch(list func(http.ResponseWriter, *http.Request, listParams)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := jsonBody(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := listParamsFromSearch(body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		list(w, r, p)
	}
}

// listUsers answers one page of the organization's SCIM-managed,
// non-detached users.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p listParams) {
	ctx := r.Context()
	rec := recorderFrom(ctx)
	q, err := userQuery(rec.org.ID, p, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Filter != nil {
		rec.target = filterUserName(q.Filter)
	}
	page, err := s.store.ListProfiles(ctx, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	head := listHead(page.Total, p.startIndex)
	var res bytes.Buffer
	n, err := s.encodeUsers(ctx, &res, rec.org.ID, page, p, len(head)+listEnvelope)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeList(w, head, n, &res)
}

// userQuery is the store query of a users listing; anyType for a search
// over every resource type.
func userQuery(orgID string, p listParams, anyType bool) (scimbridge.ProfileQuery, error) {
	q := scimbridge.ProfileQuery{
		OrgID:      orgID,
		Sources:    []scimbridge.Source{scimbridge.SourceSCIM},
		SortBy:     p.sortBy,
		Descending: p.descending,
		AnyType:    anyType,
		Offset:     p.startIndex - 1,
		Limit:      p.count,
		// The store stops reading at the page's byte budget too, so a
		// page of large users is never loaded whole either.
		MaxBytes: maxPageBytes,
		// A page's users' groups are read only when one is a member.
		MarkGrouped: true,
	}
	if strings.TrimSpace(p.filter) != "" {
		f, err := scim.ParseFilter(p.filter)
		if err != nil {
			return q, err
		}
		q.Filter = f
	}
	return q, nil
}

// listHead is the start of a ListResponse, up to its itemsPerPage.
func listHead(total, startIndex int) []byte {
	return fmt.Appendf(nil, `{"schemas":[%q],"totalResults":%d,"startIndex":%d,`,
		scim.SchemaListResponse, total, startIndex)
}

// encodeUsers appends profiles as User resources to res, comma-separated
// after what res holds, and returns how many it added. Resources are
// encoded one by one, and res stops growing before used plus its length
// would pass maxPageBytes: a page of large users is cut short (itemsPerPage
// says how many it holds) rather than built whole. The page always holds
// at least one resource.
func (s *Server) encodeUsers(ctx context.Context, res *bytes.Buffer, orgID string, page scimbridge.ProfilePage, p listParams, used int) (int, error) {
	profiles := page.Profiles
	if len(profiles) == 0 {
		return 0, nil
	}
	resolve := s.newManagerResolver(orgID, profiles)
	var ids []string
	for _, prof := range profiles {
		if page.Grouped[prof.ID] {
			ids = append(ids, prof.ID)
		}
	}
	var groups map[string][]scimbridge.Group
	if len(ids) > 0 {
		var err error
		if groups, err = s.store.ProfilesGroups(ctx, orgID, ids); err != nil {
			return 0, fmt.Errorf("load user groups: %w", err)
		}
	}
	opts := scim.EncodeOptions{BaseURL: s.baseURL, Attributes: p.attributes, ExcludedAttributes: p.excluded}
	n := 0
	for _, prof := range profiles {
		mark := res.Len()
		if mark > 0 {
			res.WriteByte(',')
		}
		opts.Groups = s.groupRefs(groups[prof.ID])
		if err := encodeUserTo(ctx, res, prof, opts, resolve); err != nil {
			return 0, err
		}
		if mark > 0 && used+res.Len() > maxPageBytes {
			res.Truncate(mark)
			break
		}
		n++
		if n == 1 {
			// Room for the page at the first resource's size, so the body
			// is not copied as it grows.
			res.Grow(min(res.Len()*(len(profiles)-1), max(0, maxPageBytes-used-res.Len())))
		}
	}
	return n, nil
}

// writeList writes a ListResponse: head (listHead), itemsPerPage n and the
// resources in res.
func writeList(w http.ResponseWriter, head []byte, n int, res *bytes.Buffer) {
	items := fmt.Appendf(nil, `"itemsPerPage":%d,"Resources":[`, n)
	h := w.Header()
	h.Set("Content-Type", scimContentType)
	h.Set("Content-Length", strconv.Itoa(len(head)+len(items)+res.Len()+2))
	w.WriteHeader(http.StatusOK)
	for _, part := range [][]byte{head, items, res.Bytes(), []byte("]}")} {
		if _, err := w.Write(part); err != nil {
			return // the client went away; the event records the status
		}
	}
}

// filterUserName returns the userName a filter of the form userName eq
// "x" looks for (an IdP's lookup before a create), for the event's target.
func filterUserName(f scimbridge.Filter) string {
	c, ok := f.(scimbridge.CompareFilter)
	if !ok || c.Op != scimbridge.OpEq {
		return ""
	}
	attr := c.Attr
	if i := strings.LastIndexByte(attr, ':'); i >= 0 {
		attr = attr[i+1:]
	}
	if v, ok := c.Value.(string); ok && strings.EqualFold(attr, "userName") {
		return v
	}
	return ""
}

// listParamsFromQuery reads filter, startIndex, count, sortBy, sortOrder,
// attributes and excludedAttributes (names compared case-insensitively).
func listParamsFromQuery(q url.Values) (listParams, error) {
	get := func(name string) (string, bool) {
		for k, v := range q {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0], true
			}
		}
		return "", false
	}
	p := listParams{startIndex: 1, count: maxCount}
	p.filter, _ = get("filter")
	if v, ok := get("startIndex"); ok {
		n, err := parseInt("startIndex", v)
		if err != nil {
			return p, err
		}
		p.startIndex = clampStartIndex(n)
	}
	if v, ok := get("count"); ok {
		n, err := parseInt("count", v)
		if err != nil {
			return p, err
		}
		p.count = clampCount(n)
	}
	p.sortBy, _ = get("sortBy")
	if v, ok := get("sortOrder"); ok {
		d, err := parseSortOrder(v)
		if err != nil {
			return p, err
		}
		p.descending = d
	}
	if v, ok := get("attributes"); ok {
		p.attributes = scim.ParseAttributeList(v)
	}
	if v, ok := get("excludedAttributes"); ok {
		p.excluded = scim.ParseAttributeList(v)
	}
	return p, nil
}

// listParamsFromSearch reads a SearchRequest body (RFC 7644 §3.4.3).
func listParamsFromSearch(body []byte) (listParams, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return listParams{}, scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidSyntax", "request body is not a JSON object")
	}
	p := listParams{startIndex: 1, count: maxCount}
	for k, v := range raw {
		var err error
		switch strings.ToLower(k) {
		case "filter":
			err = unmarshalField(k, v, &p.filter)
		case "sortby":
			err = unmarshalField(k, v, &p.sortBy)
		case "sortorder":
			var o string
			if err = unmarshalField(k, v, &o); err == nil && o != "" {
				p.descending, err = parseSortOrder(o)
			}
		case "startindex":
			var n *int64
			if err = unmarshalField(k, v, &n); err == nil && n != nil {
				p.startIndex = clampStartIndex(*n)
			}
		case "count":
			var n *int64
			if err = unmarshalField(k, v, &n); err == nil && n != nil {
				p.count = clampCount(*n)
			}
		case "attributes":
			p.attributes, err = attributeList(k, v)
		case "excludedattributes":
			p.excluded, err = attributeList(k, v)
		}
		if err != nil {
			return listParams{}, err
		}
	}
	return p, nil
}

// unmarshalField decodes one member; null leaves dst unchanged.
func unmarshalField(name string, v json.RawMessage, dst any) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "%s has the wrong type", name)
	}
	return nil
}

// attributeList accepts an array of attribute names or one comma-separated
// string.
func attributeList(name string, v json.RawMessage) ([]string, error) {
	var list []string
	if err := json.Unmarshal(v, &list); err == nil {
		return scim.ParseAttributeList(strings.Join(list, ",")), nil
	}
	var one string
	if err := json.Unmarshal(v, &one); err == nil {
		return scim.ParseAttributeList(one), nil
	}
	return nil, scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "%s must be a list of attribute names", name)
}

func parseInt(name, v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "%s must be an integer", name)
	}
	return n, nil
}

// clampStartIndex: a startIndex below 1 is 1 (RFC 7644 §3.4.2.4).
func clampStartIndex(n int64) int {
	return int(max(1, min(n, 1<<31-1)))
}

// clampCount: negative is 0, above maxCount is maxCount.
func clampCount(n int64) int {
	return int(max(0, min(n, maxCount)))
}

func parseSortOrder(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "ascending":
		return false, nil
	case "descending":
		return true, nil
	}
	return false, scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "sortOrder must be ascending or descending")
}
