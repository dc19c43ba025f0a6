package daemon

import (
	"log/slog"
	"net/http"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/console"
	"github.com/scimbridge/scimbridge/scimserver"
)

// mountConsole serves the web console at /console on mux, over serve's
// admin operations with the scheduler's bridge runner (a console run
// shares its lease holder).
func mountConsole(mux *http.ServeMux, adm *admin.Admin, runner *bridge.Runner, publicURL string, db scimbridge.Store,
	scim *scimserver.Server, logger *slog.Logger, clock scimbridge.Clock, useTLS bool) {
	a := *adm
	a.Runner = runner
	h := console.New(console.Config{Admin: &a, Store: db, Logger: logger, Clock: clock, PublicURL: publicURL,
		SecureCookies: useTLS, ClientIP: scim.ClientIP})
	mux.Handle(console.Prefix+"/", h)
	mux.Handle(console.Prefix, h)
}
