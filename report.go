package scimbridge

import "time"

// BridgeMode says what a bridge run may do.
type BridgeMode string

const (
	ModeSync       BridgeMode = "sync"        // create, update, deactivate
	ModeUpsertOnly BridgeMode = "upsert-only" // never deactivate
	ModeDryRun     BridgeMode = "dry-run"     // plan and report, apply nothing
)

// HoldPolicy says what a guarded run holds back.
type HoldPolicy string

const (
	HoldGuarded HoldPolicy = "guarded" // only the guarded changes
	HoldAll     HoldPolicy = "all"     // every change of the run
)

// BridgeSettings are an organization's Google bridge settings.
type BridgeSettings struct {
	Schedule         string     `json:"schedule"` // cron, UTC unless CRON_TZ=
	Customer         string     `json:"customer"` // default my_customer
	Domains          []string   `json:"domains,omitempty"`
	OrgUnits         []string   `json:"org_units,omitempty"`
	ExcludedUsers    []string   `json:"excluded_users,omitempty"`
	Mode             BridgeMode `json:"mode"`
	Guard            bool       `json:"guard"` // the deactivation guard, on by default
	Hold             HoldPolicy `json:"hold"`
	IncludeGuests    bool       `json:"include_guests,omitempty"`
	AdminEmail       string     `json:"admin_email,omitempty"`
	CredentialKind   string     `json:"credential_kind,omitempty"` // service_account | oauth
	ExcludedGoogleID []string   `json:"excluded_google_ids,omitempty"`
	// Groups is the Google group scope: "" (groups off), "all",
	// "query:Q" (Google's group search) or "emails:a,b".
	Groups          string `json:"groups,omitempty"`
	FlattenGroups   bool   `json:"flatten_groups,omitempty"`
	UsersFromGroups bool   `json:"users_from_groups,omitempty"`
}

// Bridge is an organization's Google bridge: its sealed credentials,
// settings and run state.
type Bridge struct {
	OrgID               string         `json:"org_id"`
	SealedCredentials   []byte         `json:"-"`
	Settings            BridgeSettings `json:"settings"`
	LastSyncAt          *time.Time     `json:"last_sync_at,omitempty"`
	LastSuccessAt       *time.Time     `json:"last_success_at,omitempty"`
	NextSyncAt          *time.Time     `json:"next_sync_at,omitempty"`
	ConsecutiveFailures int            `json:"consecutive_failures"`
	LastError           string         `json:"last_error,omitempty"`
	NeedsAttention      bool           `json:"needs_attention"`
	CreatedAt           time.Time      `json:"created_at"`
	UpdatedAt           time.Time      `json:"updated_at"`
}

// ReportStatus is how a bridge run ended.
type ReportStatus string

const (
	ReportRunning     ReportStatus = "running"
	ReportApplied     ReportStatus = "applied"
	ReportDryRun      ReportStatus = "dry-run"
	ReportHeld        ReportStatus = "held"
	ReportFailed      ReportStatus = "failed"
	ReportInterrupted ReportStatus = "interrupted"
)

// Trigger is what started a bridge run.
type Trigger string

const (
	TriggerSchedule Trigger = "schedule"
	TriggerManual   Trigger = "manual"
	TriggerApproval Trigger = "approval"
)

// ReportCounts are a run's totals.
type ReportCounts struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Reactivated int `json:"reactivated"`
	Unchanged   int `json:"unchanged"`
	Skipped     int `json:"skipped"`
	Failed      int `json:"failed"`
	Held        int `json:"held"`
	// Groups are the group counts of a run with groups on.
	Groups *GroupCounts `json:"groups,omitempty"`
}

// Report is one bridge run. Its ID is the run id events point to.
type Report struct {
	ID         string       `json:"id"`
	OrgID      string       `json:"org_id"`
	Trigger    Trigger      `json:"trigger"`
	Status     ReportStatus `json:"status"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt *time.Time   `json:"finished_at,omitempty"`
	Counts     ReportCounts `json:"counts"`
	Error      string       `json:"error,omitempty"`
	// Held is set on a report whose plan holds changes awaiting approval.
	HeldUntil *time.Time `json:"held_until,omitempty"`
	// Phases is where a bridge run's time went; nil on reports written
	// before runs recorded it.
	Phases *ReportPhases `json:"phases,omitempty"`
	Items  []ReportItem  `json:"items,omitempty"`
}

// ReportPhases is where a bridge run's time went. Listing is the wall time
// from the first page requested to the last received; planning and
// applying are the time spent in each, summed, so when creates are applied
// while the listing continues they overlap it.
type ReportPhases struct {
	ListingSeconds  float64 `json:"listing_seconds"`
	PlanningSeconds float64 `json:"planning_seconds"`
	ApplyingSeconds float64 `json:"applying_seconds"`
	// Pages are the listing's users.list pages; Changes the changes
	// applied (written).
	Pages   int `json:"pages"`
	Changes int `json:"changes"`
	// PagesPerSecond is Pages over ListingSeconds; ChangesPerSecond is
	// Changes over ApplyingSeconds (0 when nothing was).
	PagesPerSecond   float64 `json:"pages_per_second"`
	ChangesPerSecond float64 `json:"changes_per_second"`
}

// ReportItem is one change (or skip) of a run, with its reason.
type ReportItem struct {
	Kind      ChangeKind    `json:"kind"` // or "skip", "fail", "excluded"
	ProfileID string        `json:"profile_id,omitempty"`
	GoogleID  string        `json:"google_id,omitempty"`
	UserName  string        `json:"username"`
	Reason    string        `json:"reason,omitempty"`
	Fields    []FieldChange `json:"fields,omitempty"`
	Held      bool          `json:"held,omitempty"`
	Error     string        `json:"error,omitempty"`
}

// Lease is the one-run-per-organization lock shared by every replica and
// process.
type Lease struct {
	OrgID     string    `json:"org_id"`
	RunID     string    `json:"run_id"`
	Holder    string    `json:"holder"`
	ExpiresAt time.Time `json:"expires_at"`
}
