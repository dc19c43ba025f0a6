package main

import (
	"context"
	"sync"

	"github.com/scimbridge/scimbridge/bridge"
)

// floorWorkers is how many members.list listings run at once, as in a
// bridge run.
const floorWorkers = 4

// listGroups lists every group and the direct members of each,
// floorWorkers listings at a time, keeping nothing but counts: the group
// half of a bridge run's listing, with no plan and no store.
func listGroups(ctx context.Context, dir *bridge.Directory) (groups, members int, err error) {
	var ids []string
	if _, err := dir.ListGroups(ctx, bridge.GroupQuery{}, func(page []bridge.GoogleGroup) error {
		for _, g := range page {
			ids = append(ids, g.ID)
		}
		return nil
	}); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan string)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range floorWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				n := 0
				_, err := dir.ListMembers(ctx, id, func(page []bridge.GoogleMember) error {
					n += len(page)
					return nil
				})
				mu.Lock()
				members += n
				if err != nil && first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return len(ids), members, first
}
