package admin

// Admin tokens with a role and a name, operator tokens, and the Google
// bridge's disconnect, runs and status: the operations the admin API adds.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

// touchEvery is how often a token's last use is written at most.
const touchEvery = time.Minute

// TokenSpec describes an admin or operator token to create.
type TokenSpec struct {
	// Role is owner, viewer or app; empty for an operator token.
	Role scimbridge.AdminRole `json:"role,omitempty"`
	// Name says what the token is for (at most 100 characters).
	Name string `json:"name,omitempty"`
	// Expires is the token's lifetime; 0 never expires.
	Expires time.Duration `json:"-"`
}

const maxTokenName = 100

func (s TokenSpec) check(operator bool) error {
	if !operator {
		switch s.Role {
		case scimbridge.AdminOwner, scimbridge.AdminViewer, scimbridge.AdminApp:
		default:
			return scimbridge.Errorf(scimbridge.EINVALID, "invalid role %q: use owner, viewer or app", s.Role)
		}
	}
	if s.Expires < 0 {
		return scimbridge.Errorf(scimbridge.EINVALID, "invalid expiry %s: must be positive", s.Expires)
	}
	if len([]rune(s.Name)) > maxTokenName {
		return scimbridge.Errorf(scimbridge.EINVALID, "name too long: at most %d characters", maxTokenName)
	}
	return nil
}

// newToken is the stored form of a fresh token.
func (a *Admin) newToken(token string, hash []byte, s TokenSpec) scimbridge.AdminToken {
	now := a.Clock()
	t := scimbridge.AdminToken{ID: uuid.NewString(), Role: s.Role, Name: s.Name, TokenHash: hash,
		Prefix: token[:len("scba_")+6], CreatedAt: now}
	if s.Expires > 0 {
		at := now.Add(s.Expires)
		t.ExpiresAt = &at
	}
	return t
}

// CreateToken creates an admin token of the organization (role owner,
// viewer or app) and returns it, shown once, with its stored fields.
func (a *Admin) CreateToken(ctx context.Context, by Caller, slug string, s TokenSpec) (string, scimbridge.AdminToken, error) {
	if err := s.check(false); err != nil {
		return "", scimbridge.AdminToken{}, err
	}
	org, err := a.Org(ctx, slug)
	if err != nil {
		return "", scimbridge.AdminToken{}, err
	}
	token, hash := scimbridge.NewAdminToken()
	t := a.newToken(token, hash, s)
	t.OrgID = org.ID
	ev := a.event(by, org, "POST", "/admin-tokens", 201, map[string]any{"role": s.Role, "name": s.Name, "expires_at": t.ExpiresAt})
	ev.ResponseBody = jsonText(t) // the token itself is never in it
	if err := a.Store.CreateAdminToken(ctx, t, ev); err != nil {
		return "", t, fmt.Errorf("create admin token: %w", err)
	}
	return token, t, nil
}

// AdminTokens lists the organization's admin tokens (never the tokens).
func (a *Admin) AdminTokens(ctx context.Context, org scimbridge.Organization) ([]scimbridge.AdminToken, error) {
	ts, err := a.Store.AdminTokens(ctx, org.ID)
	if err != nil {
		return nil, fmt.Errorf("list admin tokens: %w", err)
	}
	return ts, nil
}

// operatorEvent is the event of an operation on operator tokens: it names
// no organization.
func (a *Admin) operatorEvent(by Caller, method, path string, status int, body any) scimbridge.Event {
	ev := a.event(by, scimbridge.Organization{}, method, "", status, body)
	ev.Path = "/api/admin/v1/operator-tokens" + path
	return ev
}

// CreateOperatorToken creates an operator token (scbo_), which acts on
// every organization through the API, and returns it, shown once.
func (a *Admin) CreateOperatorToken(ctx context.Context, by Caller, s TokenSpec) (string, scimbridge.AdminToken, error) {
	s.Role = ""
	if err := s.check(true); err != nil {
		return "", scimbridge.AdminToken{}, err
	}
	token, hash := scimbridge.NewOperatorToken()
	t := a.newToken(token, hash, s)
	t.Operator = true
	ev := a.operatorEvent(by, "POST", "", 201, map[string]any{"name": s.Name, "expires_at": t.ExpiresAt})
	ev.ResponseBody = jsonText(t)
	if err := a.Store.CreateOperatorToken(ctx, t, ev); err != nil {
		return "", t, fmt.Errorf("create operator token: %w", err)
	}
	return token, t, nil
}

// RevokeOperatorToken revokes the operator token id.
func (a *Admin) RevokeOperatorToken(ctx context.Context, by Caller, id string) error {
	err := a.Store.RevokeOperatorToken(ctx, id, a.Clock(), a.operatorEvent(by, "DELETE", "/"+id, 204, nil))
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Errorf(scimbridge.ENOTFOUND, "no operator token %q", id)
	} else if err != nil {
		return fmt.Errorf("revoke operator token: %w", err)
	}
	return nil
}

// ErrNoBridge is the error of bridge operations on an organization with no
// Google bridge.
var ErrNoBridge = scimbridge.Errorf(scimbridge.ENOTFOUND, "no Google bridge: connect Google Workspace first")

// DisconnectGoogleBridge removes the organization's Google bridge, its
// credentials and its held plan; its profiles stay Google-managed and its
// reports stay.
func (a *Admin) DisconnectGoogleBridge(ctx context.Context, by Caller, slug string) error {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return err
	}
	err = a.Store.DeleteBridge(ctx, org.ID, a.event(by, org, "DELETE", "/bridge/google", 204, nil))
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return ErrNoBridge
	} else if err != nil {
		return fmt.Errorf("disconnect bridge: %w", err)
	}
	return nil
}

// RunGoogleBridge runs the organization's bridge once now (a dry run plans
// and reports without applying) and returns its report with the run's
// error; the event names the run.
func (a *Admin) RunGoogleBridge(ctx context.Context, by Caller, slug string, dryRun bool) (scimbridge.Report, error) {
	org, err := a.Org(ctx, slug)
	if err != nil {
		return scimbridge.Report{}, err
	}
	if _, err := a.Store.Bridge(ctx, org.ID); scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Report{}, ErrNoBridge
	} else if err != nil {
		return scimbridge.Report{}, fmt.Errorf("read bridge: %w", err)
	}
	if a.Runner == nil {
		return scimbridge.Report{}, errors.New("run bridge: no runner")
	}
	rep, runErr := a.Runner.RunOnce(ctx, org.ID, scimbridge.TriggerManual, dryRun)
	if rep.ID == "" {
		return rep, runErr
	}
	path, status := "/bridge/google/run", 200
	if dryRun {
		path = "/bridge/google/dry-run"
	}
	if runErr != nil {
		status = 500
	}
	ev := a.event(by, org, "POST", path, status, nil)
	ev.RunID = rep.ID
	ev.ResponseBody = jsonText(map[string]any{"report_id": rep.ID, "status": rep.Status, "counts": rep.Counts})
	if err := a.record(context.WithoutCancel(ctx), ev); err != nil {
		return rep, errors.Join(runErr, err)
	}
	return rep, runErr
}

// BridgeStatus is the state of an organization's Google bridge, as the
// CLI's bridge status shows it.
type BridgeStatus struct {
	Bridge scimbridge.Bridge `json:"bridge"`
	// Schedule is the effective schedule (the default when unset).
	Schedule   string             `json:"schedule"`
	HeldPlan   *bridge.HeldPlan   `json:"held_plan,omitempty"`
	Running    *scimbridge.Lease  `json:"running,omitempty"`
	LastReport *scimbridge.Report `json:"last_report,omitempty"`
}

// GoogleBridgeStatus reads the organization's bridge with its held plan,
// running lease and last report; ErrNoBridge when there is none.
func (a *Admin) GoogleBridgeStatus(ctx context.Context, org scimbridge.Organization) (BridgeStatus, error) {
	b, err := a.Store.Bridge(ctx, org.ID)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return BridgeStatus{}, ErrNoBridge
	} else if err != nil {
		return BridgeStatus{}, fmt.Errorf("read bridge: %w", err)
	}
	st := BridgeStatus{Bridge: b, Schedule: b.Settings.Schedule}
	if st.Schedule == "" {
		st.Schedule = bridge.DefaultSchedule(org.ID)
	}
	now := a.Clock()
	if hp, ok, err := bridge.PendingHeldPlan(ctx, a.Store, org.ID, now); err != nil {
		return st, err
	} else if ok {
		st.HeldPlan = &hp
	}
	if l, err := a.Store.CurrentLease(ctx, org.ID); err == nil && l.ExpiresAt.After(now) {
		st.Running = &l
	}
	if reps, err := a.Store.Reports(ctx, org.ID, 1); err == nil && len(reps) > 0 {
		st.LastReport = &reps[0]
	}
	return st, nil
}
