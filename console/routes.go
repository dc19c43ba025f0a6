package console

import (
	"io/fs"
	"net/http"
)

// routes lists every console route. Handlers made by s.page need a
// session; s.write ones also need an owner and a valid CSRF token.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", http.FileServerFS(static)))

	mux.HandleFunc("GET "+Prefix+"/sign-in", s.signInPage)
	mux.HandleFunc("POST "+Prefix+"/sign-in", s.signIn)
	mux.HandleFunc("GET "+Prefix+"/setup/{token}", s.setupPage)
	mux.HandleFunc("POST "+Prefix+"/setup", s.useSetupLink)
	mux.HandleFunc("POST "+Prefix+"/sign-out", s.signOut)

	mux.Handle("GET "+Prefix+"/{$}", s.page(s.overview))
	mux.Handle("GET "+Prefix, http.RedirectHandler(Prefix+"/", http.StatusSeeOther))

	// Settings → Security → Provisioning, with its Bridge and Events tabs.
	mux.Handle("GET "+Prefix+"/provisioning", s.page(s.provisioning))
	mux.Handle("GET "+Prefix+"/provisioning/regenerate", s.page(s.confirmRegenerate))
	mux.Handle("GET "+Prefix+"/provisioning/delete", s.page(s.confirmDelete))
	mux.Handle("POST "+Prefix+"/provisioning/enable", s.write(s.enableSCIM))
	mux.Handle("POST "+Prefix+"/provisioning/regenerate", s.write(s.regenerateToken))
	mux.Handle("POST "+Prefix+"/provisioning/delete", s.write(s.deleteConfig))
	mux.Handle("GET "+Prefix+"/provisioning/bridge", s.page(s.bridgeTab))
	mux.Handle("POST "+Prefix+"/provisioning/bridge/excluded", s.write(s.addExcluded))
	mux.Handle("POST "+Prefix+"/provisioning/bridge/excluded/remove", s.write(s.removeExcluded))
	mux.Handle("POST "+Prefix+"/provisioning/bridge/run", s.write(s.runBridge))
	mux.Handle("GET "+Prefix+"/provisioning/events", s.page(s.events))
	mux.Handle("GET "+Prefix+"/provisioning/events.csv", s.page(s.eventsCSV))
	mux.Handle("GET "+Prefix+"/provisioning/events/{id}", s.page(s.event))

	// Settings → Integrations → Google Workspace.
	mux.Handle("GET "+Prefix+"/integrations/google", s.page(s.google))
	mux.Handle("POST "+Prefix+"/integrations/google/connect", s.write(s.connectGoogle))
	mux.Handle("POST "+Prefix+"/integrations/google/settings", s.write(s.googleSettings))
	mux.Handle("GET "+Prefix+"/integrations/google/oauth", s.page(s.startGoogleOAuth))
	mux.Handle("GET "+oauthCallbackPath, s.page(s.finishGoogleOAuth))

	mux.Handle("GET "+Prefix+"/reports", s.page(s.reports))
	mux.Handle("GET "+Prefix+"/reports/{id}", s.page(s.report))
	mux.Handle("POST "+Prefix+"/reports/{id}/approve", s.write(s.approve))
	mux.Handle("POST "+Prefix+"/reports/{id}/discard", s.write(s.discard))

	mux.Handle("GET "+Prefix+"/directory", s.page(s.directory))
	mux.Handle("GET "+Prefix+"/webhooks", s.page(s.webhooks))

	mux.Handle("GET "+Prefix+"/admin-tokens", s.page(s.adminTokens))
	mux.Handle("POST "+Prefix+"/admin-tokens", s.write(s.createAdminToken))
	mux.Handle("POST "+Prefix+"/admin-tokens/{id}/revoke", s.write(s.revokeAdminToken))
	mux.Handle("POST "+Prefix+"/setup-links", s.write(s.createSetupLink))
	mux.Handle("POST "+Prefix+"/setup-links/{id}/revoke", s.write(s.revokeSetupLink))

	mux.HandleFunc(Prefix+"/", s.notFound)
	return mux
}
