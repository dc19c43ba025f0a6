package seal_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/seal"
)

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, seal.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeyring_SealOpen(t *testing.T) {
	kr, err := seal.NewKeyring(randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"kind":"service_account","json":"secret"}`)

	t.Run("RoundTrip", func(t *testing.T) {
		sealed, err := kr.Seal("org-1", plain)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("secret")) {
			t.Fatal("sealed value contains the plaintext")
		}
		got, err := kr.Open("org-1", sealed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, want %q", got, plain)
		}
	})

	t.Run("FreshNonce", func(t *testing.T) {
		a, _ := kr.Seal("org-1", plain)
		b, _ := kr.Seal("org-1", plain)
		if bytes.Equal(a, b) {
			t.Fatal("two seals of the same plaintext are equal")
		}
	})

	t.Run("WrongOrgID", func(t *testing.T) {
		sealed, _ := kr.Seal("org-1", plain)
		_, err := kr.Open("org-2", sealed)
		if !errors.Is(err, seal.ErrCannotDecrypt) {
			t.Fatalf("Open with another org id: err = %v, want ErrCannotDecrypt", err)
		}
	})

	t.Run("Tampered", func(t *testing.T) {
		sealed, _ := kr.Seal("org-1", plain)
		sealed[len(sealed)-1] ^= 1
		if _, err := kr.Open("org-1", sealed); !errors.Is(err, seal.ErrCannotDecrypt) {
			t.Fatalf("err = %v, want ErrCannotDecrypt", err)
		}
	})

	t.Run("Garbage", func(t *testing.T) {
		for _, g := range [][]byte{nil, {1, 2}, bytes.Repeat([]byte{9}, 40)} {
			if _, err := kr.Open("org-1", g); !errors.Is(err, seal.ErrCannotDecrypt) {
				t.Fatalf("Open(%x): err = %v, want ErrCannotDecrypt", g, err)
			}
		}
	})

	t.Run("MissingKey", func(t *testing.T) {
		other, _ := seal.NewKeyring(randomKey(t))
		sealed, _ := other.Seal("org-1", plain)
		_, err := kr.Open("org-1", sealed)
		if !errors.Is(err, seal.ErrCannotDecrypt) {
			t.Fatalf("err = %v, want ErrCannotDecrypt", err)
		}
		if got := err.Error(); got[:len("cannot decrypt credentials")] != "cannot decrypt credentials" {
			t.Fatalf("message %q does not start with the status text", got)
		}
	})

	t.Run("EmptyOrgID", func(t *testing.T) {
		if _, err := kr.Seal("", plain); err == nil {
			t.Fatal("Seal with empty org id succeeded")
		}
	})
}

func TestKeyring_Rotation(t *testing.T) {
	oldKey, newKey := randomKey(t), randomKey(t)
	oldRing, _ := seal.NewKeyring(oldKey)
	sealed, err := oldRing.Seal("org-1", []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := seal.NewKeyring(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("PreviousKeyDecrypts", func(t *testing.T) {
		got, err := rotated.Open("org-1", sealed)
		if err != nil || string(got) != "payload" {
			t.Fatalf("Open = %q, %v", got, err)
		}
	})

	t.Run("NeedsReseal", func(t *testing.T) {
		if !rotated.NeedsReseal(sealed) {
			t.Fatal("value under the previous key does not need resealing")
		}
		if oldRing.NeedsReseal(sealed) {
			t.Fatal("value under the current key needs resealing")
		}
		if !rotated.NeedsReseal([]byte{0}) {
			t.Fatal("unparseable value does not need resealing")
		}
	})

	t.Run("Reseal", func(t *testing.T) {
		resealed, err := rotated.Reseal("org-1", sealed)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.NeedsReseal(resealed) {
			t.Fatal("resealed value still needs resealing")
		}
		id, _ := seal.SealedKeyID(resealed)
		if id != rotated.KeyID() {
			t.Fatalf("resealed key id %s, want %s", id, rotated.KeyID())
		}
		newOnly, _ := seal.NewKeyring(newKey)
		if got, err := newOnly.Open("org-1", resealed); err != nil || string(got) != "payload" {
			t.Fatalf("new key alone: Open = %q, %v", got, err)
		}
		if _, err := oldRing.Open("org-1", resealed); !errors.Is(err, seal.ErrCannotDecrypt) {
			t.Fatalf("old key opened a value resealed under the new key: %v", err)
		}
	})

	t.Run("KeyID", func(t *testing.T) {
		sum := sha256.Sum256(newKey)
		if want := hex.EncodeToString(sum[:])[:8]; rotated.KeyID() != want {
			t.Fatalf("KeyID = %s, want %s", rotated.KeyID(), want)
		}
		if ids := rotated.KeyIDs(); len(ids) != 2 || ids[0] != rotated.KeyID() {
			t.Fatalf("KeyIDs = %v", ids)
		}
	})
}

func TestLoadKeyring(t *testing.T) {
	dir := t.TempDir()
	raw := randomKey(t)
	prev := randomKey(t)
	rawFile := writeFile(t, dir, "raw", raw)
	b64File := writeFile(t, dir, "b64", []byte(base64.StdEncoding.EncodeToString(prev)+"\n"))

	t.Run("RawAndBase64", func(t *testing.T) {
		kr, err := seal.LoadKeyring(rawFile, []string{b64File})
		if err != nil {
			t.Fatal(err)
		}
		prevRing, _ := seal.NewKeyring(prev)
		sealed, _ := prevRing.Seal("o", []byte("x"))
		if got, err := kr.Open("o", sealed); err != nil || string(got) != "x" {
			t.Fatalf("base64 previous key: Open = %q, %v", got, err)
		}
		direct, _ := seal.NewKeyring(raw)
		if kr.KeyID() != direct.KeyID() {
			t.Fatalf("raw key file id %s, want %s", kr.KeyID(), direct.KeyID())
		}
	})

	t.Run("BadKeyFiles", func(t *testing.T) {
		cases := map[string][]byte{
			"short":      raw[:31],
			"long":       append(append([]byte{}, raw...), 0),
			"base64-16":  []byte(base64.StdEncoding.EncodeToString(raw[:16])),
			"not-base64": bytes.Repeat([]byte("!"), 44),
		}
		for name, data := range cases {
			p := writeFile(t, dir, name, data)
			if _, err := seal.LoadKeyring(p, nil); err == nil {
				t.Errorf("%s: LoadKeyring succeeded", name)
			}
			if _, err := seal.LoadKeyring(rawFile, []string{p}); err == nil {
				t.Errorf("%s as previous key: LoadKeyring succeeded", name)
			}
		}
	})

	t.Run("MissingFile", func(t *testing.T) {
		if _, err := seal.LoadKeyring(filepath.Join(dir, "nope"), nil); err == nil {
			t.Fatal("LoadKeyring of a missing file succeeded")
		}
		if _, err := seal.LoadKeyring("", nil); err == nil {
			t.Fatal("LoadKeyring with no file succeeded")
		}
	})
}

func TestEnsureKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")

	t.Run("Generates", func(t *testing.T) {
		path, err := seal.EnsureKeyFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(dir, seal.KeyFileName) {
			t.Fatalf("path = %s", path)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || fi.Size() != seal.KeySize {
			t.Fatalf("mode %v size %d, want 0600 and %d", fi.Mode().Perm(), fi.Size(), seal.KeySize)
		}
		if _, err := seal.LoadKeyring(path, nil); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("data dir holds %d entries, want only the key", len(entries))
		}
	})

	t.Run("KeepsExisting", func(t *testing.T) {
		path := filepath.Join(dir, seal.KeyFileName)
		before, _ := os.ReadFile(path)
		if _, err := seal.EnsureKeyFile(dir); err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Fatal("EnsureKeyFile replaced an existing key")
		}
	})
}

func TestExplainAndMissingKeyIDs(t *testing.T) {
	a, b := randomKey(t), randomKey(t)
	ringA, err := seal.NewKeyring(a)
	if err != nil {
		t.Fatal(err)
	}
	ringB, err := seal.NewKeyring(b)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ringA.Seal("org-1", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := seal.Explain(ringB, sealed), "needs key "+ringA.KeyID()+"; keys loaded: "+ringB.KeyID(); got != want {
		t.Errorf("Explain = %q, want %q", got, want)
	}
	if got, want := seal.Explain(nil, sealed), "needs key "+ringA.KeyID()+"; keys loaded: none"; got != want {
		t.Errorf("Explain(nil) = %q, want %q", got, want)
	}
	both, err := seal.NewKeyring(b, a)
	if err != nil {
		t.Fatal(err)
	}
	recorded := []string{ringA.KeyID(), ringB.KeyID()}
	if got := seal.MissingKeyIDs(both, recorded); len(got) != 0 {
		t.Errorf("missing with both keys = %v, want none", got)
	}
	if got := seal.MissingKeyIDs(ringB, recorded); len(got) != 1 || got[0] != ringA.KeyID() {
		t.Errorf("missing with B = %v, want [%s]", got, ringA.KeyID())
	}
	if got := seal.MissingKeyIDs(nil, recorded); len(got) != 2 {
		t.Errorf("missing with no keyring = %v, want both", got)
	}
}
