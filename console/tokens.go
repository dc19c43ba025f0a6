package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// tokensData is the admin tokens page, with the setup links.
type tokensData struct {
	Tokens     []scimbridge.AdminToken
	Links      []scimbridge.SetupLink
	SetupURL   string
	LinkExpiry time.Duration
}

func (s *Server) tokensView(w http.ResponseWriter, r *http.Request, q *request) (*view, bool) {
	v := s.newView(r, q, "Admin tokens", "tokens")
	d := &tokensData{}
	var err error
	if d.Tokens, err = s.cfg.Store.AdminTokens(r.Context(), q.sess.Org.ID); err != nil {
		s.serverError(w, r, q, err)
		return nil, false
	}
	if d.Links, err = s.cfg.Store.SetupLinks(r.Context(), q.sess.Org.ID); err != nil {
		s.serverError(w, r, q, err)
		return nil, false
	}
	v.Data = d
	return v, true
}

func (s *Server) adminTokens(w http.ResponseWriter, r *http.Request, q *request) {
	if v, ok := s.tokensView(w, r, q); ok {
		s.render(w, r, http.StatusOK, "tokens", v)
	}
}

// parseExpiry reads an expiry such as 24h, 7d or 90d; empty is 0.
func parseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "never" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := time.ParseDuration(n + "h")
		if err == nil && d > 0 {
			return d * 24, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, scimbridge.Errorf(scimbridge.EINVALID, "invalid expiry %q: use hours or days, like 24h or 7d", s)
}

func (s *Server) createAdminToken(w http.ResponseWriter, r *http.Request, q *request) {
	if q.linkSession() {
		s.errorPage(w, r, q, http.StatusForbidden, "A session signed in by a setup link cannot create admin tokens.")
		return
	}
	ttl, err := parseExpiry(r.PostFormValue("expires"))
	if err != nil {
		s.opError(w, r, q, err)
		return
	}
	token, _, err := s.cfg.Admin.CreateAdminToken(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug,
		scimbridge.AdminRole(r.PostFormValue("role")), ttl)
	if err != nil {
		s.opError(w, r, q, err)
		return
	}
	v, ok := s.tokensView(w, r, q)
	if !ok {
		return
	}
	v.Secret, v.SecretLabel = token, "Admin token"
	v.Notice = "The admin token was created. Copy it now: it is shown only once."
	s.render(w, r, http.StatusOK, "tokens", v)
}

func (s *Server) revokeAdminToken(w http.ResponseWriter, r *http.Request, q *request) {
	if err := s.cfg.Admin.RevokeAdminToken(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, r.PathValue("id")); err != nil {
		s.opError(w, r, q, err)
		return
	}
	redirect(w, r, Prefix+"/admin-tokens", "The admin token was revoked; its console sessions have ended.")
}

func (s *Server) createSetupLink(w http.ResponseWriter, r *http.Request, q *request) {
	ttl, err := parseExpiry(r.PostFormValue("expires"))
	if err != nil {
		s.opError(w, r, q, err)
		return
	}
	token, _, err := s.cfg.Admin.CreateSetupLink(r.Context(), s.caller(r, &q.sess), q.sess.Principal, q.sess.Org.Slug,
		scimbridge.AdminRole(r.PostFormValue("role")), ttl)
	if err != nil {
		s.opError(w, r, q, err)
		return
	}
	v, ok := s.tokensView(w, r, q)
	if !ok {
		return
	}
	v.Secret, v.SecretLabel = s.setupURL(r, token), "Setup link"
	v.Notice = "The setup link was created. Copy it now and send it to the IT admin: it is shown only once and works once."
	s.render(w, r, http.StatusOK, "tokens", v)
}

// setupURL is the URL of a setup link.
func (s *Server) setupURL(_ *http.Request, token string) string {
	return s.cfg.PublicURL + Prefix + "/setup/" + token
}

func (s *Server) revokeSetupLink(w http.ResponseWriter, r *http.Request, q *request) {
	if err := s.cfg.Admin.RevokeSetupLink(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, r.PathValue("id")); err != nil {
		s.opError(w, r, q, err)
		return
	}
	redirect(w, r, Prefix+"/admin-tokens", "The setup link was revoked; its console sessions have ended.")
}
