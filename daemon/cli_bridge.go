package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/internal/seal"
)

const (
	bridgeSetUsage = "bridge google set --org SLUG (--credentials KEY.json --admin-email EMAIL | --oauth-refresh-token-file F) " +
		"[--customer C] [--domain D ...] [--org-unit P ...] [--exclude U ...] [--add-exclude U ...] [--remove-exclude U ...] " +
		"[--mode sync|upsert-only|dry-run] " +
		"[--schedule CRON] [--guard=true] [--hold guarded|all] [--include-guests] " +
		"[--groups all|query:Q|emails:A,B|none] [--flatten-groups] [--users-from-groups]"
)

func bridgeCommands() []command {
	return []command{
		{name: "bridge google set", args: strings.TrimPrefix(bridgeSetUsage, "bridge google set "),
			summary: "configure the Google Workspace bridge; checks the credentials first", run: runBridgeSet},
		{name: "bridge sync", args: "--org SLUG [--dry-run] [--items]", summary: "run the bridge once now and print its report", run: runBridgeSync},
		{name: "bridge status", args: "--org SLUG", summary: "show the bridge's last and next sync, errors and held plan", run: runBridgeStatus},
		{name: "reports list", args: "--org SLUG [--limit N]", summary: "list the bridge's reconcile reports, newest first", run: runReportsList},
		{name: "reports show", args: strings.TrimPrefix(reportsShowUsage, "reports show "), summary: "show a reconcile report: a summary, or its items", run: runReportsShow},
		{name: "reports approve", args: "--org SLUG ID [--items]", summary: "approve a held plan: re-list Google and apply what is still planned", run: runReportsApprove},
		{name: "reports discard", args: "--org SLUG ID", summary: "discard a held plan", run: runReportsDiscard},
		{name: "keys rotate", summary: "re-seal every bridge's credentials and webhook secret under the current encryption key", run: runKeysRotate},
	}
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	if v = strings.TrimSpace(v); v != "" {
		*l = append(*l, v)
	}
	return nil
}

func endpoints(cfg configs.Config) bridge.Endpoints {
	return bridge.Endpoints{APIEndpoint: cfg.Google.APIEndpoint, TokenURL: cfg.Google.TokenURL}
}

// newRunner is a bridge runner for one command; its holder names this
// process, so a running serve and the command never share a lease.
func (c *cli) newRunner(s *session, k *seal.Keyring) *bridge.Runner {
	host, _ := os.Hostname()
	return &bridge.Runner{Store: s.db, Keyring: k, Endpoints: endpoints(s.cfg), Logger: s.logger, Clock: c.clock,
		Holder: fmt.Sprintf("cli-%s-%d", host, os.Getpid()), PublicURL: s.cfg.PublicURL}
}

func runBridgeSet(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags(bridgeSetUsage, true)
	slug := f.String("org", "", "organization `SLUG`")
	keyFile := f.String("credentials", "", "service-account key `FILE` (JSON, domain-wide delegation)")
	adminEmail := f.String("admin-email", "", "admin `EMAIL` the service account impersonates")
	oauthFile := f.String("oauth-refresh-token-file", "", "OAuth refresh-token `FILE` (JSON client_id, client_secret, refresh_token)")
	customer := f.String("customer", "", "Google `CUSTOMER` id (default my_customer)")
	var domains, orgUnits, excluded, addExcluded, removeExcluded stringList
	f.Var(&domains, "domain", "sync only users of `DOMAIN` (repeatable; replaces the list)")
	f.Var(&orgUnits, "org-unit", "sync only users in org unit `PATH` or below (repeatable; replaces the list)")
	f.Var(&excluded, "exclude", "never sync `USER` (primary email or alias; repeatable; replaces the list)")
	f.Var(&addExcluded, "add-exclude", "add `USER` to the excluded users (repeatable)")
	f.Var(&removeExcluded, "remove-exclude", "remove `USER` from the excluded users (repeatable)")
	mode := f.String("mode", string(scimbridge.ModeSync), "`MODE`: sync, upsert-only or dry-run")
	schedule := f.String("schedule", "", "`CRON` schedule, UTC unless prefixed CRON_TZ= (default every 15 minutes)")
	guard := f.Bool("guard", true, "hold mass deactivations and reactivations for approval")
	hold := f.String("hold", string(scimbridge.HoldGuarded), "what a guarded run holds: `guarded` changes or all")
	guests := f.Bool("include-guests", false, "sync guest users too")
	gf := addGroupFlags(f)
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	if err := requireOrg(f, *slug); err != nil {
		return err
	}
	if *keyFile != "" && *oauthFile != "" {
		return usagef(f.cmd, "give --credentials or --oauth-refresh-token-file, not both")
	}
	if *keyFile != "" && *adminEmail == "" {
		return usagef(f.cmd, "--credentials needs --admin-email, the admin the service account impersonates")
	}
	// Flags given change the setting; the others keep the stored value
	// (or the default, for a new bridge).
	var ch admin.BridgeChange
	f.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "customer":
			ch.Customer = customer
		case "domain":
			ch.Domains = (*[]string)(&domains)
		case "org-unit":
			ch.OrgUnits = (*[]string)(&orgUnits)
		case "exclude":
			ch.ExcludedUsers = (*[]string)(&excluded)
		case "add-exclude":
			ch.AddExcluded = addExcluded
		case "remove-exclude":
			ch.RemoveExcluded = removeExcluded
		case "mode":
			ch.Mode = (*scimbridge.BridgeMode)(mode)
		case "schedule":
			ch.Schedule = schedule
		case "guard":
			ch.Guard = guard
		case "hold":
			ch.Hold = (*scimbridge.HoldPolicy)(hold)
		case "include-guests":
			ch.IncludeGuests = guests
		default:
			gf.set(fl.Name, &ch)
		}
	})
	if err := ch.Validate(); err != nil {
		return usagef(f.cmd, "%s", scimbridge.ErrorMessage(err))
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	if s.admin.Keyring, err = openKeyring(ctx, s.cfg, c.getenv, s.db, keysSeal); err != nil {
		return err
	}
	switch {
	case *keyFile != "":
		ch.ServiceAccountKey, err = os.ReadFile(*keyFile)
		ch.AdminEmail = *adminEmail
	case *oauthFile != "":
		ch.OAuthRefreshToken, err = os.ReadFile(*oauthFile)
	}
	if err != nil {
		return fmt.Errorf("read credentials: %w", err)
	}
	b, err := s.admin.SetGoogleBridge(ctx, s.by, *slug, ch)
	if errors.Is(err, admin.ErrCredentialsRequired) {
		return usagef(f.cmd, "give --credentials KEY.json --admin-email EMAIL or --oauth-refresh-token-file F")
	} else if err != nil {
		return err
	}
	st := b.Settings
	if f.json {
		return writeJSON(c.stdout, map[string]any{"org": *slug, "settings": st, "schedule": effectiveSchedule(b), "checked": true})
	}
	fmt.Fprintf(c.stdout, "Google bridge set for %s: the credentials work (%s).\n", *slug, credentialText(st))
	fmt.Fprintf(c.stdout, "Excluded users: %s.\n", excludedText(st))
	fmt.Fprintf(c.stdout, "'scimbridge serve' runs it on schedule %q; 'scimbridge bridge sync --org %s' runs it now.\n",
		effectiveSchedule(b), *slug)
	return nil
}

func credentialText(st scimbridge.BridgeSettings) string {
	if st.CredentialKind == bridge.KindServiceAccount {
		return "service account impersonating " + st.AdminEmail
	}
	return "OAuth refresh token"
}

func effectiveSchedule(b scimbridge.Bridge) string {
	if b.Settings.Schedule != "" {
		return b.Settings.Schedule
	}
	return bridge.DefaultSchedule(b.OrgID)
}

func runBridgeSync(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("bridge sync --org SLUG [--dry-run] [--items]", true)
	slug := f.String("org", "", "organization `SLUG`")
	dryRun := f.Bool("dry-run", false, "plan and report without applying anything")
	items := f.Bool("items", false, "list every item of the report instead of a summary")
	s, org, _, err := c.orgSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	keyring, err := openKeyring(ctx, s.cfg, c.getenv, s.db, keysNeeded)
	if err != nil {
		return err
	}
	runner := c.newRunner(s, keyring)
	stop := c.showProgress(s, runner)
	rep, runErr := runner.RunOnce(ctx, org.ID, scimbridge.TriggerManual, *dryRun)
	stop()
	return c.printRun(ctx, s, reportView{slug: org.Slug, json: f.json, items: *items}, rep, runErr)
}

func runBridgeStatus(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("bridge status --org SLUG", true)
	slug := f.String("org", "", "organization `SLUG`")
	s, org, _, err := c.orgSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	b, err := s.db.Bridge(ctx, org.ID)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no Google bridge for %q: see 'scimbridge bridge google set'", org.Slug)
	} else if err != nil {
		return fmt.Errorf("read bridge: %w", err)
	}
	now := c.clock()
	st := bridgeStatus{Org: org.Slug, Bridge: b, Schedule: effectiveSchedule(b), Credentials: "ok"}
	k, _ := openKeyring(ctx, s.cfg, c.getenv, s.db, keysInspect)
	if _, err := bridge.OpenCredentials(k, org.ID, b.SealedCredentials); err != nil {
		st.Credentials = bridge.CannotDecrypt + ": " + seal.Explain(k, b.SealedCredentials)
	}
	if hp, ok, err := bridge.PendingHeldPlan(ctx, s.db, org.ID, now); err != nil {
		return err
	} else if ok {
		st.HeldPlan = &hp
	}
	if l, err := s.db.CurrentLease(ctx, org.ID); err == nil && l.ExpiresAt.After(now) {
		st.Running = &l
	}
	if reps, err := s.db.Reports(ctx, org.ID, 1); err == nil && len(reps) > 0 {
		st.LastReport = &reps[0]
	}
	st.Status = st.state()
	if f.json {
		return writeJSON(c.stdout, st)
	}
	kv := []string{"organization", org.Slug, "status", st.Status, "credentials", credentialText(b.Settings),
		"mode", string(b.Settings.Mode), "scope", scopeText(b.Settings), "groups", bridge.GroupsText(b.Settings), "excluded users", excludedText(b.Settings),
		"guard", guardText(b.Settings), "schedule", st.Schedule,
		"last sync", fmtTimePtr(b.LastSyncAt), "last success", fmtTimePtr(b.LastSuccessAt),
		"next sync", fmtTimePtr(b.NextSyncAt), "last error", b.LastError}
	if st.Running != nil {
		kv = append(kv, "running", "run "+st.Running.RunID+" on "+st.Running.Holder)
	}
	if hp := st.HeldPlan; hp != nil {
		note := fmt.Sprintf("report %s: %s, expires %s", hp.ReportID, plural(hp.Changes, "change", "changes"), fmtTime(hp.Expires))
		if hp.Expired {
			note = fmt.Sprintf("report %s: expired %s", hp.ReportID, fmtTime(hp.Expires))
		}
		kv = append(kv, "held plan", note)
	}
	if r := st.LastReport; r != nil {
		kv = append(kv, "last report", fmt.Sprintf("%s (%s, %s)", r.ID, r.Trigger, r.Status))
		if r.Phases != nil {
			kv = append(kv, "last run phases", phasesText(*r.Phases))
		}
	}
	return keyValues(c.stdout, kv...)
}

func runKeysRotate(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("keys rotate", true)
	if _, err := c.parse(f, args); err != nil {
		return err
	}
	s, err := c.open(ctx, f)
	if err != nil {
		return err
	}
	defer s.close()
	if s.admin.Keyring, err = openKeyring(ctx, s.cfg, c.getenv, s.db, keysNeeded); err != nil {
		return err
	}
	out, err := s.admin.RotateKeys(ctx, s.by)
	if err != nil {
		return err
	}
	if f.json {
		if err := writeJSON(c.stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.stdout, "Current key %s: %s re-sealed, %d already current; %s re-sealed.\n", out.KeyID,
			plural(len(out.Resealed), "bridge", "bridges"), len(out.Current), plural(out.Webhooks, "webhook secret", "webhook secrets"))
		for slug, why := range out.Failed {
			fmt.Fprintf(c.stdout, "  failed: %s: %s\n", slug, why)
		}
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("%s could not be re-sealed: load the key they were sealed with in encryption_previous_keys", plural(len(out.Failed), "bridge", "bridges"))
	}
	return nil
}
