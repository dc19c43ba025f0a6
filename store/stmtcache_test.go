package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

func TestStmtCache_Bounded(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range maxCachedStmts + 20 {
		var got int
		row, err := db.queryRow(ctx, fmt.Sprintf("SELECT %d + ?", i), 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := row.Scan(&got); err != nil || got != i+1 {
			t.Fatalf("query %d = %d, %v; want %d", i, got, err, i+1)
		}
	}
	if n := len(db.readStmts.m); n != maxCachedStmts {
		t.Errorf("%d statements cached, want the bound %d", n, maxCachedStmts)
	}
	if _, ok := db.readStmts.lookup("SELECT 0 + ?"); !ok {
		t.Error("the first statement is not cached")
	}
	db.readStmts.close()
	if n := len(db.readStmts.m); n != 0 {
		t.Errorf("%d statements cached after close", n)
	}
}
