package storetest

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/seal"
)

// testSealingKeys: storing sealed credentials records the id of the key
// that sealed them, and only the keys some stored secret still uses.
func testSealingKeys(t *testing.T, s scimbridge.Store) {
	ctx := context.Background()
	keyA, keyB := bytes.Repeat([]byte{'a'}, seal.KeySize), bytes.Repeat([]byte{'b'}, seal.KeySize)
	ringA, err := seal.NewKeyring(keyA)
	if err != nil {
		t.Fatal(err)
	}
	ringB, err := seal.NewKeyring(keyB, keyA)
	if err != nil {
		t.Fatal(err)
	}
	want := func(step string, ids ...string) {
		t.Helper()
		ids = append([]string{}, ids...)
		slices.Sort(ids)
		got, err := s.SealingKeyIDs(ctx)
		if err != nil || !reflect.DeepEqual(got, ids) {
			t.Errorf("%s: sealing key ids = %v, %v; want %v", step, got, err, ids)
		}
	}
	put := func(org scimbridge.Organization, k *seal.Keyring) scimbridge.Bridge {
		t.Helper()
		b := scimbridge.Bridge{OrgID: org.ID, CreatedAt: base, UpdatedAt: base,
			Settings: scimbridge.BridgeSettings{Mode: scimbridge.ModeSync}}
		if k != nil {
			if b.SealedCredentials, err = k.Seal(org.ID, []byte(`{"kind":"x"}`)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutBridge(ctx, b, adminEvent("bridge google set")); err != nil {
			t.Fatal(err)
		}
		return b
	}
	want("empty database")
	acme, globex := newOrg(t, s, "acme"), newOrg(t, s, "globex")
	put(acme, nil)
	want("bridge without credentials")
	put(acme, ringA)
	want("one bridge sealed with A", ringA.KeyID())
	put(globex, ringB)
	want("second bridge sealed with B", ringA.KeyID(), ringB.KeyID())
	put(acme, ringB)
	want("first bridge re-sealed with B", ringB.KeyID())
	b := put(globex, ringB)
	b.SealedCredentials = []byte("not sealed")
	if err := s.PutBridge(ctx, b, adminEvent("bridge google set")); err != nil {
		t.Fatal(err)
	}
	want("a value that is not sealed names no key", ringB.KeyID())
}
