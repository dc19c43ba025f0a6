// Package adminapi is the admin API: JSON at /api/admin/v1 over the
// operations of package admin, authenticated by admin tokens (scba_, one
// organization, role owner, viewer or app) and operator tokens (scbo_,
// every organization). Handlers read through the store and change through
// admin only, so every change is one admin event with the actor and the
// client IP, whichever of the API, the console or the CLI made it. The
// routes and the OpenAPI document (openapi.json, served and kept in the
// repository) are checked against each other by a test.
package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"sync/atomic"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/feed"
	"github.com/scimbridge/scimbridge/scimserver"
)

// BasePath is where the admin API is served.
const BasePath = "/api/admin/v1"

// Config is what the admin API needs.
type Config struct {
	Admin  *admin.Admin
	Logger *slog.Logger
	// SCIMBaseURL is the SCIM base URL identity providers use, shown with
	// a new SCIM token.
	SCIMBaseURL string
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (trusted_proxies), as for the SCIM API's events.
	TrustedProxies []netip.Prefix
	// ConsoleURL is the console's public URL (".../console"), where setup
	// links created through the API point.
	ConsoleURL string
}

// Server serves the admin API.
type Server struct {
	admin   *admin.Admin
	store   scimbridge.Store
	logger  *slog.Logger
	scimURL string
	// consoleURL is Config.ConsoleURL without a trailing slash.
	consoleURL string
	proxies    atomic.Pointer[[]netip.Prefix]
	feed       *feed.Feed
	mux        *http.ServeMux
	routes     []route
}

// New returns the admin API of cfg.
func New(cfg Config) *Server {
	s := &Server{admin: cfg.Admin, store: cfg.Admin.Store, logger: cfg.Logger, scimURL: cfg.SCIMBaseURL,
		consoleURL: strings.TrimSuffix(cfg.ConsoleURL, "/"), mux: http.NewServeMux()}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.SetTrustedProxies(cfg.TrustedProxies)
	s.routes = append(append(append(s.table(), s.webhookRoutes()...), s.setupLinkRoutes()...), s.changesRoutes()...)
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+BasePath+rt.path, s.wrap(rt))
	}
	s.mux.HandleFunc("GET "+BasePath+"/openapi.json", serveOpenAPI)
	return s
}

// SetTrustedProxies replaces the trusted proxies (a configuration reload).
func (s *Server) SetTrustedProxies(p []netip.Prefix) { s.proxies.Store(&p) }

// ClientIP is the client address of r, honouring the trusted proxies.
func (s *Server) ClientIP(r *http.Request) string {
	return scimserver.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), *s.proxies.Load())
}

// Routes lists "METHOD /path" of every route under BasePath, the OpenAPI
// document's own included.
func (s *Server) Routes() []string {
	out := []string{"GET /openapi.json"}
	for _, rt := range s.routes {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}

// ServeHTTP answers every request under BasePath: a path no route serves
// is a JSON 404, a method a path does not take a JSON 405.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if p := r.URL.Path; p != path.Clean(p) {
		// The mux would redirect to the clean path; no route is there.
		writeError(w, http.StatusNotFound, "not_found", "no such admin API resource")
		return
	}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed here: use %s", r.Method, strings.Join(allow, ", ")))
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "no such admin API resource")
}

// Everyone marks routes any authenticated principal that sees the
// organization may call.
const Everyone admin.Permission = -1

// route is one operation of the API.
type route struct {
	method string
	path   string // after BasePath, with {slug} for an organization
	perm   admin.Permission
	h      func(w http.ResponseWriter, r *http.Request, c *call) error
}

// call is what a handler gets besides the request: who calls, from where,
// and the organization named by the path.
type call struct {
	principal admin.Principal
	by        admin.Caller
	org       scimbridge.Organization
}

// wrap authenticates, finds the organization (another organization's is
// 404), checks the permission (403) and writes the handler's error.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authorize(r, rt)
		if err == nil {
			err = rt.h(w, r, c)
		}
		if err != nil {
			s.fail(w, r, err)
		}
	})
}

// errForbidden is a principal's lack of a permission.
type errForbidden struct{ msg string }

func (e errForbidden) Error() string { return e.msg }

func (s *Server) authorize(r *http.Request, rt route) (*call, error) {
	token, ok := bearer(r)
	if !ok {
		return nil, scimbridge.Errorf(scimbridge.EUNAUTHORIZED, "give an admin or operator token: Authorization: Bearer scba_... or scbo_...")
	}
	p, err := s.admin.Authenticate(r.Context(), token)
	if err != nil {
		return nil, err
	}
	c := &call{principal: p, by: p.Caller(s.ClientIP(r), r.UserAgent())}
	if slug := r.PathValue("slug"); strings.Contains(rt.path, "{slug}") {
		org, err := s.admin.Org(r.Context(), slug)
		if err != nil || !p.Sees(org) {
			if err != nil && scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND && scimbridge.ErrorCode(err) != scimbridge.EINVALID {
				return nil, err
			}
			return nil, scimbridge.Errorf(scimbridge.ENOTFOUND, "no organization %q", slug)
		}
		c.org = org
	}
	if rt.perm != Everyone && !p.May(rt.perm) {
		return nil, errForbidden{forbiddenText(p, rt.perm)}
	}
	return c, nil
}

func forbiddenText(p admin.Principal, perm admin.Permission) string {
	switch perm {
	case admin.ManageOrganizations:
		return "only operator tokens manage organizations"
	case admin.ChangeProvisioning:
		return fmt.Sprintf("a %s token cannot change provisioning: use an owner token", p.Role)
	case admin.ManageWebhooks:
		return "only app and operator tokens manage webhooks"
	}
	return fmt.Sprintf("a %s token cannot read this", p.Role)
}

// bearer returns the request's bearer token.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// fail writes err as the API's error object with its status.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe errForbidden
	switch code := scimbridge.ErrorCode(err); {
	case errors.As(err, &fe):
		writeError(w, http.StatusForbidden, "forbidden", fe.msg)
	case errors.Is(err, admin.ErrCredentialsRejected):
		writeError(w, http.StatusBadRequest, "credentials_rejected", err.Error())
	case code == scimbridge.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge admin"`)
		writeError(w, http.StatusUnauthorized, code, scimbridge.ErrorMessage(err))
	case code == scimbridge.ENOTFOUND:
		writeError(w, http.StatusNotFound, code, scimbridge.ErrorMessage(err))
	case code == scimbridge.EINVALID:
		writeError(w, http.StatusBadRequest, code, scimbridge.ErrorMessage(err))
	case code == scimbridge.ECONFLICT, code == scimbridge.ELEASELOST:
		writeError(w, http.StatusConflict, code, scimbridge.ErrorMessage(err))
	case code == scimbridge.EPRECONDITION:
		writeError(w, http.StatusPreconditionFailed, code, scimbridge.ErrorMessage(err))
	case errors.Is(err, context.Canceled):
		writeError(w, 499, "canceled", "the request was canceled")
	default:
		s.logger.Error("admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, scimbridge.EINTERNAL, "internal error")
	}
}

// errorBody is the API's error object.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// maxBody bounds a request body (a service-account key is a few KiB).
const maxBody = 1 << 20

// decode reads the request's JSON object into v: unknown members, a second
// value or a body over maxBody are EINVALID. An empty body leaves v as is.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return scimbridge.Errorf(scimbridge.EINVALID, "cannot read the request body")
	}
	if len(body) > maxBody {
		return scimbridge.Errorf(scimbridge.EINVALID, "request body over %d bytes", maxBody)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return scimbridge.Errorf(scimbridge.EINVALID, "invalid JSON body: %s", jsonProblem(err))
	}
	if dec.More() {
		return scimbridge.Errorf(scimbridge.EINVALID, "invalid JSON body: more than one value")
	}
	return nil
}

// jsonProblem is a decoding error as a client can act on it.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be %s", te.Field, jsonType(te.Type.Kind().String()))
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a number"
}
