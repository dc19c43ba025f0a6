package daemon

// The admin side of serve: the admin API now, the console later. Both are
// mounted on one mux (adminSide.Handle) that answers only the clients
// admin_allowed_cidrs allows, on the main listener under their prefixes or
// on admin_listen on its own.

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/adminapi"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/scim"
)

// adminSide is what the admin listener serves: every handler mounted with
// Handle, behind admin_allowed_cidrs.
type adminSide struct {
	mux      *http.ServeMux
	prefixes []string
	allowed  []netip.Prefix
	admin    *admin.Admin
	api      *adminapi.Server
}

// newAdminSide mounts the admin API over serve's admin operations (adm,
// running bridges with runner).
func newAdminSide(cfg configs.Config, publicURL string, adm *admin.Admin, runner *bridge.Runner, logger *slog.Logger) *adminSide {
	a := *adm
	a.Runner = runner
	side := &adminSide{mux: http.NewServeMux(), allowed: cfg.AdminAllowedPrefixes(), admin: &a}
	side.api = adminapi.New(adminapi.Config{Admin: &a, Logger: logger, SCIMBaseURL: publicURL + scim.BasePath,
		ConsoleURL:     publicURL + "/console",
		TrustedProxies: cfg.TrustedProxyPrefixes()})
	side.Handle(adminapi.BasePath+"/", side.api)
	return side
}

// Handle mounts h on the admin side at prefix (a path ending in "/"): the
// console mounts /console/ here. Call it before serve runs.
func (a *adminSide) Handle(prefix string, h http.Handler) {
	a.mux.Handle(prefix, h)
	a.prefixes = append(a.prefixes, prefix)
}

// mountOn mounts every prefix of the admin side on the main listener's mux
// (no admin_listen).
func (a *adminSide) mountOn(mux *http.ServeMux) {
	for _, p := range a.prefixes {
		mux.Handle(p, a.handler())
		if bare := strings.TrimSuffix(p, "/"); bare != "" && bare != p {
			mux.Handle(bare, a.handler())
		}
	}
}

// handler answers 403 to clients outside admin_allowed_cidrs (the client
// address as trusted_proxies say), before any authentication.
func (a *adminSide) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(a.allowed) > 0 {
			ip, err := netip.ParseAddr(a.api.ClientIP(r))
			if err != nil || !inAllowed(ip.Unmap(), a.allowed) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"error":{"code":"forbidden","message":"administration is not reachable from this address (admin_allowed_cidrs)"}}` + "\n"))
				return
			}
		}
		a.mux.ServeHTTP(w, r)
	})
}

func inAllowed(ip netip.Addr, allowed []netip.Prefix) bool {
	for _, p := range allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// SetTrustedProxies passes a reload of trusted_proxies on to the SCIM
// server and the admin side.
type reloadProxies struct {
	scimSettings
	admin *adminapi.Server
}

func (r reloadProxies) SetTrustedProxies(p []netip.Prefix) {
	r.scimSettings.SetTrustedProxies(p)
	r.admin.SetTrustedProxies(p)
}
