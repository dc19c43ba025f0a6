package console

import (
	"net/http"

	"github.com/scimbridge/scimbridge"
)

// webhookRow is one endpoint with its latest delivery attempts.
type webhookRow struct {
	Endpoint scimbridge.WebhookEndpoint
	Attempts []scimbridge.WebhookAttempt
}

// webhooksAttempts is how many attempts the page shows per endpoint.
const webhooksAttempts = 20

// webhooks shows the organization's webhook endpoints and their delivery
// attempts, read-only: the application's app token or an operator manages
// them, since they send personal data out.
func (s *Server) webhooks(w http.ResponseWriter, r *http.Request, q *request) {
	v := s.newView(r, q, "Webhooks", "webhooks")
	eps, err := s.cfg.Admin.Webhooks(r.Context(), q.sess.Org.Slug)
	if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	rows := make([]webhookRow, 0, len(eps))
	for _, e := range eps {
		atts, err := s.cfg.Admin.WebhookAttempts(r.Context(), q.sess.Org.Slug, e.ID, 0, webhooksAttempts)
		if err != nil {
			s.serverError(w, r, q, err)
			return
		}
		rows = append(rows, webhookRow{Endpoint: e, Attempts: atts})
	}
	v.Data = rows
	s.render(w, r, http.StatusOK, "webhooks", v)
}
