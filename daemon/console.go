package daemon

import (
	"log/slog"
	"net/http"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/console"
	"github.com/scimbridge/scimbridge/internal/seal"
	"github.com/scimbridge/scimbridge/scimserver"
)

// mountConsole serves the web console at /console on mux, over the admin
// operations with the serve's keyring and bridge runner (a console run
// shares the scheduler's lease holder).
func mountConsole(mux *http.ServeMux, cfg configs.Config, publicURL string, db scimbridge.Store, keyring *seal.Keyring,
	runner *bridge.Runner, scim *scimserver.Server, logger *slog.Logger, clock scimbridge.Clock, useTLS bool) {
	a := &admin.Admin{Store: db, Clock: clock, Logger: logger, Keyring: keyring, Google: endpoints(cfg), Runner: runner}
	h := console.New(console.Config{Admin: a, Store: db, Logger: logger, Clock: clock, PublicURL: publicURL,
		SecureCookies: useTLS, ClientIP: scim.ClientIP})
	mux.Handle(console.Prefix+"/", h)
	mux.Handle(console.Prefix, h)
}
