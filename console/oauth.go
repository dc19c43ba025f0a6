package console

import (
	"net/http"

	"github.com/scimbridge/scimbridge"
)

// The OAuth flow of "Connect Google Workspace": the operator configured an
// OAuth client; the admin grants the bridge read access at Google, which
// sends them back to the callback with a code the daemon exchanges for a
// refresh token, sealed like other credentials.

// oauthCallbackPath is where Google sends the admin back.
const oauthCallbackPath = Prefix + "/integrations/google/oauth/callback"

func (s *Server) oauthRedirectURI() string { return s.cfg.PublicURL + oauthCallbackPath }

// startGoogleOAuth sends an owner to Google's consent page. It is a GET
// (a link, not a form): it changes nothing, and the state it seals binds
// the flow to this organization.
func (s *Server) startGoogleOAuth(w http.ResponseWriter, r *http.Request, q *request) {
	if !q.canWrite() {
		s.errorPage(w, r, q, http.StatusForbidden, "Viewers can look but not change anything: ask an owner.")
		return
	}
	u, err := s.cfg.Admin.StartGoogleOAuth(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, s.oauthRedirectURI())
	if err != nil {
		s.googleError(w, r, q, err, "google")
		return
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// finishGoogleOAuth is where Google sends the owner back: the code is
// exchanged and the credentials checked and stored.
func (s *Server) finishGoogleOAuth(w http.ResponseWriter, r *http.Request, q *request) {
	if !q.canWrite() {
		s.errorPage(w, r, q, http.StatusForbidden, "Viewers can look but not change anything: ask an owner.")
		return
	}
	f := r.URL.Query()
	if e := f.Get("error"); e != "" {
		s.googleError(w, r, q, scimbridge.Errorf(scimbridge.EINVALID, "Google did not grant access (%s): nothing was stored", e), "google")
		return
	}
	err := s.cfg.Admin.FinishGoogleOAuth(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, f.Get("state"), f.Get("code"), s.oauthRedirectURI())
	if err != nil {
		s.googleError(w, r, q, err, "google")
		return
	}
	redirect(w, r, Prefix+"/integrations/google", "Google Workspace is connected through OAuth: the credentials work. The bridge runs soon; Run now or Dry run on the Bridge tab.")
}
