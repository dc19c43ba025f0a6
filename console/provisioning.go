package console

import (
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

// overviewData is the overview page: SCIM, the bridge, the held plan and
// the last day's events per hour.
type overviewData struct {
	SCIM        scimbridge.SCIMConfig
	SCIMEnabled bool
	Bridge      *scimbridge.Bridge
	Chart       chart
	Events24h   map[int]int
	// CountedAt is when the chart's counts were counted (up to chartTTL
	// and a count ago).
	CountedAt time.Time
}

func (s *Server) heldBanner(r *http.Request, orgID string) (*heldBanner, error) {
	hp, ok, err := bridge.PendingHeldPlan(r.Context(), s.cfg.Store, orgID, s.cfg.Clock())
	if err != nil || !ok || hp.Expired {
		return nil, err
	}
	return &heldBanner{ReportID: hp.ReportID, Changes: hp.Changes, Reason: hp.Reason}, nil
}

// bridgeOf returns the organization's bridge, nil when it has none.
func (s *Server) bridgeOf(r *http.Request, orgID string) (*scimbridge.Bridge, error) {
	b, err := s.cfg.Store.Bridge(r.Context(), orgID)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &b, nil
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request, q *request) {
	v := s.newView(r, q, "Overview", "overview")
	org := q.sess.Org
	d := overviewData{}
	var err error
	if d.SCIM, d.SCIMEnabled, err = s.cfg.Admin.SCIMConfig(r.Context(), org); err != nil {
		s.serverError(w, r, q, err)
		return
	}
	if d.Bridge, err = s.bridgeOf(r, org.ID); err != nil {
		s.serverError(w, r, q, err)
		return
	}
	if v.HeldBanner, err = s.heldBanner(r, org.ID); err != nil {
		s.serverError(w, r, q, err)
		return
	}
	now := s.cfg.Clock()
	since := now.Truncate(time.Hour).Add(-23 * time.Hour)
	counts, countedAt, err := s.hours.get(r.Context(), s.cfg.Store, org.ID, since, 24, now)
	if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	d.Chart = hourlyChart(since, 24, counts)
	d.CountedAt = countedAt
	d.Events24h = map[int]int{}
	for _, c := range counts {
		d.Events24h[c.StatusClass] += c.Count
	}
	v.Data = d
	s.render(w, r, http.StatusOK, "overview", v)
}

// provisioningData is Settings → Security → Provisioning.
type provisioningData struct {
	EndpointURL string
	SCIM        scimbridge.SCIMConfig
	Enabled     bool
	// Confirm is "regenerate" or "delete" on their confirmation pages.
	Confirm string
}

func (s *Server) provisioningView(w http.ResponseWriter, r *http.Request, q *request) (*view, *provisioningData, bool) {
	v := s.newView(r, q, "Provisioning", "provisioning")
	v.Tab = "scim"
	d := &provisioningData{EndpointURL: s.scimURL()}
	var err error
	if d.SCIM, d.Enabled, err = s.cfg.Admin.SCIMConfig(r.Context(), q.sess.Org); err != nil {
		s.serverError(w, r, q, err)
		return nil, nil, false
	}
	v.Data = d
	return v, d, true
}

func (s *Server) provisioning(w http.ResponseWriter, r *http.Request, q *request) {
	if v, _, ok := s.provisioningView(w, r, q); ok {
		s.render(w, r, http.StatusOK, "provisioning", v)
	}
}

func (s *Server) confirmRegenerate(w http.ResponseWriter, r *http.Request, q *request) {
	s.confirm(w, r, q, "regenerate")
}

func (s *Server) confirmDelete(w http.ResponseWriter, r *http.Request, q *request) {
	s.confirm(w, r, q, "delete")
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request, q *request, what string) {
	v, d, ok := s.provisioningView(w, r, q)
	if !ok {
		return
	}
	if !d.Enabled {
		redirect(w, r, Prefix+"/provisioning", "SCIM is not enabled.")
		return
	}
	d.Confirm = what
	s.render(w, r, http.StatusOK, "confirm", v)
}

func (s *Server) enableSCIM(w http.ResponseWriter, r *http.Request, q *request) {
	token, err := s.cfg.Admin.EnableSCIM(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug)
	if err != nil {
		s.opError(w, r, q, err)
		return
	}
	s.showToken(w, r, q, token, "SCIM is enabled. Copy the token now and paste it into your identity provider with the endpoint URL: it is shown only once.")
}

func (s *Server) regenerateToken(w http.ResponseWriter, r *http.Request, q *request) {
	token, err := s.cfg.Admin.RegenerateSCIMToken(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug)
	if err != nil {
		s.opError(w, r, q, err)
		return
	}
	s.showToken(w, r, q, token, "The token was regenerated: the old one no longer works. Copy the new one into your identity provider now: it is shown only once.")
}

// showToken renders the Provisioning page with the token shown once (the
// reply to the POST: it is never stored to be shown again).
func (s *Server) showToken(w http.ResponseWriter, r *http.Request, q *request, token, notice string) {
	v, _, ok := s.provisioningView(w, r, q)
	if !ok {
		return
	}
	v.Secret, v.SecretLabel, v.Notice = token, "SCIM token", notice
	s.render(w, r, http.StatusOK, "provisioning", v)
}

func (s *Server) deleteConfig(w http.ResponseWriter, r *http.Request, q *request) {
	if err := s.cfg.Admin.DisableSCIM(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug); err != nil {
		s.opError(w, r, q, err)
		return
	}
	redirect(w, r, Prefix+"/provisioning", "The SCIM configuration was deleted. SCIM users stay but no longer sync.")
}
