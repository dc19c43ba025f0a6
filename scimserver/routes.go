package scimserver

import (
	"net/http"
	"path"
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

	mux.HandleFunc("GET "+b+"/Users", s.listFromQuery(s.listUsers))
	mux.HandleFunc("POST "+b+"/Users", s.handleCreateUser)
	mux.HandleFunc("POST "+b+"/Users/.search", s.listFromSearch(s.listUsers))
	mux.HandleFunc("POST "+b+"/.search", s.listFromSearch(s.searchAll))
	mux.HandleFunc("GET "+b+"/Users/{id}", s.handleGetUser)
	mux.HandleFunc("PUT "+b+"/Users/{id}", s.handleReplaceUser)
	mux.HandleFunc("PATCH "+b+"/Users/{id}", s.handlePatchUser)
	mux.HandleFunc("DELETE "+b+"/Users/{id}", s.handleDeleteUser)

	mux.HandleFunc("GET "+b+"/Groups", s.listFromQuery(s.listGroups))
	mux.HandleFunc("POST "+b+"/Groups", s.handleCreateGroup)
	mux.HandleFunc("POST "+b+"/Groups/.search", s.listFromSearch(s.listGroups))
	mux.HandleFunc("GET "+b+"/Groups/{id}", s.handleGetGroup)
	mux.HandleFunc("PUT "+b+"/Groups/{id}", s.handleReplaceGroup)
	mux.HandleFunc("PATCH "+b+"/Groups/{id}", s.handlePatchGroup)
	mux.HandleFunc("DELETE "+b+"/Groups/{id}", s.handleDeleteGroup)

	mux.HandleFunc("GET "+b+"/ServiceProviderConfig", s.handleServiceProviderConfig)
	mux.HandleFunc("GET "+b+"/ResourceTypes", s.handleResourceTypes)
	mux.HandleFunc("GET "+b+"/ResourceTypes/{name}", s.handleResourceType)
	mux.HandleFunc("GET "+b+"/Schemas", s.handleSchemas)
	mux.HandleFunc("GET "+b+"/Schemas/{urn}", s.handleSchema)

	// The same paths with any other method.
	mux.Handle(b+"/Users", s.methodNotAllowed("GET, POST"))
	mux.Handle(b+"/Users/{id}", s.methodNotAllowed("GET, PUT, PATCH, DELETE"))
	mux.Handle(b+"/Groups", s.methodNotAllowed("GET, POST"))
	mux.Handle(b+"/Groups/{id}", s.methodNotAllowed("GET, PUT, PATCH, DELETE"))
	mux.Handle(b+"/.search", s.methodNotAllowed("POST"))
	mux.Handle(b+"/ServiceProviderConfig", s.methodNotAllowed("GET"))
	mux.Handle(b+"/ResourceTypes", s.methodNotAllowed("GET"))
	mux.Handle(b+"/ResourceTypes/{name}", s.methodNotAllowed("GET"))
	mux.Handle(b+"/Schemas", s.methodNotAllowed("GET"))
	mux.Handle(b+"/Schemas/{urn}", s.methodNotAllowed("GET"))

	mux.Handle("/", s.notFound("no such SCIM endpoint"))

	s.mux = mux
	return s.logEvents(s.authenticate(s.limitBody(s.cleanPathsOnly(mux))))
}

// cleanPathsOnly answers a SCIM 404 for a path that is not clean (//Users,
// /./Users, /Users/../Users), where http.ServeMux would redirect with
// an HTML body.
func (s *Server) cleanPathsOnly(next http.Handler) http.Handler {
	unclean := s.notFound("no such SCIM endpoint")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cleanPath(r.URL.Path) != r.URL.Path {
			unclean.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is p as http.ServeMux cleans it: rooted, without empty, "."
// or ".." segments, a trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// underBase reports whether a request path is the SCIM base URL or below
// it, as sent or once cleaned.
func underBase(p string) bool {
	for _, q := range []string{p, cleanPath(p)} {
		if q == scim.BasePath || strings.HasPrefix(q, scim.BasePath+"/") {
			return true
		}
	}
	return false
}

// Mount returns a handler that sends every request under the SCIM base URL
// (the base URL itself, without a trailing slash, and paths that are so
// only once cleaned, such as //api/connect/v1/Users) to scimHandler, and
// the others to rest. An http.ServeMux in front of scimHandler would
// answer those paths with an HTML redirect that the events log never sees.
func Mount(scimHandler, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if underBase(r.URL.Path) {
			scimHandler.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// Route returns the route pattern r matches under scim.BasePath ("/Users/{id}"),
// or "other" for a path no route serves: a bounded label for metrics.
func (s *Server) Route(r *http.Request) string {
	if cleanPath(r.URL.Path) != r.URL.Path {
		return "other"
	}
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
