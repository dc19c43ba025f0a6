package daemon

import (
	"log/slog"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/console"
	"github.com/scimbridge/scimbridge/scimserver"
)

// mountConsole serves the web console at /console on the admin side, over serve's
// admin operations with the scheduler's bridge runner (a console run
// shares its lease holder).
func mountConsole(side *adminSide, publicURL string, db scimbridge.Store,
	scim *scimserver.Server, logger *slog.Logger, clock scimbridge.Clock, useTLS bool) {
	h := console.New(console.Config{Admin: side.admin, Store: db, Logger: logger, Clock: clock, PublicURL: publicURL,
		SecureCookies: useTLS, ClientIP: scim.ClientIP})
	side.Handle(console.Prefix+"/", h)
}
