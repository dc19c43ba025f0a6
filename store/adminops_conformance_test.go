package store_test

import (
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestAdminOps(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storetest.RunAdminOps(t, func(t *testing.T) scimbridge.Store { return storetest.OpenSQLite(t) })
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.RunAdminOps(t, func(t *testing.T) scimbridge.Store { return storetest.OpenPostgres(t) })
	})
}
