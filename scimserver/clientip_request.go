package scimserver

import "net/http"

// ClientIP is the client address of r as the events log records it, under
// the current trusted proxies: the admin API and the console name clients
// the same way.
func (s *Server) ClientIP(r *http.Request) string {
	return clientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.trustedProxies())
}
