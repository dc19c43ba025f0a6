package feed

import (
	"context"
	"time"

	"github.com/scimbridge/scimbridge"
)

// fakeStore is an empty feed, for input tests that never reach a database.
type fakeStore struct{}

func (fakeStore) ChangesAfter(context.Context, string, scimbridge.ChangePosition, int) ([]scimbridge.ChangeRecord, error) {
	return nil, nil
}
func (fakeStore) ChangesHead(context.Context, string) (scimbridge.ChangePosition, error) {
	return scimbridge.ChangePosition{}, nil
}
func (fakeStore) OldestChange(context.Context, string) (scimbridge.ChangePosition, bool, error) {
	return scimbridge.ChangePosition{}, false, nil
}
func (fakeStore) PurgeChanges(context.Context, time.Time, int) (int, error) { return 0, nil }
func (fakeStore) ChangesPurgedThrough(context.Context) (scimbridge.ChangePosition, bool, error) {
	return scimbridge.ChangePosition{}, false, nil
}
