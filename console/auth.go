package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
)

// Cookies: the session's token, and the CSRF token of the forms shown
// before sign-in.
const (
	sessionCookie = "scimbridge_session"
	preCSRFCookie = "scimbridge_csrf"
	csrfField     = "csrf"
)

// request is one authenticated console request.
type request struct {
	sess  admin.Session
	token string // the session cookie's value
}

func (q *request) canWrite() bool { return q.sess.Principal.Role == scimbridge.AdminOwner }

// linkSession says the session was signed in by a setup link: it cannot
// create tokens or links.
func (q *request) linkSession() bool { return q.sess.Principal.LinkID != "" }

// csrfToken is the CSRF token of a session: derived from the session's
// token, which only the browser's cookie and the server know.
func csrfToken(sessionToken string) string {
	h := sha256.Sum256([]byte("scimbridge console csrf\x00" + sessionToken))
	return hex.EncodeToString(h[:])
}

func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, q *request)

// session returns the request's live session, or nil.
func (s *Server) session(r *http.Request) *request {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	sess, err := s.cfg.Admin.ConsoleSession(r.Context(), c.Value)
	if err != nil {
		if scimbridge.ErrorCode(err) != scimbridge.EUNAUTHORIZED {
			s.cfg.Logger.Error("console session", "err", err)
		}
		return nil
	}
	return &request{sess: sess, token: c.Value}
}

// page wraps a handler that needs a session: without one, the browser is
// sent to sign in.
func (s *Server) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := s.session(r)
		if q == nil {
			s.clearSession(w)
			http.Redirect(w, r, Prefix+"/sign-in", http.StatusSeeOther)
			return
		}
		h(w, r, q)
	})
}

// write wraps a handler that changes something: it needs a session, an
// owner, and the session's CSRF token in the form.
func (s *Server) write(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := s.session(r)
		if q == nil {
			s.clearSession(w)
			http.Error(w, "Your session has ended: sign in again.", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if !tokensEqual(r.PostFormValue(csrfField), csrfToken(q.token)) {
			s.errorPage(w, r, q, http.StatusForbidden, "This form has expired or did not come from the console. Go back, reload the page and try again.")
			return
		}
		if !q.canWrite() {
			s.errorPage(w, r, q, http.StatusForbidden, "Viewers can look but not change anything: ask an owner.")
			return
		}
		h(w, r, q)
	})
}

// maxForm bounds a form (a service-account key is a few kilobytes).
const maxForm = 1 << 20

func (s *Server) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix + "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(admin.SessionMaxAge / time.Second)})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix + "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// preCSRF returns the CSRF token of the sign-in forms, setting its cookie
// when the browser has none (double submit: the form's copy must match).
func (s *Server) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: v, Path: Prefix + "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	return v
}

func checkPreCSRF(r *http.Request) bool {
	c, err := r.Cookie(preCSRFCookie)
	return err == nil && tokensEqual(r.PostFormValue(csrfField), c.Value)
}

// attemptLimiter counts sign-in attempts per IP in fixed windows.
type attemptLimiter struct {
	limit  int
	window time.Duration
	clock  scimbridge.Clock
	mu     sync.Mutex
	seen   map[string]*attempts
}

type attempts struct {
	start time.Time
	n     int
}

func newAttemptLimiter(limit int, window time.Duration, clock scimbridge.Clock) *attemptLimiter {
	return &attemptLimiter{limit: limit, window: window, clock: clock, seen: map[string]*attempts{}}
}

// allow counts an attempt by ip and says whether it may proceed.
func (l *attemptLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	if len(l.seen) > 100_000 { // forget old windows rather than grow without bound
		for k, a := range l.seen {
			if now.Sub(a.start) >= l.window {
				delete(l.seen, k)
			}
		}
	}
	a := l.seen[ip]
	if a == nil || now.Sub(a.start) >= l.window {
		a = &attempts{start: now}
		l.seen[ip] = a
	}
	a.n++
	return a.n <= l.limit
}

func peerIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	if q := s.session(r); q != nil {
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "signin", &view{Title: "Sign in", CSRF: s.preCSRF(w, r)})
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	v := &view{Title: "Sign in", CSRF: s.preCSRF(w, r)}
	if !checkPreCSRF(r) {
		v.Error = "This form has expired. Reload the page and try again."
		s.render(w, r, http.StatusForbidden, "signin", v)
		return
	}
	if !s.limiter.allow(s.clientIP(r)) {
		w.Header().Set("Retry-After", "60")
		v.Error = "Too many sign-in attempts from your address. Wait a minute and try again."
		s.render(w, r, http.StatusTooManyRequests, "signin", v)
		return
	}
	sess, err := s.cfg.Admin.SignIn(r.Context(), r.PostFormValue("token"))
	if err != nil {
		if scimbridge.ErrorCode(err) != scimbridge.EUNAUTHORIZED {
			s.serverError(w, r, nil, err)
			return
		}
		v.Error = "That token does not sign in: it is unknown, revoked or expired, or it is an app or operator token (those are for the API). Ask an owner for an admin token or a setup link."
		s.render(w, r, http.StatusUnauthorized, "signin", v)
		return
	}
	s.setSession(w, sess.Token)
	http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	v := &view{Title: "Set up provisioning", CSRF: s.preCSRF(w, r)}
	l, org, err := s.cfg.Admin.SetupLink(r.Context(), token)
	if err != nil {
		if scimbridge.ErrorCode(err) != scimbridge.EUNAUTHORIZED {
			s.serverError(w, r, nil, err)
			return
		}
		v.Error = err.Error()
		s.render(w, r, http.StatusNotFound, "setup", v)
		return
	}
	v.Data = map[string]any{"Token": token, "Org": org, "Role": l.Role, "Expires": l.ExpiresAt}
	s.render(w, r, http.StatusOK, "setup", v)
}

func (s *Server) useSetupLink(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	v := &view{Title: "Set up provisioning", CSRF: s.preCSRF(w, r)}
	if !checkPreCSRF(r) {
		v.Error = "This form has expired. Open the link again."
		s.render(w, r, http.StatusForbidden, "setup", v)
		return
	}
	if !s.limiter.allow(s.clientIP(r)) {
		w.Header().Set("Retry-After", "60")
		v.Error = "Too many sign-in attempts from your address. Wait a minute and try again."
		s.render(w, r, http.StatusTooManyRequests, "setup", v)
		return
	}
	sess, err := s.cfg.Admin.UseSetupLink(r.Context(), s.caller(r, nil), r.PostFormValue("token"))
	if err != nil {
		if scimbridge.ErrorCode(err) != scimbridge.EUNAUTHORIZED {
			s.serverError(w, r, nil, err)
			return
		}
		v.Error = err.Error()
		s.render(w, r, http.StatusUnauthorized, "setup", v)
		return
	}
	s.setSession(w, sess.Token)
	http.Redirect(w, r, Prefix+"/provisioning", http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	q := s.session(r)
	if q == nil {
		s.clearSession(w)
		http.Redirect(w, r, Prefix+"/sign-in", http.StatusSeeOther)
		return
	}
	if !tokensEqual(r.PostFormValue(csrfField), csrfToken(q.token)) {
		s.errorPage(w, r, q, http.StatusForbidden, "This form has expired. Reload the page and try again.")
		return
	}
	if err := s.cfg.Admin.SignOut(context.WithoutCancel(r.Context()), q.token); err != nil {
		s.serverError(w, r, q, err)
		return
	}
	s.clearSession(w)
	http.Redirect(w, r, Prefix+"/sign-in?signed_out=1", http.StatusSeeOther)
}

// errCode maps an admin operation's error to a status for pages.
func errStatus(err error) int {
	var e *scimbridge.Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError
	}
	switch e.Code {
	case scimbridge.ENOTFOUND:
		return http.StatusNotFound
	case scimbridge.ECONFLICT:
		return http.StatusConflict
	case scimbridge.EINVALID:
		return http.StatusBadRequest
	case scimbridge.EUNAUTHORIZED:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}
