package admin

// The Google bridge: settings and credentials, held plans, key rotation.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/seal"
)

// credentialCheckTimeout bounds the check of new credentials against
// Google.
const credentialCheckTimeout = 2 * time.Minute

// ErrCredentialsRequired is returned by SetGoogleBridge for a new bridge
// given no credentials.
var ErrCredentialsRequired = scimbridge.Errorf(scimbridge.EINVALID,
	"a new bridge needs credentials: a service-account key with the admin email it impersonates, or an OAuth refresh token")

// ErrCredentialsRejected wraps the error of credentials that did not work
// against Google: the caller's mistake, not the daemon's.
var ErrCredentialsRejected = errors.New("the credentials do not work, nothing was stored")

// BridgeChange is a change of an organization's Google bridge. Nil fields
// keep their stored value; a new bridge starts from the defaults (mode
// sync, guard on, hold guarded, every domain and org unit, the default
// schedule).
type BridgeChange struct {
	// ServiceAccountKey (a JSON key file, with AdminEmail, the admin it
	// impersonates) or OAuthRefreshToken (JSON client_id, client_secret,
	// refresh_token) replace the credentials; neither keeps them.
	ServiceAccountKey []byte
	AdminEmail        string
	OAuthRefreshToken []byte

	Customer *string
	Domains  *[]string
	OrgUnits *[]string
	// ExcludedUsers replaces the excluded users; AddExcluded and
	// RemoveExcluded then add and remove users (case-insensitively).
	ExcludedUsers  *[]string
	AddExcluded    []string
	RemoveExcluded []string
	Mode           *scimbridge.BridgeMode
	Schedule       *string
	Guard          *bool
	Hold           *scimbridge.HoldPolicy
	IncludeGuests  *bool
	// Groups is the group scope ("all", "query:Q", "emails:a,b"; "none"
	// or "" switches groups off); FlattenGroups and UsersFromGroups need
	// groups on.
	Groups          *string
	FlattenGroups   *bool
	UsersFromGroups *bool
}

// Validate checks the change without the store: every problem is
// EINVALID.
func (c BridgeChange) Validate() error {
	switch {
	case len(c.ServiceAccountKey) > 0 && len(c.OAuthRefreshToken) > 0:
		return scimbridge.Errorf(scimbridge.EINVALID, "give a service-account key or an OAuth refresh token, not both")
	case len(c.ServiceAccountKey) > 0 && c.AdminEmail == "":
		return scimbridge.Errorf(scimbridge.EINVALID, "a service-account key needs the admin email the service account impersonates")
	}
	if c.Mode != nil {
		switch *c.Mode {
		case scimbridge.ModeSync, scimbridge.ModeUpsertOnly, scimbridge.ModeDryRun:
		default:
			return scimbridge.Errorf(scimbridge.EINVALID, "invalid mode %q: use sync, upsert-only or dry-run", *c.Mode)
		}
	}
	if c.Hold != nil {
		switch *c.Hold {
		case scimbridge.HoldGuarded, scimbridge.HoldAll:
		default:
			return scimbridge.Errorf(scimbridge.EINVALID, "invalid hold %q: use guarded or all", *c.Hold)
		}
	}
	if c.Groups != nil {
		if _, err := bridge.ParseGroupScope(*c.Groups); err != nil {
			return err
		}
	}
	if c.Schedule != nil && strings.TrimSpace(*c.Schedule) != "" {
		if _, err := bridge.ParseSchedule(*c.Schedule, ""); err != nil {
			return err
		}
	}
	return nil
}

// apply returns st with the change's settings; exclusions that change
// drop their pinned Google ids (the next run pins them again).
func (c BridgeChange) apply(st scimbridge.BridgeSettings) scimbridge.BridgeSettings {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&st.Customer, c.Customer)
	if c.Domains != nil {
		st.Domains = *c.Domains
	}
	if c.OrgUnits != nil {
		st.OrgUnits = *c.OrgUnits
	}
	excluded := st.ExcludedUsers
	if c.ExcludedUsers != nil {
		excluded = *c.ExcludedUsers
	}
	excluded = editList(excluded, c.AddExcluded, c.RemoveExcluded)
	if !slices.Equal(st.ExcludedUsers, excluded) {
		st.ExcludedUsers, st.ExcludedGoogleID = excluded, nil
	}
	if c.Mode != nil {
		st.Mode = *c.Mode
	}
	if c.Schedule != nil {
		st.Schedule = strings.TrimSpace(*c.Schedule)
	}
	if c.Guard != nil {
		st.Guard = *c.Guard
	}
	if c.Hold != nil {
		st.Hold = *c.Hold
	}
	if c.IncludeGuests != nil {
		st.IncludeGuests = *c.IncludeGuests
	}
	applyGroups(c, &st)
	return st
}

// editList returns list with the entries of add it lacks appended and
// those of remove dropped, comparing case-insensitively. list itself is
// not changed.
func editList(list, add, remove []string) []string {
	if len(add) == 0 && len(remove) == 0 {
		return list
	}
	out := slices.Clone(list)
	has := func(l []string, v string) bool {
		return slices.ContainsFunc(l, func(s string) bool { return strings.EqualFold(s, v) })
	}
	for _, v := range add {
		if !has(out, v) {
			out = append(out, v)
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return has(remove, s) })
}

// SetGoogleBridge creates or changes the organization's Google bridge. New
// credentials are checked against Google first: when they do not work,
// nothing is stored. The bridge then runs soon, its failure count reset.
func (a *Admin) SetGoogleBridge(ctx context.Context, by Caller, slug string, c BridgeChange) (scimbridge.Bridge, error) {
	return a.setGoogleBridge(ctx, by, slug, c, "PUT", "/bridge/google")
}

// setGoogleBridge is SetGoogleBridge recording method and path as its
// event's.
func (a *Admin) setGoogleBridge(ctx context.Context, by Caller, slug string, c BridgeChange, method, path string) (scimbridge.Bridge, error) {
	if err := c.Validate(); err != nil {
		return scimbridge.Bridge{}, err
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return scimbridge.Bridge{}, err
	}
	b, err := a.Store.Bridge(ctx, org.ID)
	exists := err == nil
	if err != nil && scimbridge.ErrorCode(err) != scimbridge.ENOTFOUND {
		return b, fmt.Errorf("read bridge: %w", err)
	}
	st := b.Settings
	if !exists {
		st = scimbridge.BridgeSettings{Mode: scimbridge.ModeSync, Guard: true, Hold: scimbridge.HoldGuarded}
	}
	st = c.apply(st)
	if err := bridge.CheckGroupSettings(st); err != nil {
		return b, err
	}

	if a.Keyring == nil {
		return b, errors.New("set bridge: no encryption key loaded")
	}
	var creds bridge.Credentials
	switch {
	case len(c.ServiceAccountKey) > 0:
		creds, err = bridge.ParseServiceAccount(c.ServiceAccountKey, c.AdminEmail, a.Google.TokenURL)
		err = invalidCredentials(err)
	case len(c.OAuthRefreshToken) > 0:
		creds, err = bridge.ParseOAuthRefreshToken(c.OAuthRefreshToken, a.Google.TokenURL)
		err = invalidCredentials(err)
	case exists:
		if creds, err = bridge.OpenCredentials(a.Keyring, org.ID, b.SealedCredentials); err != nil {
			return b, fmt.Errorf("%s: give the credentials again: %w", bridge.CannotDecrypt, err)
		}
	default:
		return b, ErrCredentialsRequired
	}
	if err != nil {
		return b, err
	}
	st.CredentialKind, st.AdminEmail = creds.Kind, creds.AdminEmail

	checkCtx, cancel := context.WithTimeout(ctx, credentialCheckTimeout)
	defer cancel()
	dir, err := bridge.NewDirectory(checkCtx, creds, a.Google, nil, a.Logger, a.Clock,
		groupCheckOptions(st, bridge.WithRetryPolicy(bridge.RetryPolicy{MaxAttempts: 3}))...)
	if err == nil {
		err = dir.Check(checkCtx, st.Customer)
	}
	if err == nil {
		err = checkGroups(checkCtx, dir, st)
	}
	if err != nil {
		return b, fmt.Errorf("%w: %w", ErrCredentialsRejected, err)
	}
	sealed, err := bridge.SealCredentials(a.Keyring, org.ID, creds)
	if err != nil {
		return b, err
	}
	now := a.Clock()
	status := 200
	if !exists {
		b, status = scimbridge.Bridge{OrgID: org.ID, CreatedAt: now}, 201
	}
	b.SealedCredentials, b.Settings, b.UpdatedAt = sealed, st, now
	// New settings or credentials: run soon and start the count afresh.
	b.NextSyncAt, b.ConsecutiveFailures, b.LastError, b.NeedsAttention = nil, 0, "", false
	if err := a.Store.PutBridge(ctx, b, a.event(by, org, method, path, status, st)); err != nil {
		return b, fmt.Errorf("store bridge: %w", err)
	}
	return b, nil
}

// invalidCredentials is a credentials file that does not parse: the
// caller's mistake (EINVALID), said as the parser says it.
func invalidCredentials(err error) error {
	if err == nil || scimbridge.ErrorCode(err) != scimbridge.EINTERNAL {
		return err
	}
	return scimbridge.Errorf(scimbridge.EINVALID, "%s", err.Error())
}

// ApproveReport approves the held plan of the report: the approval is a
// bridge run (Runner.Approve) whose report is returned with the run's
// error; the event names the approval's report as its run.
func (a *Admin) ApproveReport(ctx context.Context, by Caller, slug, reportID string) (scimbridge.Report, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return scimbridge.Report{}, err
	}
	rep, runErr := a.Runner.Approve(ctx, org.ID, reportID)
	if rep.ID == "" {
		return rep, runErr
	}
	status := 200
	if runErr != nil {
		status = 500
	}
	ev := a.event(by, org, "POST", "/reports/"+reportID+"/approve", status, nil)
	ev.RunID = rep.ID
	ev.ResponseBody = jsonText(map[string]any{"report_id": reportID, "approval_report_id": rep.ID,
		"status": rep.Status, "counts": rep.Counts})
	// The run happened: its event is written even when ctx ended with it.
	if err := a.record(context.WithoutCancel(ctx), ev); err != nil {
		return rep, errors.Join(runErr, err)
	}
	return rep, runErr
}

// DiscardReport drops the held plan of the report; nothing it held is
// applied.
func (a *Admin) DiscardReport(ctx context.Context, by Caller, slug, reportID string) error {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return err
	}
	hp, _, err := bridge.PendingHeldPlan(ctx, a.Store, org.ID, a.Clock())
	if err != nil {
		return err
	}
	if err := a.Runner.Discard(ctx, org.ID, reportID); err != nil {
		return err
	}
	ev := a.event(by, org, "POST", "/reports/"+reportID+"/discard", 200, nil)
	ev.ResponseBody = jsonText(map[string]any{"report_id": reportID, "changes": hp.Changes})
	return a.record(ctx, ev)
}

// KeyRotation is what RotateKeys did, by organization slug.
type KeyRotation struct {
	KeyID    string            `json:"key_id"`
	Resealed []string          `json:"resealed"`
	Current  []string          `json:"current"`
	Failed   map[string]string `json:"failed,omitempty"`
	// Webhooks counts the webhook endpoints whose secrets were re-sealed.
	Webhooks int `json:"webhooks_resealed"`
}

// RotateKeys seals every bridge's credentials again under the keyring's
// current key, one event per organization re-sealed; the store's record of
// the keys in use follows (PutBridge), so the old key may then be dropped. Bridges whose
// credentials no loaded key opens are listed in Failed; the others are
// re-sealed all the same.
func (a *Admin) RotateKeys(ctx context.Context, by Caller) (KeyRotation, error) {
	k := a.Keyring
	if k == nil {
		return KeyRotation{}, errors.New("rotate keys: no encryption key loaded")
	}
	bridges, err := a.Store.Bridges(ctx)
	if err != nil {
		return KeyRotation{}, fmt.Errorf("list bridges: %w", err)
	}
	out := KeyRotation{KeyID: k.KeyID(), Resealed: []string{}, Current: []string{}, Failed: map[string]string{}}
	for _, b := range bridges {
		org, err := a.Store.Organization(ctx, b.OrgID)
		if err != nil {
			return out, fmt.Errorf("read organization: %w", err)
		}
		if !k.NeedsReseal(b.SealedCredentials) {
			out.Current = append(out.Current, org.Slug)
			continue
		}
		sealed, err := k.Reseal(org.ID, b.SealedCredentials)
		if err != nil {
			out.Failed[org.Slug] = bridge.CannotDecrypt + ": " + seal.Explain(k, b.SealedCredentials)
			continue
		}
		b.SealedCredentials, b.UpdatedAt = sealed, a.Clock()
		ev := a.event(by, org, "POST", "/keys/rotate", 200, map[string]string{"key_id": k.KeyID()})
		if err := a.Store.PutBridge(ctx, b, ev); err != nil {
			return out, fmt.Errorf("store bridge: %w", err)
		}
		out.Resealed = append(out.Resealed, org.Slug)
	}
	return out, a.rotateWebhookKeys(ctx, by, &out)
}
