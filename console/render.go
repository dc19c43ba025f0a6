package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// view is what every page template gets.
type view struct {
	Title string
	// Nav is the active navigation entry; Tab the active tab.
	Nav, Tab string
	Org      scimbridge.Organization
	Role     scimbridge.AdminRole
	// CanWrite is set for owners: only they see forms that change things.
	CanWrite    bool
	LinkSession bool
	CSRF        string
	Notice      string
	Error       string
	// Secret is a token shown once, right after it was created.
	Secret      string
	SecretLabel string
	HeldBanner  *heldBanner
	Data        any
}

type heldBanner struct {
	ReportID string
	Changes  int
	Reason   string
}

type pageTemplate struct{ t *template.Template }

var funcs = template.FuncMap{
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return "—"
	},
	"statusClass": func(code int) string {
		switch {
		case code >= 500:
			return "s5"
		case code >= 400:
			return "s4"
		case code >= 300:
			return "s3"
		case code >= 200:
			return "s2"
		}
		return "s0"
	},
	"explain": explainEvent,
	"join":    strings.Join,
	"query":   func(v url.Values) string { return v.Encode() },
	"eqs":     func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
	"add":     func(a, b int) int { return a + b },
	"ms":      func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) },
	"reportOK": func(st scimbridge.ReportStatus) bool {
		return st == scimbridge.ReportApplied || st == scimbridge.ReportDryRun
	},
}

// parsePages parses every page with the layout.
func parsePages() map[string]*pageTemplate {
	names := []string{"signin", "setup", "error", "overview", "provisioning", "confirm", "bridge", "events", "event",
		"google", "reports", "report", "directory", "tokens", "webhooks"}
	out := map[string]*pageTemplate{}
	for _, n := range names {
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
		out[n] = &pageTemplate{t: t}
	}
	return out
}

// render writes the page; a template error is a 500 without a half page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := s.pages[name].t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.cfg.Logger.Error("render console page", "page", name, "err", err)
		http.Error(w, "The page could not be shown. The error is in the daemon's log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// newView is the view of a signed-in page.
func (s *Server) newView(r *http.Request, q *request, title, nav string) *view {
	return &view{Title: title, Nav: nav, Org: q.sess.Org, Role: q.sess.Principal.Role, CanWrite: q.canWrite(),
		LinkSession: q.linkSession(), CSRF: csrfToken(q.token), Notice: r.URL.Query().Get("notice")}
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, q *request, status int, msg string) {
	var v *view
	if q != nil {
		v = s.newView(r, q, "Something went wrong", "")
	} else {
		v = &view{Title: "Something went wrong"}
	}
	v.Notice, v.Error = "", msg
	v.Data = status
	s.render(w, r, status, "error", v)
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, q *request, err error) {
	s.cfg.Logger.Error("console request", "path", r.URL.Path, "err", err)
	s.errorPage(w, r, q, http.StatusInternalServerError, "The daemon could not do this. The error is in its log.")
}

// opError shows an admin operation's error: a client's mistake in place,
// anything else as a server error.
func (s *Server) opError(w http.ResponseWriter, r *http.Request, q *request, err error) {
	status := errStatus(err)
	if status == http.StatusInternalServerError {
		s.serverError(w, r, q, err)
		return
	}
	s.errorPage(w, r, q, status, err.Error())
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, s.session(r), http.StatusNotFound, "There is no such page in the console.")
}

// redirect sends the browser to path with a notice (POST, redirect, GET).
func redirect(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		path += "?notice=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// explainEvent says in place what an error status of an event usually
// means (Probo's documentation's words).
func explainEvent(ev scimbridge.Event) string {
	switch {
	case ev.Status == http.StatusUnauthorized:
		return "The token is wrong or was regenerated: paste the current token into your identity provider."
	case ev.Status == http.StatusConflict && ev.Method == http.MethodPost && strings.Contains(ev.Path, "/Users"):
		return "The user already exists: your identity provider should match it by userName instead of creating it."
	case ev.Status == http.StatusConflict:
		return "It conflicts with what is stored: a name or id is already taken."
	case ev.Status == http.StatusTooManyRequests:
		return "Too many requests: the identity provider should slow down and retry."
	case ev.Status == http.StatusNotFound:
		return "The resource does not exist in this organization (or no longer does)."
	case ev.Status == http.StatusPreconditionFailed:
		return "The resource changed since the identity provider read it (its version did not match)."
	case ev.Status >= 500:
		return "The daemon failed to do this; it is in the daemon's log under the request id."
	}
	return ""
}
