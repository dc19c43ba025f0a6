package store_test

import (
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// TestFilter_Conformance runs the same filter, sort and paging expectations
// on both databases, proving they agree.
func TestFilter_Conformance(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		storetest.RunFilters(t, func(t *testing.T) scimbridge.Store { return storetest.OpenSQLite(t) })
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		storetest.RunFilters(t, func(t *testing.T) scimbridge.Store { return storetest.OpenPostgres(t) })
	})
}
