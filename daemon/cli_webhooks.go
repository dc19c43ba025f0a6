package daemon

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
)

func webhookCommands() []command {
	return []command{
		{name: "webhooks add", args: "--org SLUG --url URL [--types T,...] [--batch N] [--on-reject retry|skip] [--disabled]",
			summary: "add a webhook endpoint; prints its signing secret (once)", run: runWebhooksAdd},
		{name: "webhooks list", args: "--org SLUG", summary: "list webhook endpoints and where their delivery stands", run: runWebhooksList},
		{name: "webhooks remove", args: "--org SLUG ID", summary: "remove a webhook endpoint and its attempts", run: runWebhooksRemove},
		{name: "webhooks enable", args: "--org SLUG ID", summary: "enable a webhook endpoint (after it was disabled)", run: runWebhooksEnable},
		{name: "webhooks disable", args: "--org SLUG ID", summary: "stop delivering to a webhook endpoint", run: runWebhooksDisable},
		{name: "webhooks rotate-secret", args: "--org SLUG ID",
			summary: "give an endpoint a new secret (printed once); the old one signs beside it for 24 hours", run: runWebhooksRotate},
		{name: "webhooks attempts", args: "--org SLUG ID [--limit N] [--before ATTEMPT]",
			summary: "list an endpoint's delivery attempts, newest first, and its set-aside messages", run: runWebhooksAttempts},
		{name: "webhooks redeliver", args: "--org SLUG ID MESSAGE|ATTEMPT",
			summary: "deliver a message again, with the same webhook-id", run: runWebhooksRedeliver},
	}
}

// webhookOut is an endpoint as the command line shows it: its secret only
// when just created or rotated.
type webhookOut struct {
	scimbridge.WebhookEndpoint
	Cursor string `json:"cursor"`
	Secret string `json:"secret,omitempty"`
}

func webhookJSON(e scimbridge.WebhookEndpoint, secret string) webhookOut {
	return webhookOut{WebhookEndpoint: e, Cursor: fmt.Sprintf("%d.%d", e.Delivery.Cursor.Tx, e.Delivery.Cursor.Seq), Secret: secret}
}

func runWebhooksAdd(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("webhooks add --org SLUG --url URL [flags]", true)
	slug := f.String("org", "", "organization `SLUG`")
	url := f.String("url", "", "the receiver's `URL` (https)")
	types := f.String("types", "", "comma-separated change `TYPES` to deliver (default: all)")
	batch := f.Int("batch", 1, "most changes per delivery, `N` from 1 to 100")
	onReject := f.String("on-reject", "retry", "on a 4xx other than 408 and 429: retry, or skip after 5 attempts")
	disabled := f.Bool("disabled", false, "add it without delivering yet")
	s, _, err := c.adminSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	if *url == "" {
		return usagef(f.cmd, "--url is required")
	}
	spec := admin.WebhookSpec{URL: *url, Batch: *batch, OnReject: scimbridge.OnReject(*onReject), Disabled: *disabled}
	for _, t := range strings.Split(*types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			spec.Types = append(spec.Types, scimbridge.ChangeType(t))
		}
	}
	if s.admin.Keyring, err = openKeyring(ctx, s.cfg, c.getenv, s.db, keysSeal); err != nil {
		return err
	}
	secret, e, err := s.admin.AddWebhook(ctx, s.by, *slug, spec)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, webhookJSON(e, secret))
	}
	fmt.Fprintf(c.stdout, "Added webhook %s for %s. The secret is shown only now.\n\n", e.ID, *slug)
	return keyValues(c.stdout, "URL", e.URL, "Secret", secret)
}

func runWebhooksList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("webhooks list --org SLUG", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, _, err := c.adminSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	list, err := s.admin.Webhooks(ctx, *slug)
	if err != nil {
		return err
	}
	if f.json {
		out := make([]webhookOut, len(list))
		for i, e := range list {
			out[i] = webhookJSON(e, "")
		}
		return writeJSON(c.stdout, out)
	}
	t := newTable(c.stdout, "ID", "URL", "TYPES", "BATCH", "ON REJECT", "STATE", "FAILED ATTEMPTS", "NEXT ATTEMPT")
	for _, e := range list {
		state := "enabled"
		if !e.Enabled {
			state = "disabled"
			if e.DisabledReason != "" {
				state += ": " + e.DisabledReason
			}
		}
		types := "all"
		if len(e.Types) > 0 {
			parts := make([]string, len(e.Types))
			for i, t := range e.Types {
				parts[i] = string(t)
			}
			types = strings.Join(parts, ",")
		}
		t.row(e.ID, e.URL, types, strconv.Itoa(e.Batch), string(e.OnReject), state,
			strconv.Itoa(e.Delivery.Attempts), fmtTimePtr(e.Delivery.NextAttemptAt))
	}
	return t.flush()
}

func runWebhooksRemove(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("webhooks remove --org SLUG ID", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, pos, err := c.adminSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.admin.RemoveWebhook(ctx, s.by, *slug, pos[0]); err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, map[string]any{"org": *slug, "id": pos[0], "removed": true})
	}
	fmt.Fprintf(c.stdout, "Removed webhook %s of %s.\n", pos[0], *slug)
	return nil
}

func runWebhooksEnable(ctx context.Context, c *cli, args []string) error {
	return setWebhookEnabled(ctx, c, args, true)
}

func runWebhooksDisable(ctx context.Context, c *cli, args []string) error {
	return setWebhookEnabled(ctx, c, args, false)
}

func setWebhookEnabled(ctx context.Context, c *cli, args []string, on bool) error {
	verb := map[bool]string{true: "enable", false: "disable"}[on]
	f := c.newFlags("webhooks "+verb+" --org SLUG ID", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, pos, err := c.adminSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	e, err := s.admin.SetWebhookEnabled(ctx, s.by, *slug, pos[0], on)
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, webhookJSON(e, ""))
	}
	fmt.Fprintf(c.stdout, "Webhook %s of %s %sd.\n", e.ID, *slug, verb)
	return nil
}

func runWebhooksRotate(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("webhooks rotate-secret --org SLUG ID", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, pos, err := c.adminSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	if s.admin.Keyring, err = openKeyring(ctx, s.cfg, c.getenv, s.db, keysNeeded); err != nil {
		return err
	}
	secret, e, err := s.admin.RotateWebhookSecret(ctx, s.by, *slug, pos[0])
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, webhookJSON(e, secret))
	}
	fmt.Fprintf(c.stdout, "New secret for webhook %s of %s, shown only now. The previous one signs beside it until %s.\n\n",
		e.ID, *slug, fmtTimePtr(e.PreviousExpiresAt))
	return keyValues(c.stdout, "Secret", secret)
}

func runWebhooksAttempts(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("webhooks attempts --org SLUG ID [--limit N] [--before ATTEMPT]", true)
	slug := f.String("org", "", "organization `SLUG`")
	limit := f.Int("limit", 50, "show at most `N` attempts (1 to 1000)")
	before := f.Int64("before", 0, "show attempts older than `ATTEMPT` (an attempt id)")
	s, pos, err := c.adminSession(ctx, f, slug, args, "ID")
	if err != nil {
		return err
	}
	defer s.close()
	attempts, err := s.admin.WebhookAttempts(ctx, *slug, pos[0], *before, *limit)
	if err != nil {
		return err
	}
	kept, err := s.admin.WebhookMessages(ctx, *slug, pos[0])
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, map[string]any{"attempts": attempts, "messages": kept})
	}
	t := newTable(c.stdout, "ATTEMPT", "TIME", "MESSAGE", "CHANGES", "STATUS", "DURATION", "OUTCOME", "REPLY")
	for _, a := range attempts {
		status, reply := strconv.Itoa(a.Status), a.Response
		if a.Status == 0 {
			status, reply = "-", a.Error
		}
		if a.Redelivery {
			a.Outcome += " (redelivery)"
		}
		t.row(strconv.FormatInt(a.ID, 10), fmtTime(a.Time), a.MessageID, strconv.Itoa(a.Changes), status,
			a.Duration.Round(1e5).String(), a.Outcome, oneLine(reply, 60))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(kept) > 0 {
		fmt.Fprintln(c.stdout, "\nKept messages (redeliver with: webhooks redeliver --org SLUG ID MESSAGE):")
		t := newTable(c.stdout, "MESSAGE", "CHANGES", "STATE", "SINCE")
		for _, m := range kept {
			t.row(m.ID, strconv.Itoa(m.Changes), m.State, fmtTime(m.CreatedAt))
		}
		return t.flush()
	}
	return nil
}

func runWebhooksRedeliver(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("webhooks redeliver --org SLUG ID MESSAGE|ATTEMPT", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, pos, err := c.adminSession(ctx, f, slug, args, "ID", "MESSAGE")
	if err != nil {
		return err
	}
	defer s.close()
	m, err := s.admin.Redeliver(ctx, s.by, *slug, pos[0], pos[1])
	if err != nil {
		return err
	}
	if f.json {
		return writeJSON(c.stdout, m)
	}
	fmt.Fprintf(c.stdout, "Message %s queued for redelivery to webhook %s.\n", m.ID, pos[0])
	return nil
}

// oneLine is s on one line, cut to n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
