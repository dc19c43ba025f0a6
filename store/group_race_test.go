package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestGroupAddWaitsForDetach checks on PostgreSQL that a member being
// detached by a concurrent transaction is not added to a group behind its
// back: the group change waits for the detach and then refuses the member.
// (SQLite has one writer, so the two cannot interleave there.)
func TestGroupAddWaitsForDetach(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenPostgres(t)
	now := time.Now().UTC()
	org := scimbridge.Organization{ID: uuid.NewString(), Slug: "acme", Name: "Acme", CreatedAt: now}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	p := scimbridge.Profile{ID: uuid.NewString(), OrgID: org.ID, Attributes: scimbridge.Attributes{UserName: "ada@example.com"},
		Email: "ada@example.com", State: scimbridge.StateActive, Source: scimbridge.SourceSCIM, Version: 1,
		Role: scimbridge.RoleMember, CreatedAt: now, UpdatedAt: now}
	if err := db.ApplyChange(ctx, scimbridge.ChangeEvent{Change: scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}}); err != nil {
		t.Fatal(err)
	}
	g := scimbridge.Group{ID: uuid.NewString(), OrgID: org.ID, DisplayName: "Eng", Source: scimbridge.SourceSCIM,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := db.ApplyGroupChange(ctx, scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{Kind: scimbridge.ChangeGroupCreate, Group: g}}); err != nil {
		t.Fatal(err)
	}

	// The detach, as the store writes it, left open.
	x := db.WriteSQLX()
	detach, err := x.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer detach.Rollback()
	if _, err := detach.ExecContext(ctx, `UPDATE profiles SET detached_at = $1, version = version + 1 WHERE id = $2`, now, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := detach.ExecContext(ctx, `DELETE FROM group_members WHERE profile_id = $1`, p.ID); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		next := g
		next.Version = 2
		done <- db.ApplyGroupChange(ctx, scimbridge.GroupChangeEvent{Change: scimbridge.GroupChange{
			Kind: scimbridge.ChangeGroupUpdate, Group: next, ExpectedVersion: 1, AddMembers: []string{p.ID}}})
	}()
	for waiting := 0; waiting == 0; {
		select {
		case err := <-done:
			t.Fatalf("the group change did not wait for the detach: %v", err)
		default:
		}
		if err := x.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if err := detach.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; scimbridge.ErrorCode(err) != scimbridge.EINVALID {
		t.Errorf("adding a member detached meanwhile: %v, want invalid", err)
	}
	if gs, err := db.ProfileGroups(ctx, org.ID, p.ID); err != nil || len(gs) != 0 {
		t.Errorf("the detached profile is in %d groups (%v)", len(gs), err)
	}
}
