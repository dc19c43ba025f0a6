package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/configs"
)

// table is every route of the API: OpenAPI's paths, one for one.
func (s *Server) table() []route {
	const (
		read   = admin.ReadProvisioning
		change = admin.ChangeProvisioning
		orgs   = admin.ManageOrganizations
		// directory reads users and groups: every role.
		directory = admin.ReadDirectory
	)
	return []route{
		{"GET", "/orgs", orgs, s.listOrgs},
		{"POST", "/orgs", orgs, s.createOrg},
		{"GET", "/orgs/{slug}", Everyone, s.getOrg},
		{"PATCH", "/orgs/{slug}", change, s.patchOrg},
		{"DELETE", "/orgs/{slug}", orgs, s.deleteOrg},

		{"GET", "/orgs/{slug}/scim", read, s.scimStatus},
		{"POST", "/orgs/{slug}/scim", change, s.scimEnable},
		{"POST", "/orgs/{slug}/scim/token", change, s.scimRegenerate},
		{"DELETE", "/orgs/{slug}/scim", change, s.scimDelete},

		{"GET", "/orgs/{slug}/bridge/google", read, s.bridgeStatus},
		{"PUT", "/orgs/{slug}/bridge/google", change, s.bridgeSet},
		{"DELETE", "/orgs/{slug}/bridge/google", change, s.bridgeDisconnect},
		{"POST", "/orgs/{slug}/bridge/google/run", change, s.bridgeRun(false)},
		{"POST", "/orgs/{slug}/bridge/google/dry-run", change, s.bridgeRun(true)},
		{"POST", "/orgs/{slug}/profiles/release", change, s.releaseProfiles},

		{"GET", "/orgs/{slug}/events", read, s.listEvents},
		{"GET", "/orgs/{slug}/events.csv", read, s.exportEvents},
		{"GET", "/orgs/{slug}/events/{id}", read, s.getEvent},

		{"GET", "/orgs/{slug}/users", directory, s.listUsers},
		{"GET", "/orgs/{slug}/groups", directory, s.listGroups},
		{"POST", "/orgs/{slug}/users/{id}/erase", change, s.eraseUser},

		{"GET", "/orgs/{slug}/reports", read, s.listReports},
		{"GET", "/orgs/{slug}/reports/{id}", read, s.getReport},
		{"GET", "/orgs/{slug}/reports/{id}/items", read, s.reportItems},
		{"POST", "/orgs/{slug}/reports/{id}/approve", change, s.approveReport},
		{"POST", "/orgs/{slug}/reports/{id}/discard", change, s.discardReport},

		{"GET", "/orgs/{slug}/admin-tokens", read, s.listTokens},
		{"POST", "/orgs/{slug}/admin-tokens", change, s.createToken},
		{"DELETE", "/orgs/{slug}/admin-tokens/{id}", change, s.revokeToken},
	}
}

// Organizations.

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, after, err := page(r, "org")
	if err != nil {
		return err
	}
	all, err := s.store.Organizations(r.Context())
	if err != nil {
		return err
	}
	out, err := offsetPage(all, "org", after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Slug string `json:"slug"`
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	org, err := s.admin.CreateOrg(r.Context(), c.by, in.Slug, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, org)
	return nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, http.StatusOK, c.org)
	return nil
}

func (s *Server) patchOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	var in admin.OrgChange
	if err := decode(r, &in); err != nil {
		return err
	}
	org, err := s.admin.SetOrg(r.Context(), c.by, c.org.Slug, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, org)
	return nil
}

// SCIM configuration.

// scimStatus is the SCIM configuration without its token.
type scimStatus struct {
	Enabled    bool       `json:"enabled"`
	BaseURL    string     `json:"base_url"`
	CreatedAt  *time.Time `json:"created_at,omitempty"`
	RotatedAt  *time.Time `json:"rotated_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

func (s *Server) scimStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	sc, ok, err := s.admin.SCIMConfig(r.Context(), c.org)
	if err != nil {
		return err
	}
	st := scimStatus{Enabled: ok, BaseURL: s.scimURL}
	if ok {
		created := sc.CreatedAt
		st.CreatedAt, st.RotatedAt, st.LastUsedAt = &created, sc.RotatedAt, sc.LastUsedAt
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// scimToken is the reply to enable and regenerate: the only time the
// token is shown.
type scimToken struct {
	BaseURL string `json:"base_url"`
	Token   string `json:"token"`
}

func (s *Server) scimEnable(w http.ResponseWriter, r *http.Request, c *call) error {
	token, err := s.admin.EnableSCIM(r.Context(), c.by, c.org.Slug)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, scimToken{BaseURL: s.scimURL, Token: token})
	return nil
}

func (s *Server) scimRegenerate(w http.ResponseWriter, r *http.Request, c *call) error {
	token, err := s.admin.RegenerateSCIMToken(r.Context(), c.by, c.org.Slug)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, scimToken{BaseURL: s.scimURL, Token: token})
	return nil
}

func (s *Server) scimDelete(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.admin.DisableSCIM(r.Context(), c.by, c.org.Slug); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// The Google bridge.

func (s *Server) bridgeStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := s.admin.GoogleBridgeStatus(r.Context(), c.org)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// bridgeIn is the body of PUT /bridge/google: absent members keep their
// value. A key or refresh token may be given as a JSON object or as a
// string holding one.
type bridgeIn struct {
	ServiceAccountKey json.RawMessage        `json:"service_account_key,omitempty"`
	AdminEmail        string                 `json:"admin_email,omitempty"`
	OAuthRefreshToken json.RawMessage        `json:"oauth_refresh_token,omitempty"`
	Customer          *string                `json:"customer,omitempty"`
	Domains           *[]string              `json:"domains,omitempty"`
	OrgUnits          *[]string              `json:"org_units,omitempty"`
	ExcludedUsers     *[]string              `json:"excluded_users,omitempty"`
	AddExcluded       []string               `json:"add_excluded,omitempty"`
	RemoveExcluded    []string               `json:"remove_excluded,omitempty"`
	Mode              *scimbridge.BridgeMode `json:"mode,omitempty"`
	Schedule          *string                `json:"schedule,omitempty"`
	Guard             *bool                  `json:"guard,omitempty"`
	Hold              *scimbridge.HoldPolicy `json:"hold,omitempty"`
	IncludeGuests     *bool                  `json:"include_guests,omitempty"`
}

// secretJSON is a credential member: an object as is, a string's content.
func secretJSON(name string, raw json.RawMessage) ([]byte, error) {
	t := strings.TrimSpace(string(raw))
	switch {
	case t == "" || t == "null":
		return nil, nil
	case strings.HasPrefix(t, "{"):
		return []byte(t), nil
	case strings.HasPrefix(t, `"`):
		var s string
		if err := json.Unmarshal(raw, &s); err == nil && strings.TrimSpace(s) != "" {
			return []byte(s), nil
		}
	}
	return nil, scimbridge.Errorf(scimbridge.EINVALID, "%s must be a JSON object (the file's content) or a string holding it", name)
}

func (s *Server) bridgeSet(w http.ResponseWriter, r *http.Request, c *call) error {
	var in bridgeIn
	if err := decode(r, &in); err != nil {
		return err
	}
	ch := admin.BridgeChange{AdminEmail: in.AdminEmail, Customer: in.Customer, Domains: in.Domains, OrgUnits: in.OrgUnits,
		ExcludedUsers: in.ExcludedUsers, AddExcluded: in.AddExcluded, RemoveExcluded: in.RemoveExcluded, Mode: in.Mode,
		Schedule: in.Schedule, Guard: in.Guard, Hold: in.Hold, IncludeGuests: in.IncludeGuests}
	var err error
	if ch.ServiceAccountKey, err = secretJSON("service_account_key", in.ServiceAccountKey); err != nil {
		return err
	}
	if ch.OAuthRefreshToken, err = secretJSON("oauth_refresh_token", in.OAuthRefreshToken); err != nil {
		return err
	}
	_, readErr := s.store.Bridge(r.Context(), c.org.ID)
	connected := scimbridge.ErrorCode(readErr) == scimbridge.ENOTFOUND // a new bridge
	if _, err := s.admin.SetGoogleBridge(r.Context(), c.by, c.org.Slug, ch); err != nil {
		return err
	}
	st, err := s.admin.GoogleBridgeStatus(r.Context(), c.org)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if connected {
		status = http.StatusCreated
	}
	writeJSON(w, status, st)
	return nil
}

func (s *Server) bridgeDisconnect(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.admin.DisconnectGoogleBridge(r.Context(), c.by, c.org.Slug); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// runOut is the reply of a bridge run or an approval: its report, and the
// error that ended it, if any.
type runOut struct {
	Report scimbridge.Report `json:"report"`
	Error  string            `json:"error,omitempty"`
}

func (s *Server) bridgeRun(dryRun bool) func(http.ResponseWriter, *http.Request, *call) error {
	return func(w http.ResponseWriter, r *http.Request, c *call) error {
		rep, err := s.admin.RunGoogleBridge(r.Context(), c.by, c.org.Slug, dryRun)
		return s.writeRun(w, rep, err)
	}
}

// writeRun answers a run that started with its report (200, its error
// said in it); a run that could not start is the error.
func (s *Server) writeRun(w http.ResponseWriter, rep scimbridge.Report, err error) error {
	if rep.ID == "" {
		if err == nil {
			err = errors.New("run ended without a report")
		}
		return err
	}
	out := runOut{Report: rep}
	if err != nil {
		out.Error = scimbridge.ErrorMessage(err)
		if scimbridge.ErrorCode(err) == scimbridge.EINTERNAL {
			out.Error = rep.Error
		}
	}
	if len(out.Report.Items) > 0 {
		out.Report.Items = nil // paged at /reports/{id}/items
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) releaseProfiles(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Source scimbridge.Source `json:"source"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	n, err := s.admin.ReleaseProfiles(r.Context(), c.by, c.org.Slug, in.Source)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"source": in.Source, "released": n})
	return nil
}

// Events.

// eventOut is an event as the API shows it: its duration in milliseconds.
type eventOut struct {
	scimbridge.Event
	Duration   *struct{} `json:"duration,omitempty"`
	DurationMS float64   `json:"duration_ms"`
}

func toEventOut(e scimbridge.Event) eventOut {
	return eventOut{Event: e, DurationMS: float64(e.Duration.Round(time.Microsecond)) / float64(time.Millisecond)}
}

// eventQuery reads the events list's filters: those of events list, and
// path (a prefix of the path).
func eventQuery(r *http.Request, now time.Time) (admin.EventQuery, error) {
	q := r.URL.Query()
	var eq admin.EventQuery
	switch st := strings.ToLower(q.Get("status")); st {
	case "":
	case "2xx", "4xx", "5xx":
		eq.StatusClass = int(st[0] - '0')
	default:
		return eq, scimbridge.Errorf(scimbridge.EINVALID, "invalid status %q: use 2xx, 4xx or 5xx", q.Get("status"))
	}
	if m := q.Get("method"); m != "" {
		if len(m) > 16 || strings.ContainsFunc(m, func(c rune) bool { return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') }) {
			return eq, scimbridge.Errorf(scimbridge.EINVALID, "invalid method %q", m)
		}
		eq.Method = m
	}
	eq.UserName, eq.PathPrefix = q.Get("username"), q.Get("path")
	eq.Source = scimbridge.EventSource(q.Get("source"))
	var err error
	if eq.Since, err = parseTime("since", q.Get("since"), now); err != nil {
		return eq, err
	}
	if eq.Until, err = parseTime("until", q.Get("until"), now); err != nil {
		return eq, err
	}
	return eq, nil
}

// parseTime reads a time as RFC 3339, a date (midnight UTC) or an age
// ("24h", "7d") before now, as the CLI's --since does.
func parseTime(name, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := configs.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d.Duration()), nil
	}
	return time.Time{}, scimbridge.Errorf(scimbridge.EINVALID, "invalid %s %q: use an RFC 3339 time, a date like 2006-01-02 or an age like 24h or 7d", name, s)
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	q, err := eventQuery(r, s.admin.Clock())
	if err != nil {
		return err
	}
	q.Limit, q.After = limit, r.URL.Query().Get("after")
	p, err := s.admin.Events(r.Context(), c.org.Slug, q)
	if err != nil {
		return err
	}
	out := list[eventOut]{Data: make([]eventOut, len(p.Events)), Next: p.Next}
	for i, e := range p.Events {
		out.Data[i] = toEventOut(e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exportEvents writes every event the filters match as CSV, newest first,
// bodies included.
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request, c *call) error {
	q, err := eventQuery(r, s.admin.Clock())
	if err != nil {
		return err
	}
	// The filters are checked before the first byte is written: after
	// it, an error can only cut the export short.
	if _, err := s.admin.Events(r.Context(), c.org.Slug, admin.EventQuery{StatusClass: q.StatusClass, Method: q.Method,
		UserName: q.UserName, Source: q.Source, PathPrefix: q.PathPrefix, Since: q.Since, Until: q.Until, Limit: 1}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-events.csv"`, c.org.Slug))
	if err := s.admin.WriteEventsCSV(r.Context(), w, c.org.Slug, q); err != nil {
		s.logger.Warn("events export cut short", "org", c.org.Slug, "err", err)
	}
	return nil
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no event %q in organization %q", r.PathValue("id"), c.org.Slug)
	}
	e, err := s.admin.Event(r.Context(), c.org.Slug, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toEventOut(e))
	return nil
}

// The directory.

// directoryQuery reads the directory's filters: search, source, active,
// include_detached, limit and after.
func directoryQuery(r *http.Request) (admin.DirectoryQuery, error) {
	q := r.URL.Query()
	limit, err := pageLimit(r)
	if err != nil {
		return admin.DirectoryQuery{}, err
	}
	dq := admin.DirectoryQuery{Search: q.Get("search"), Source: scimbridge.Source(q.Get("source")), After: q.Get("after"), Limit: limit}
	if v := q.Get("active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return dq, scimbridge.Errorf(scimbridge.EINVALID, "invalid active %q: use true or false", v)
		}
		dq.Active = &b
	}
	if v := q.Get("include_detached"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return dq, scimbridge.Errorf(scimbridge.EINVALID, "invalid include_detached %q: use true or false", v)
		}
		dq.IncludeDetached = b
	}
	return dq, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c *call) error {
	return directoryPage(s, w, r, c, func(q admin.DirectoryQuery) ([]scimbridge.Profile, string, error) {
		p, err := s.admin.Users(r.Context(), c.org.Slug, q)
		return p.Users, p.Next, err
	})
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, c *call) error {
	return directoryPage(s, w, r, c, func(q admin.DirectoryQuery) ([]scimbridge.Group, string, error) {
		p, err := s.admin.Groups(r.Context(), c.org.Slug, q)
		return p.Groups, p.Next, err
	})
}

// directoryPage answers one page of the directory that read gives, with
// the snapshot cursor taken before it was read.
func directoryPage[T any](s *Server, w http.ResponseWriter, r *http.Request, c *call,
	read func(admin.DirectoryQuery) ([]T, string, error)) error {
	q, err := directoryQuery(r)
	if err != nil {
		return err
	}
	head, err := s.snapshotCursor(r, c)
	if err != nil {
		return err
	}
	data, next, err := read(q)
	if err != nil {
		return err
	}
	if data == nil {
		data = []T{}
	}
	writeJSON(w, http.StatusOK, snapshot[T]{list: list[T]{Data: data, Next: next}, Cursor: head})
	return nil
}

func (s *Server) eraseUser(w http.ResponseWriter, r *http.Request, c *call) error {
	out, err := s.admin.EraseProfile(r.Context(), c.by, c.org.Slug, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteOrg(w http.ResponseWriter, r *http.Request, c *call) error {
	if _, err := s.admin.DeleteOrganization(r.Context(), c.by, c.org.Slug); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Reports.

// maxReports bounds how far the report list pages.
const maxReports = 100_000

func (s *Server) listReports(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, after, err := page(r, "report")
	if err != nil {
		return err
	}
	off := 0
	if after != "" {
		if off, err = strconv.Atoi(after); err != nil || off < 0 || off > maxReports {
			return scimbridge.Errorf(scimbridge.EINVALID, "invalid after cursor: use the next of the previous page")
		}
	}
	reps, err := s.store.Reports(r.Context(), c.org.ID, off+limit+1)
	if err != nil {
		return err
	}
	out, err := offsetPage(reps, "report", after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) report(ctx context.Context, c *call, id string) (scimbridge.Report, error) {
	// Without its items: they are paged at /items.
	rep, err := s.store.ReportSummary(ctx, c.org.ID, id)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return rep, scimbridge.Errorf(scimbridge.ENOTFOUND, "no report %q in organization %q", id, c.org.Slug)
	}
	return rep, err
}

// reportOut is a report without its items (paged at /items), with its
// held plan while one waits.
type reportOut struct {
	scimbridge.Report
	Items    *struct{}        `json:"items,omitempty"`
	HeldPlan *bridge.HeldPlan `json:"held_plan,omitempty"`
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request, c *call) error {
	rep, err := s.report(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := reportOut{Report: rep}
	if hp, ok, err := bridge.PendingHeldPlan(r.Context(), s.store, c.org.ID, s.admin.Clock()); err != nil {
		return err
	} else if ok && hp.ReportID == rep.ID {
		out.HeldPlan = &hp
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// itemKinds are the kind filters of a report's items.
var itemKinds = []string{"create", "update", "adopt", "deactivate", "reactivate", "skip", "fail", "excluded"}

func (s *Server) reportItems(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	kind := r.URL.Query().Get("kind")
	if kind != "" && !contains(itemKinds, kind) {
		return scimbridge.Errorf(scimbridge.EINVALID, "invalid kind %q: use %s", kind, strings.Join(itemKinds, ", "))
	}
	p, err := s.admin.ReportItems(r.Context(), c.org.Slug, r.PathValue("id"), scimbridge.ChangeKind(kind), r.URL.Query().Get("after"), limit)
	if err != nil {
		return err
	}
	if p.Items == nil {
		p.Items = []scimbridge.ReportItemAt{}
	}
	writeJSON(w, http.StatusOK, list[scimbridge.ReportItemAt]{Data: p.Items, Next: p.Next})
	return nil
}

func contains(l []string, v string) bool {
	for _, s := range l {
		if s == v {
			return true
		}
	}
	return false
}

func (s *Server) approveReport(w http.ResponseWriter, r *http.Request, c *call) error {
	rep, err := s.admin.ApproveReport(r.Context(), c.by, c.org.Slug, r.PathValue("id"))
	return s.writeRun(w, rep, err)
}

func (s *Server) discardReport(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.admin.DiscardReport(r.Context(), c.by, c.org.Slug, r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"report_id": r.PathValue("id"), "discarded": true})
	return nil
}

// Admin tokens.

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, after, err := page(r, "token")
	if err != nil {
		return err
	}
	ts, err := s.admin.AdminTokens(r.Context(), c.org)
	if err != nil {
		return err
	}
	out, err := offsetPage(ts, "token", after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// tokenIn is the body of POST /admin-tokens.
type tokenIn struct {
	Role scimbridge.AdminRole `json:"role"`
	Name string               `json:"name"`
	// ExpiresIn is a duration like "12h" or "90d"; empty never expires.
	ExpiresIn string `json:"expires_in"`
}

// tokenOut is a new token: shown once, with its listing fields.
type tokenOut struct {
	scimbridge.AdminToken
	Token string `json:"token"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c *call) error {
	in := tokenIn{Role: scimbridge.AdminViewer}
	if err := decode(r, &in); err != nil {
		return err
	}
	spec := admin.TokenSpec{Role: in.Role, Name: in.Name}
	if in.ExpiresIn != "" {
		d, err := configs.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return scimbridge.Errorf(scimbridge.EINVALID, "invalid expires_in %q: use a positive duration like 12h or 90d", in.ExpiresIn)
		}
		spec.Expires = d.Duration()
	}
	token, t, err := s.admin.CreateToken(r.Context(), c.by, c.org.Slug, spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenOut{AdminToken: t, Token: token})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.admin.RevokeAdminToken(r.Context(), c.by, c.org.Slug, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
