// Package console is the web console: server-rendered pages (html/template)
// over the admin operations, with its templates, stylesheet and script
// embedded in the binary. Every page works without JavaScript; the script
// only adds copy buttons and live refresh. Sign-in is by admin token or
// one-time setup link; sessions live in the database.
package console

import (
	"embed"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/scim"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is served.
const Prefix = "/console"

// Config is what the console needs.
type Config struct {
	Admin  *admin.Admin
	Store  scimbridge.Store
	Logger *slog.Logger
	Clock  scimbridge.Clock
	// PublicURL is the daemon's public URL: the SCIM endpoint URL the
	// Provisioning page shows and setup links are under it.
	PublicURL string
	// SecureCookies sets the Secure flag (serving over TLS).
	SecureCookies bool
	// ClientIP names a request's client (trusted proxies applied); nil uses
	// the TCP peer.
	ClientIP func(*http.Request) string
	// SignInLimit is how many sign-in attempts one IP may make per
	// SignInWindow (default 10 a minute).
	SignInLimit  int
	SignInWindow time.Duration
}

// Server serves the console.
type Server struct {
	cfg     Config
	pages   map[string]*pageTemplate
	limiter *attemptLimiter
	hours   hourCounts
	mux     *http.ServeMux
}

// New returns the console for cfg.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = func() time.Time { return time.Now().UTC() }
	}
	if cfg.SignInLimit <= 0 {
		cfg.SignInLimit = 10
	}
	if cfg.SignInWindow <= 0 {
		cfg.SignInWindow = time.Minute
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	s := &Server{cfg: cfg, pages: parsePages(), limiter: newAttemptLimiter(cfg.SignInLimit, cfg.SignInWindow, cfg.Clock)}
	s.hours.logger = cfg.Logger
	s.mux = s.routes()
	return s
}

// ServeHTTP serves the console's paths under Prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}

// securityHeaders are sent with every console response: no inline script,
// no framing, no referrer (a setup link's URL holds its token).
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.ClientIP != nil {
		return s.cfg.ClientIP(r)
	}
	return peerIP(r.RemoteAddr)
}

func (s *Server) caller(r *http.Request, sess *admin.Session) admin.Caller {
	c := admin.Caller{ClientIP: s.clientIP(r), UserAgent: r.UserAgent()}
	if sess != nil {
		c.Actor = "console:" + sess.Principal.Name
	}
	return c
}

// scimURL is the SCIM endpoint URL identity providers are given.
func (s *Server) scimURL() string { return s.cfg.PublicURL + scim.BasePath }
