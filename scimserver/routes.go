package scimserver

import (
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/scim"
)

// routes lists every route of the SCIM API. Every request, matched or not,
// goes through the events middleware, authentication and the body limit,
// in that order: the body of a request is read only once its token is
// accepted.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	const b = scim.BasePath

	mux.HandleFunc("GET "+b+"/Users", s.handleListUsers)
	mux.HandleFunc("POST "+b+"/Users", s.handleCreateUser)
	mux.HandleFunc("POST "+b+"/Users/.search", s.handleSearchUsers)
	mux.HandleFunc("POST "+b+"/.search", s.handleSearchUsers)
	mux.HandleFunc("GET "+b+"/Users/{id}", s.handleGetUser)
	mux.HandleFunc("PUT "+b+"/Users/{id}", s.handleReplaceUser)
	mux.HandleFunc("PATCH "+b+"/Users/{id}", s.handlePatchUser)
	mux.HandleFunc("DELETE "+b+"/Users/{id}", s.handleDeleteUser)

	mux.HandleFunc("GET "+b+"/ServiceProviderConfig", s.handleServiceProviderConfig)
	mux.HandleFunc("GET "+b+"/ResourceTypes", s.handleResourceTypes)
	mux.HandleFunc("GET "+b+"/ResourceTypes/{name}", s.handleResourceType)
	mux.HandleFunc("GET "+b+"/Schemas", s.handleSchemas)
	mux.HandleFunc("GET "+b+"/Schemas/{urn}", s.handleSchema)

	// The same paths with any other method.
	mux.Handle(b+"/Users", s.methodNotAllowed("GET, POST"))
	mux.Handle(b+"/Users/{id}", s.methodNotAllowed("GET, PUT, PATCH, DELETE"))
	mux.Handle(b+"/.search", s.methodNotAllowed("POST"))
	mux.Handle(b+"/ServiceProviderConfig", s.methodNotAllowed("GET"))
	mux.Handle(b+"/ResourceTypes", s.methodNotAllowed("GET"))
	mux.Handle(b+"/ResourceTypes/{name}", s.methodNotAllowed("GET"))
	mux.Handle(b+"/Schemas", s.methodNotAllowed("GET"))
	mux.Handle(b+"/Schemas/{urn}", s.methodNotAllowed("GET"))

	// Groups are not supported: SCIM 404 (and an event), so IdPs that push
	// groups see a clear answer.
	mux.Handle(b+"/Groups", s.notFound("the Groups resource is not supported"))
	mux.Handle(b+"/Groups/", s.notFound("the Groups resource is not supported"))
	mux.Handle("/", s.notFound("no such SCIM endpoint"))

	s.mux = mux
	return s.logEvents(s.authenticate(s.limitBody(mux)))
}

// Route returns the route pattern r matches under scim.BasePath ("/Users/{id}"),
// or "other" for a path no route serves: a bounded label for metrics.
func (s *Server) Route(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:] // drop the method
	}
	pattern, ok := strings.CutPrefix(pattern, scim.BasePath)
	if !ok || pattern == "" {
		return "other"
	}
	return pattern
}

// notFound answers a SCIM 404.
func (s *Server) notFound(detail string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, scimbridge.Errorf(scimbridge.ENOTFOUND, "%s", detail))
	})
}

// methodNotAllowed answers a SCIM 405 naming the allowed methods.
func (s *Server) methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, scimbridge.Errorf(eMethodNotAllowed, "method %s is not allowed here; allowed: %s", r.Method, allow))
	})
}
