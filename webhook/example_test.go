package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/webhook"
)

// verify checks a delivery as the Standard Webhooks specification says:
// HMAC-SHA256, under the bytes the secret's base64 encodes, of
// "webhook-id.webhook-timestamp.body"; any of the space-separated "v1,"
// signatures may match (two are sent while a secret is being rotated); the
// timestamp must be recent, against replays.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp too old or too new")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		v, b64, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if v == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

// position orders changes: "tx.seq", compared as two numbers.
type position struct{ tx, seq int64 }

func parsePosition(s string) (p position) {
	tx, seq, _ := strings.Cut(s, ".")
	p.tx, _ = strconv.ParseInt(tx, 10, 64)
	p.seq, _ = strconv.ParseInt(seq, 10, 64)
	return p
}

func (p position) after(q position) bool { return p.tx > q.tx || p.tx == q.tx && p.seq > q.seq }

// consumer applies each change once: deliveries are at least once and in
// order, so a change at or below the last position applied is a
// redelivery and is skipped. A real consumer stores last in the same
// transaction as what it does with the change.
type consumer struct {
	secret  string
	mu      sync.Mutex
	last    position
	applied []string
}

func (c *consumer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil || verify(c.secret, r.Header, body, time.Now()) != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &p) != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	type change struct {
		Position   string `json:"position"`
		Type       string `json:"type"`
		ResourceID string `json:"resource_id"`
	}
	var changes []change
	if p.Type == "changes" { // an endpoint with batch above 1
		var b struct{ Changes []change }
		json.Unmarshal(p.Data, &b)
		changes = b.Changes
	} else {
		var ch change
		json.Unmarshal(p.Data, &ch)
		changes = []change{ch}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range changes {
		pos := parsePosition(ch.Position)
		if !pos.after(c.last) {
			continue // already applied
		}
		c.applied = append(c.applied, ch.Type+" "+ch.ResourceID)
		c.last = pos
	}
	w.WriteHeader(http.StatusNoContent)
}

// A consumer verifies each delivery's signature and applies each change
// once, whatever is delivered twice.
func Example_consumer() {
	secret, _ := webhook.NewSecret()
	c := &consumer{secret: secret}
	srv := httptest.NewServer(c)
	defer srv.Close()

	key, _ := webhook.SecretKey(secret)
	send := func(id string, body string) int {
		now := time.Now()
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", webhook.Sign(key, id, now, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	first := `{"type":"user.created","timestamp":"2026-01-02T03:04:05Z","data":{"position":"7.1","type":"user.created","resource_id":"u1"}}`
	second := `{"type":"user.updated","timestamp":"2026-01-02T03:04:06Z","data":{"position":"7.2","type":"user.updated","resource_id":"u1"}}`
	fmt.Println(send("msg_7_1", first))
	fmt.Println(send("msg_7_1", first)) // redelivered: acknowledged, not applied again
	fmt.Println(send("msg_7_2", second))
	fmt.Println(strings.Join(c.applied, ", "))
	// Output:
	// 204
	// 204
	// 204
	// user.created u1, user.updated u1
}
