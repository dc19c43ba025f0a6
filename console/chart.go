package console

import (
	"context"
	"fmt"
	"log/slog"
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

// chartTTL is how long an organization's hourly counts are served as
// they are. After it they are still served, and counted again in the
// background (at most one count per organization at a time), so a page
// never waits on a count except the organization's first in the process.
// A count reads only what may still change: events older than
// chartSettle are counted once and kept, whole hours and the settled
// start of the current one, so a day of 100,000 events (a first sync of
// 100,000 users) is read once per process, not on every refresh.
const chartTTL = 30 * time.Second

// chartSettle is how long after their time events may still arrive (the
// buffered event writer flushes within seconds; it retries through a
// short database outage).
const chartSettle = 5 * time.Minute

// chartCountTimeout bounds one count, whichever request started it.
const chartCountTimeout = 30 * time.Second

// chartFirstWait is how long a page waits for an organization's first
// count: a day of 100,000 events takes longer to count than a page may
// take, so past it the page says the chart is being counted.
const chartFirstWait = 20 * time.Millisecond

// chartMaxOrgs bounds the cache: past it, it starts again empty.
const chartMaxOrgs = 10_000

// hourCounts caches each organization's hourly event counts.
type hourCounts struct {
	logger *slog.Logger
	// firstWait, when set, replaces chartFirstWait.
	firstWait time.Duration
	mu        sync.Mutex
	m         map[string]*hourCountsEntry
	// counting tracks the counts under way, for tests to wait on.
	counting sync.WaitGroup
}

type hourCountsEntry struct {
	// counted is what the last count found; zero until the first ends.
	counted hourCountsState
	// ready is closed when the first count ends; err is its error.
	ready chan struct{}
	err   error
	// busy is set while a count runs.
	busy bool
}

// hourCountsState is one count's result and what later counts keep.
type hourCountsState struct {
	at     time.Time // the counts are as of at
	since  time.Time
	counts []scimbridge.HourCount
	// settled are the counts of hours that ended chartSettle before
	// they were counted, by hour; never changed once made.
	settled map[time.Time][]scimbridge.HourCount
	// part is the count of partHour's events before partUntil, which was
	// chartSettle before it was counted.
	partHour, partUntil time.Time
	part                []scimbridge.HourCount
}

// get returns the organization's counts of hours hours since a time (an
// hour boundary) and the time they are as of. Counts older than chartTTL
// are returned as they are while a count runs in the background; only an
// organization's first calls wait for a count (one count for all the
// calls that wait), and for at most chartFirstWait: then no counts and a
// zero time say the first count is still running.
func (c *hourCounts) get(ctx context.Context, st scimbridge.Store, orgID string, since time.Time, hours int, now time.Time) ([]scimbridge.HourCount, time.Time, error) {
	c.mu.Lock()
	e := c.m[orgID]
	if e == nil {
		e = &hourCountsEntry{ready: make(chan struct{}), busy: true}
		if c.m == nil || len(c.m) >= chartMaxOrgs {
			c.m = map[string]*hourCountsEntry{}
		}
		c.m[orgID] = e
		c.counting.Add(1)
		go func() {
			defer c.counting.Done()
			c.count(st, orgID, e, hourCountsState{}, since, hours, now)
		}()
	}
	c.mu.Unlock()
	firstWait := c.firstWait
	if firstWait == 0 {
		firstWait = chartFirstWait
	}
	wait := time.NewTimer(firstWait)
	defer wait.Stop()
	select {
	case <-e.ready:
	case <-wait.C:
		// Still counting: the page shows it, the count goes on.
		return nil, time.Time{}, nil
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.err != nil {
		return nil, time.Time{}, e.err
	}
	s := e.counted
	stale := !s.since.Equal(since) || now.Sub(s.at) >= chartTTL || now.Before(s.at)
	if stale && !e.busy {
		e.busy = true
		c.counting.Add(1)
		go func() {
			defer c.counting.Done()
			c.count(st, orgID, e, s, since, hours, now)
		}()
	}
	return s.counts, s.at, nil
}

// count counts the organization's hours from prev, under a context of
// its own: a request that ends does not end a count that others will be
// served. The first count's error is returned to the calls waiting on it;
// a later count's is logged and the counts before it are kept.
func (c *hourCounts) count(st scimbridge.Store, orgID string, e *hourCountsEntry, prev hourCountsState, since time.Time, hours int, now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), chartCountTimeout)
	defer cancel()
	next, err := countHours(ctx, st, orgID, prev, since, hours, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	e.busy = false
	first := e.counted.at.IsZero()
	switch {
	case err == nil:
		e.counted = next
	case first:
		e.err = err
		// The next call counts again.
		if c.m[orgID] == e {
			delete(c.m, orgID)
		}
	default:
		if c.logger != nil {
			c.logger.Warn("count events per hour", "org", orgID, "err", err)
		}
	}
	if first {
		close(e.ready)
	}
}

// countHours counts hours hours since a time, reading again only what
// prev has not kept: events from chartSettle before now on.
func countHours(ctx context.Context, st scimbridge.Store, orgID string, prev hourCountsState, since time.Time, hours int, now time.Time) (hourCountsState, error) {
	cutoff := now.Add(-chartSettle)
	next := hourCountsState{at: now, since: since, settled: map[time.Time][]scimbridge.HourCount{}}
	for h := range hours {
		hour := since.Add(time.Duration(h) * time.Hour)
		end := hour.Add(time.Hour)
		if these, ok := prev.settled[hour]; ok {
			next.settled[hour] = these
			next.counts = append(next.counts, these...)
			continue
		}
		// Counted already: the hour's events before from.
		from, kept := hour, []scimbridge.HourCount(nil)
		if prev.partHour.Equal(hour) {
			from, kept = prev.partUntil, prev.part
		}
		if !end.After(cutoff) {
			// The hour has settled: count the rest of it once.
			rest, err := st.EventCountsBetween(ctx, orgID, from, end)
			if err != nil {
				return hourCountsState{}, err
			}
			these := addCounts(kept, rest)
			next.settled[hour] = these
			next.counts = append(next.counts, these...)
			continue
		}
		if cutoff.After(from) {
			// Its start has settled: count up to the cutoff once.
			more, err := st.EventCountsBetween(ctx, orgID, from, cutoff)
			if err != nil {
				return hourCountsState{}, err
			}
			from, kept = cutoff, addCounts(kept, more)
		}
		if len(kept) > 0 || from.After(hour) {
			next.partHour, next.partUntil, next.part = hour, from, kept
		}
		live, err := st.EventCountsBetween(ctx, orgID, from, end)
		if err != nil {
			return hourCountsState{}, err
		}
		next.counts = append(next.counts, addCounts(kept, live)...)
	}
	return next, nil
}

// addCounts sums two counts of one hour by status class, in class order.
func addCounts(a, b []scimbridge.HourCount) []scimbridge.HourCount {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	var out []scimbridge.HourCount
	for _, class := range []int{0, 2, 3, 4, 5} {
		n := 0
		var hour time.Time
		for _, c := range append(a[:len(a):len(a)], b...) {
			if c.StatusClass == class {
				n += c.Count
				hour = c.Hour
			}
		}
		if n > 0 {
			out = append(out, scimbridge.HourCount{Hour: hour, StatusClass: class, Count: n})
		}
	}
	return out
}
