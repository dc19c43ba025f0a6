package bridge

import (
	"math/big"
	"testing"
)

// FuzzParseGID feeds arbitrary Google ids to the compact index's key: an
// id it accepts is a canonical decimal number that its key writes back
// exactly, so two distinct ids never share a key; anything else is
// refused (and kept whole by the index).
func FuzzParseGID(f *testing.F) {
	for _, seed := range []string{"1", "0", "100000000000000000001", "118000000000000000123",
		"340282366920938463463374607431768211455", "340282366920938463463374607431768211456",
		"99999999999999999999999999999999999999", "007", "12a", "", "-1", "1 2"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, ok := parseGID(s)
		if !ok {
			return
		}
		v := new(big.Int).Lsh(new(big.Int).SetUint64(k.hi), 64)
		v.Or(v, new(big.Int).SetUint64(k.lo))
		if v.String() != s {
			t.Fatalf("parseGID(%q) = %s", s, v)
		}
		if k.String() != s {
			t.Fatalf("parseGID(%q).String() = %q", s, k.String())
		}
	})
}
