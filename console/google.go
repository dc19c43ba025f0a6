package console

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
)

// googleData is Settings → Integrations → Google Workspace and the
// Provisioning page's Bridge tab.
type googleData struct {
	// OAuth says the operator configured an OAuth client: "Connect Google
	// Workspace" then goes through Google's consent page.
	OAuth    bool
	Bridge   *scimbridge.Bridge
	Schedule string
	Reports  []scimbridge.Report
}

func (s *Server) googleView(w http.ResponseWriter, r *http.Request, q *request, title, nav string) (*view, *googleData, bool) {
	v := s.newView(r, q, title, nav)
	d := &googleData{OAuth: s.cfg.Admin.GoogleOAuthConfigured()}
	var err error
	if d.Bridge, err = s.bridgeOf(r, q.sess.Org.ID); err != nil {
		s.serverError(w, r, q, err)
		return nil, nil, false
	}
	if d.Bridge != nil {
		d.Schedule = d.Bridge.Settings.Schedule
		if d.Schedule == "" {
			d.Schedule = bridge.DefaultSchedule(d.Bridge.OrgID) + " (default)"
		}
	}
	v.Data = d
	return v, d, true
}

func (s *Server) google(w http.ResponseWriter, r *http.Request, q *request) {
	if v, _, ok := s.googleView(w, r, q, "Google Workspace", "google"); ok {
		s.render(w, r, http.StatusOK, "google", v)
	}
}

func (s *Server) bridgeTab(w http.ResponseWriter, r *http.Request, q *request) {
	v, d, ok := s.googleView(w, r, q, "Provisioning", "provisioning")
	if !ok {
		return
	}
	v.Tab = "bridge"
	var err error
	if v.HeldBanner, err = s.heldBanner(r, q.sess.Org.ID); err != nil {
		s.serverError(w, r, q, err)
		return
	}
	if d.Reports, err = s.cfg.Store.Reports(r.Context(), q.sess.Org.ID, 5); err != nil {
		s.serverError(w, r, q, err)
		return
	}
	s.render(w, r, http.StatusOK, "bridge", v)
}

// googleError shows what SetGoogleBridge refused on the Google Workspace
// page: bad input and credentials that do not work are the admin's to fix.
func (s *Server) googleError(w http.ResponseWriter, r *http.Request, q *request, err error, nav string) {
	v, _, ok := s.googleView(w, r, q, "Google Workspace", nav)
	if !ok {
		return
	}
	status := errStatus(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		if !strings.Contains(msg, "credentials") {
			s.serverError(w, r, q, err)
			return
		}
		status = http.StatusUnprocessableEntity
	}
	v.Error = msg
	if nav == "provisioning" {
		v.Tab = "bridge"
		s.render(w, r, status, "bridge", v)
		return
	}
	s.render(w, r, status, "google", v)
}

func (s *Server) connectGoogle(w http.ResponseWriter, r *http.Request, q *request) {
	var ch admin.BridgeChange
	ch.AdminEmail = strings.TrimSpace(r.PostFormValue("admin_email"))
	f, _, err := r.FormFile("key")
	switch {
	case err == nil:
		defer f.Close()
		if ch.ServiceAccountKey, err = io.ReadAll(io.LimitReader(f, maxForm)); err != nil {
			s.googleError(w, r, q, scimbridge.Errorf(scimbridge.EINVALID, "read the key file: %v", err), "google")
			return
		}
	case errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart):
		ch.ServiceAccountKey = []byte(strings.TrimSpace(r.PostFormValue("key_json")))
	default:
		s.googleError(w, r, q, scimbridge.Errorf(scimbridge.EINVALID, "read the key file: %v", err), "google")
		return
	}
	if len(ch.ServiceAccountKey) == 0 {
		s.googleError(w, r, q, scimbridge.Errorf(scimbridge.EINVALID,
			"choose the service account's JSON key file (or paste it) and give the admin email it impersonates"), "google")
		return
	}
	// A key or an email that cannot be right is the admin's mistake.
	if _, err := bridge.ParseServiceAccount(ch.ServiceAccountKey, ch.AdminEmail, s.cfg.Admin.Google.TokenURL); err != nil {
		s.googleError(w, r, q, scimbridge.Errorf(scimbridge.EINVALID, "%s", err.Error()), "google")
		return
	}
	if _, err := s.cfg.Admin.SetGoogleBridge(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, ch); err != nil {
		s.googleError(w, r, q, err, "google")
		return
	}
	redirect(w, r, Prefix+"/integrations/google", "Google Workspace is connected: the credentials work. The bridge runs soon; Run now or Dry run on the Bridge tab.")
}

func (s *Server) googleSettings(w http.ResponseWriter, r *http.Request, q *request) {
	var ch admin.BridgeChange
	f := r.PostForm
	str := func(name string) *string {
		if !f.Has(name) {
			return nil
		}
		v := strings.TrimSpace(f.Get(name))
		return &v
	}
	list := func(name string) *[]string {
		p := str(name)
		if p == nil {
			return nil
		}
		out := []string{}
		for _, v := range strings.FieldsFunc(*p, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return &out
	}
	ch.Customer, ch.Schedule = str("customer"), str("schedule")
	ch.Domains, ch.OrgUnits = list("domains"), list("org_units")
	if m := str("mode"); m != nil {
		ch.Mode = (*scimbridge.BridgeMode)(m)
	}
	if h := str("hold"); h != nil {
		ch.Hold = (*scimbridge.HoldPolicy)(h)
	}
	if f.Has("settings") { // checkboxes are absent when unchecked
		guard, guests := f.Get("guard") == "on", f.Get("include_guests") == "on"
		ch.Guard, ch.IncludeGuests = &guard, &guests
	}
	if _, err := s.cfg.Admin.SetGoogleBridge(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, ch); err != nil {
		s.googleError(w, r, q, err, "google")
		return
	}
	redirect(w, r, Prefix+"/integrations/google", "Settings saved.")
}

func (s *Server) addExcluded(w http.ResponseWriter, r *http.Request, q *request) {
	user := strings.TrimSpace(r.PostFormValue("username"))
	if user == "" {
		s.googleError(w, r, q, scimbridge.Errorf(scimbridge.EINVALID, "give the username (primary email or alias) to exclude"), "provisioning")
		return
	}
	ch := admin.BridgeChange{AddExcluded: []string{user}}
	if _, err := s.cfg.Admin.SetGoogleBridge(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, ch); err != nil {
		s.googleError(w, r, q, err, "provisioning")
		return
	}
	redirect(w, r, Prefix+"/provisioning/bridge", user+" is excluded: the bridge no longer syncs it.")
}

func (s *Server) removeExcluded(w http.ResponseWriter, r *http.Request, q *request) {
	user := strings.TrimSpace(r.PostFormValue("username"))
	ch := admin.BridgeChange{RemoveExcluded: []string{user}}
	if _, err := s.cfg.Admin.SetGoogleBridge(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, ch); err != nil {
		s.googleError(w, r, q, err, "provisioning")
		return
	}
	redirect(w, r, Prefix+"/provisioning/bridge", user+" is no longer excluded.")
}

func (s *Server) runBridge(w http.ResponseWriter, r *http.Request, q *request) {
	dry := r.PostFormValue("dry_run") == "1"
	rep, err := s.cfg.Admin.RunGoogleBridge(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, dry)
	if rep.ID != "" {
		// The run happened, failed or not: its report says what it did.
		redirect(w, r, Prefix+"/reports/"+rep.ID, "")
		return
	}
	if err != nil {
		s.googleError(w, r, q, err, "provisioning")
		return
	}
	redirect(w, r, Prefix+"/provisioning/bridge", "")
}
