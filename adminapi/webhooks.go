package adminapi

// Webhook endpoints and setup links: the routes over admin's webhook and
// setup-link operations.

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/configs"
)

// webhookRoutes are the webhook endpoint routes. Every principal of the
// organization reads endpoints and their attempts (never a secret); only
// app and operator tokens change them, since webhooks send personal data
// out.
func (s *Server) webhookRoutes() []route {
	const manage = admin.ManageWebhooks
	return []route{
		{"GET", "/orgs/{slug}/webhooks", Everyone, s.listWebhooks},
		{"POST", "/orgs/{slug}/webhooks", manage, s.createWebhook},
		{"GET", "/orgs/{slug}/webhooks/{id}", Everyone, s.getWebhook},
		{"PATCH", "/orgs/{slug}/webhooks/{id}", manage, s.patchWebhook},
		{"DELETE", "/orgs/{slug}/webhooks/{id}", manage, s.deleteWebhook},
		{"POST", "/orgs/{slug}/webhooks/{id}/rotate-secret", manage, s.rotateWebhookSecret},
		{"GET", "/orgs/{slug}/webhooks/{id}/attempts", Everyone, s.webhookAttempts},
		{"POST", "/orgs/{slug}/webhooks/{id}/redeliver", manage, s.redeliver},
	}
}

// setupLinkRoutes are the setup-link routes: owners and operators. A
// link's role is at most its creator's; the API has no sessions, so a
// session signed in by a link never gets here.
func (s *Server) setupLinkRoutes() []route {
	const change = admin.ChangeProvisioning
	return []route{
		{"GET", "/orgs/{slug}/setup-links", change, s.listSetupLinks},
		{"POST", "/orgs/{slug}/setup-links", change, s.createSetupLink},
		{"DELETE", "/orgs/{slug}/setup-links/{id}", change, s.revokeSetupLink},
	}
}

// webhookSecret is a new or rotated endpoint: the only time its secret is
// shown.
type webhookSecret struct {
	scimbridge.WebhookEndpoint
	Secret string `json:"secret"`
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, after, err := page(r, "webhook")
	if err != nil {
		return err
	}
	all, err := s.admin.Webhooks(r.Context(), c.org.Slug)
	if err != nil {
		return err
	}
	out, err := offsetPage(all, "webhook", after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	var spec admin.WebhookSpec
	if err := decode(r, &spec); err != nil {
		return err
	}
	if spec.URL == "" {
		return scimbridge.Errorf(scimbridge.EINVALID, "url is required: the https URL deliveries are posted to")
	}
	secret, e, err := s.admin.AddWebhook(r.Context(), c.by, c.org.Slug, spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, webhookSecret{WebhookEndpoint: e, Secret: secret})
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	_, e, err := s.admin.Webhook(r.Context(), c.org.Slug, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) patchWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Enabled == nil {
		return scimbridge.Errorf(scimbridge.EINVALID, "give enabled: true or false")
	}
	e, err := s.admin.SetWebhookEnabled(r.Context(), c.by, c.org.Slug, r.PathValue("id"), *in.Enabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.admin.RemoveWebhook(r.Context(), c.by, c.org.Slug, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, c *call) error {
	secret, e, err := s.admin.RotateWebhookSecret(r.Context(), c.by, c.org.Slug, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookSecret{WebhookEndpoint: e, Secret: secret})
	return nil
}

// webhookAttempts pages an endpoint's attempts, newest first; the cursor
// is the id of the last attempt of the page.
func (s *Server) webhookAttempts(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, after, err := page(r, "attempt")
	if err != nil {
		return err
	}
	var before int64
	if after != "" {
		if before, err = strconv.ParseInt(after, 10, 64); err != nil || before < 1 {
			return scimbridge.Errorf(scimbridge.EINVALID, "invalid after cursor: use the next of the previous page")
		}
	}
	fetch := limit
	if fetch < MaxLimit {
		fetch++ // one more tells whether another page follows
	}
	atts, err := s.admin.WebhookAttempts(r.Context(), c.org.Slug, r.PathValue("id"), before, fetch)
	if err != nil {
		return err
	}
	out := list[scimbridge.WebhookAttempt]{Data: atts}
	if len(atts) > limit {
		out.Data = atts[:limit]
	}
	if len(atts) > limit || (len(atts) == limit && fetch == limit) {
		out.Next = cursor("attempt", strconv.FormatInt(out.Data[len(out.Data)-1].ID, 10))
	}
	if out.Data == nil {
		out.Data = []scimbridge.WebhookAttempt{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) redeliver(w http.ResponseWriter, r *http.Request, c *call) error {
	var in struct {
		MessageID string `json:"message_id"`
		AttemptID int64  `json:"attempt_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	var ref string
	switch {
	case in.MessageID != "" && in.AttemptID != 0:
		return scimbridge.Errorf(scimbridge.EINVALID, "give message_id or attempt_id, not both")
	case in.MessageID != "":
		if !strings.HasPrefix(in.MessageID, "msg_") {
			return scimbridge.Errorf(scimbridge.EINVALID, "invalid message_id %q: a message id starts with msg_", in.MessageID)
		}
		ref = in.MessageID
	case in.AttemptID > 0:
		ref = strconv.FormatInt(in.AttemptID, 10)
	default:
		return scimbridge.Errorf(scimbridge.EINVALID, "give message_id (msg_...) or attempt_id of the delivery to send again")
	}
	m, err := s.admin.Redeliver(r.Context(), c.by, c.org.Slug, r.PathValue("id"), ref)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, m)
	return nil
}

// Setup links.

// setupLinkOut is a new setup link: its URL is in this reply only.
type setupLinkOut struct {
	scimbridge.SetupLink
	URL string `json:"url"`
}

func (s *Server) listSetupLinks(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, after, err := page(r, "link")
	if err != nil {
		return err
	}
	all, err := s.admin.SetupLinks(r.Context(), c.org.Slug)
	if err != nil {
		return err
	}
	out, err := offsetPage(all, "link", after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createSetupLink(w http.ResponseWriter, r *http.Request, c *call) error {
	in := struct {
		Role      scimbridge.AdminRole `json:"role"`
		ExpiresIn string               `json:"expires_in"`
	}{Role: scimbridge.AdminOwner}
	if err := decode(r, &in); err != nil {
		return err
	}
	var ttl configs.Duration
	if in.ExpiresIn != "" {
		d, err := configs.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return scimbridge.Errorf(scimbridge.EINVALID, "invalid expires_in %q: use a positive duration like 24h or 7d", in.ExpiresIn)
		}
		ttl = d
	}
	token, l, err := s.admin.CreateSetupLink(r.Context(), c.by, c.principal, c.org.Slug, in.Role, ttl.Duration())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, setupLinkOut{SetupLink: l, URL: s.consoleURL + "/setup/" + token})
	return nil
}

func (s *Server) revokeSetupLink(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.admin.RevokeSetupLink(r.Context(), c.by, c.org.Slug, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
