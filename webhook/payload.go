package webhook

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
)

// BatchType is the type of a delivery carrying several changes.
const BatchType = "changes"

// Position renders a change position as text: "tx.seq". It orders like
// the position only when compared as numbers.
func Position(p scimbridge.ChangePosition) string {
	return strconv.FormatInt(p.Tx, 10) + "." + strconv.FormatInt(p.Seq, 10)
}

// ParsePosition reads what Position wrote.
func ParsePosition(s string) (scimbridge.ChangePosition, error) {
	tx, seq, ok := strings.Cut(s, ".")
	var p scimbridge.ChangePosition
	var err1, err2 error
	p.Tx, err1 = strconv.ParseInt(tx, 10, 64)
	p.Seq, err2 = strconv.ParseInt(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil || p.Tx < 0 || p.Seq < 0 {
		return scimbridge.ChangePosition{}, scimbridge.Errorf(scimbridge.EINVALID, "a change position is two numbers joined by a dot, got %q", s)
	}
	return p, nil
}

// MessageID is the webhook-id of a delivery of the changes from first to
// last: the same on every attempt and redelivery, so a receiver can use it
// as its idempotency key. It has no dot, as the specification asks.
func MessageID(first, last scimbridge.ChangePosition) string {
	id := fmt.Sprintf("msg_%d_%d", first.Tx, first.Seq)
	if last != first {
		id += fmt.Sprintf("_%d_%d", last.Tx, last.Seq)
	}
	return id
}

// Change is one change as a delivery carries it.
type Change struct {
	// Position orders the changes of the organization; a receiver keeps
	// the highest it processed and ignores a change at or below it.
	Position string `json:"position"`
	scimbridge.ChangeRecord
	Resource json.RawMessage `json:"resource,omitempty"`
}

// Payload is a delivery's body: Standard Webhooks' type, timestamp and
// data. One change: type is the change's, data the change. Several (an
// endpoint with batch above 1): type is "changes" and data holds them in
// order.
type Payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Batch is the data of a delivery of several changes.
type Batch struct {
	Changes []Change `json:"changes"`
}

func changeOf(r scimbridge.ChangeRecord) Change {
	c := Change{Position: Position(r.Position), ChangeRecord: r}
	if len(r.Resource) > 0 && json.Valid(r.Resource) {
		c.Resource = r.Resource
	}
	return c
}

// Body renders the payload of recs (at least one), as signed and sent.
func Body(recs []scimbridge.ChangeRecord, batched bool) ([]byte, error) {
	last := recs[len(recs)-1]
	p := Payload{Timestamp: last.Time.UTC()}
	var data any
	if !batched {
		p.Type, data = string(last.Type), changeOf(last)
	} else {
		b := Batch{Changes: make([]Change, len(recs))}
		for i, r := range recs {
			b.Changes[i] = changeOf(r)
		}
		p.Type, data = BatchType, b
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("render webhook payload: %w", err)
	}
	p.Data = raw
	return json.Marshal(p)
}
