package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The specification's published example (the reference libraries' signing
// test): this secret, id, timestamp and body sign to this value.
func TestSign_PublishedExample(t *testing.T) {
	key, err := SecretKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature = %s, want %s", got, want)
	}
}

// specVerify is a verifier written from the specification alone: the
// signed content is "{msg_id}.{timestamp}.{payload}", the key is the
// base64 after "whsec_", the header is space-separated "v1,<base64>"
// entries of which one must match (compared in constant time), and the
// timestamp must be within the tolerance of now.
func specVerify(secret string, header map[string]string, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts, sigs := header["webhook-id"], header["webhook-timestamp"], header["webhook-signature"]
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing header")
	}
	var sec int64
	if _, err := fmt.Sscanf(ts, "%d", &sec); err != nil {
		return err
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp out of tolerance")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Split(sigs, " ") {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no matching signature")
}

func TestSign_IndependentVerifier(t *testing.T) {
	cur, _ := NewSecret()
	prev, _ := NewSecret()
	other, _ := NewSecret()
	kc, _ := SecretKey(cur)
	kp, _ := SecretKey(prev)
	now := time.Now()
	body := []byte(`{"type":"user.created"}`)
	h := map[string]string{"webhook-id": "msg_1_2", "webhook-timestamp": fmt.Sprint(now.Unix()),
		"webhook-signature": SignatureHeader([][]byte{kc, kp}, "msg_1_2", now, body)}
	for _, s := range []string{cur, prev} {
		if err := specVerify(s, h, body, now); err != nil {
			t.Errorf("rotation window: %v", err)
		}
	}
	if specVerify(other, h, body, now) == nil {
		t.Error("another secret verified")
	}
	if specVerify(cur, h, []byte(`{"type":"user.deleted"}`), now) == nil {
		t.Error("altered body verified")
	}
	if specVerify(cur, h, body, now.Add(10*time.Minute)) == nil {
		t.Error("stale timestamp verified")
	}
	if !strings.HasPrefix(cur, "whsec_") {
		t.Errorf("secret %q lacks whsec_", cur)
	}
	if _, err := SecretKey("whsec_c2hvcnQ="); err == nil {
		t.Error("short secret accepted")
	}
}
