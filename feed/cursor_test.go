package feed

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scimbridge/scimbridge"
)

func TestCursor_RoundTrip(t *testing.T) {
	for _, p := range []scimbridge.ChangePosition{{}, {Tx: 0, Seq: 1}, {Tx: 5451, Seq: 12}, {Tx: math.MaxInt64, Seq: math.MaxInt64}} {
		c := EncodeCursor(p)
		got, err := DecodeCursor(c)
		if err != nil || got != p {
			t.Errorf("%v -> %q -> %v, %v", p, c, got, err)
		}
	}
}

func TestCursor_MalformedIsInvalid(t *testing.T) {
	for _, c := range []string{"", "x", "c1_", "c1_!!", "c1_" + "MTIz", "c2_MC4x", "c1_LTEuMQ", "c1_MDEuMQ", "c1_MC4x=",
		"c1_KzEuMQ", "c1_MS4", "c1_OTIyMzM3MjAzNjg1NDc3NTgwOC4x"} {
		if _, err := DecodeCursor(c); scimbridge.ErrorCode(err) != scimbridge.EINVALID {
			t.Errorf("cursor %q: %v, want EINVALID", c, err)
		}
	}
}

// FuzzDecodeCursor: any string either fails as EINVALID or is the
// canonical cursor of the position it decodes to.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", "c1_MC4w", EncodeCursor(scimbridge.ChangePosition{Tx: 77, Seq: 3}), "c1_LTEuMQ", "c1_MDEuMQ", "c1_" + string([]byte{0xff})} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := DecodeCursor(s)
		if err != nil {
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID {
				t.Fatalf("%q: error %v is not EINVALID", s, err)
			}
			return
		}
		if EncodeCursor(p) != s || p.Tx < 0 || p.Seq < 0 {
			t.Fatalf("%q decodes to %v", s, p)
		}
	})
}

// FuzzServeChanges: no query string makes the handler answer 500 or
// panic; a bad one is 400.
func FuzzServeChanges(f *testing.F) {
	for _, q := range []string{"", "after=c1_MC4w", "limit=0", "limit=1001", "limit=x", "wait=-1s", "wait=abc", "wait=0",
		"after=zzz", "after=c1_MC4w&limit=5&wait=0s", "limit=99999999999999999999", "wait=9999999999999"} {
		f.Add(q)
	}
	s := &fakeStore{}
	fd := &Feed{Store: s}
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest(http.MethodGet, "/changes", nil)
		req.URL.RawQuery = q
		// A fuzzed wait that parses must not make the test wait.
		if vals := req.URL.Query(); vals.Get("wait") != "" {
			if _, _, err := parseParams("", vals.Get("wait")); err == nil {
				vals.Set("wait", "0s")
				req.URL.RawQuery = vals.Encode()
			}
		}
		w := httptest.NewRecorder()
		fd.ServeChanges(w, req, scimbridge.Organization{ID: "org"})
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("%q: status %d: %s", q, w.Code, w.Body)
		}
	})
}
