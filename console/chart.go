package console

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge"
)

// chart is a stacked bar chart of events per hour by status class, drawn
// as inline SVG by the server (no script).
type chart struct {
	Width, Height int
	Bars          []bar
	Labels        []label
	Max           int
	Total         int
}

type bar struct {
	X, W  int
	Parts []barPart
	Title string
}

type barPart struct {
	Y, H  int
	Class string
}

type label struct {
	X    int
	Text string
}

const (
	chartW, chartH = 720, 160
	chartTop       = 8
	chartBottom    = 20 // room for hour labels
)

// hourlyChart draws hours hours from since.
func hourlyChart(since time.Time, hours int, counts []scimbridge.HourCount) chart {
	byHour := make([][4]int, hours) // 2xx, 3xx and other, 4xx, 5xx
	for _, c := range counts {
		i := int(c.Hour.Sub(since) / time.Hour)
		if i < 0 || i >= hours {
			continue
		}
		switch c.StatusClass {
		case 2:
			byHour[i][0] += c.Count
		case 4:
			byHour[i][2] += c.Count
		case 5:
			byHour[i][3] += c.Count
		default:
			byHour[i][1] += c.Count
		}
	}
	ch := chart{Width: chartW, Height: chartH}
	for _, h := range byHour {
		n := h[0] + h[1] + h[2] + h[3]
		ch.Total += n
		ch.Max = max(ch.Max, n)
	}
	plot := chartH - chartTop - chartBottom
	slot := chartW / hours
	classes := [4]string{"c2", "c3", "c4", "c5"}
	for i, h := range byHour {
		b := bar{X: i*slot + 2, W: slot - 4}
		y := chartH - chartBottom
		for k := range h {
			if h[k] == 0 || ch.Max == 0 {
				continue
			}
			ph := max(1, h[k]*plot/ch.Max)
			y -= ph
			b.Parts = append(b.Parts, barPart{Y: y, H: ph, Class: classes[k]})
		}
		hour := since.Add(time.Duration(i) * time.Hour)
		b.Title = fmt.Sprintf("%s: %d 2xx, %d 4xx, %d 5xx, %d other", hour.Format("Jan 2 15:00 UTC"), h[0], h[2], h[3], h[1])
		ch.Bars = append(ch.Bars, b)
		if i%6 == 0 {
			ch.Labels = append(ch.Labels, label{X: i * slot, Text: hour.Format("15:00")})
		}
	}
	return ch
}

// chartTTL is how long an organization's hourly counts are reused as they
// are. After it, only the hours that may still change are counted again:
// an hour that ended more than chartSettle ago is counted once and kept, so
// a day of 100,000 events (a first sync of 100,000 users) is read once per
// process, not on every refresh.
const chartTTL = 30 * time.Second

// chartSettle is how long after an hour ends its events may still arrive
// (the buffered event writer flushes within seconds; it retries through a
// short database outage).
const chartSettle = 5 * time.Minute

// hourCounts caches each organization's hourly event counts.
type hourCounts struct {
	mu sync.Mutex
	m  map[string]*hourCountsEntry
}

type hourCountsEntry struct {
	at     time.Time
	since  time.Time
	counts []scimbridge.HourCount
	// settled are the counts of hours that ended chartSettle before they
	// were counted, by hour.
	settled map[time.Time][]scimbridge.HourCount
}

// get returns the organization's counts of hours hours since a time (an
// hour boundary): from the cache when fresh, else counting only the hours
// not settled in it.
func (c *hourCounts) get(ctx context.Context, st scimbridge.Store, orgID string, since time.Time, hours int, now time.Time) ([]scimbridge.HourCount, error) {
	c.mu.Lock()
	e := c.m[orgID]
	var settled map[time.Time][]scimbridge.HourCount
	if e != nil {
		if e.since.Equal(since) && now.Sub(e.at) < chartTTL && !now.Before(e.at) {
			c.mu.Unlock()
			return e.counts, nil
		}
		settled = e.settled
	}
	c.mu.Unlock()
	// The settled hours are a prefix of the window: count from the first
	// hour missing.
	first := 0
	for first < hours {
		if _, ok := settled[since.Add(time.Duration(first)*time.Hour)]; !ok {
			break
		}
		first++
	}
	var fresh []scimbridge.HourCount
	if first < hours {
		var err error
		from := since.Add(time.Duration(first) * time.Hour)
		if fresh, err = st.EventCountsByHour(ctx, orgID, from, hours-first); err != nil {
			return nil, err
		}
	}
	next := map[time.Time][]scimbridge.HourCount{}
	var counts []scimbridge.HourCount
	for h := range first {
		hour := since.Add(time.Duration(h) * time.Hour)
		next[hour] = settled[hour]
		counts = append(counts, settled[hour]...)
	}
	for h := first; h < hours; h++ {
		hour := since.Add(time.Duration(h) * time.Hour)
		var these []scimbridge.HourCount
		for _, hc := range fresh {
			if hc.Hour.Equal(hour) {
				these = append(these, hc)
			}
		}
		if !hour.Add(time.Hour + chartSettle).After(now) {
			next[hour] = these
		}
		counts = append(counts, these...)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10_000 {
		c.m = map[string]*hourCountsEntry{}
	}
	c.m[orgID] = &hourCountsEntry{at: now, since: since, counts: counts, settled: next}
	return counts, nil
}
