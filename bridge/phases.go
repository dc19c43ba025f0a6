package bridge

import (
	"time"

	"github.com/scimbridge/scimbridge"
)

// phaseClock measures where a run's time goes (scimbridge.ReportPhases):
// the listing's wall time and the time spent planning and applying.
type phaseClock struct {
	listStart, listEnd time.Time
	pages              int
	planning, applying time.Duration
}

// listing marks the start of the listing.
func (c *phaseClock) listing() { c.listStart = time.Now() }

// listed marks the end of the listing, of pages pages.
func (c *phaseClock) listed(pages int) { c.listEnd, c.pages = time.Now(), c.pages+pages }

// plan adds the time since start to planning.
func (c *phaseClock) plan(start time.Time) { c.planning += time.Since(start) }

// apply adds the time since start to applying.
func (c *phaseClock) apply(start time.Time) { c.applying += time.Since(start) }

// report returns the phases of a run that applied changes changes; nil
// when it never listed.
func (c *phaseClock) report(changes int) *scimbridge.ReportPhases {
	if c.listStart.IsZero() {
		return nil
	}
	end := c.listEnd
	if end.IsZero() {
		end = time.Now()
	}
	p := &scimbridge.ReportPhases{ListingSeconds: round3(end.Sub(c.listStart).Seconds()),
		PlanningSeconds: round3(c.planning.Seconds()), ApplyingSeconds: round3(c.applying.Seconds()),
		Pages: c.pages, Changes: changes}
	if s := end.Sub(c.listStart).Seconds(); s > 0 {
		p.PagesPerSecond = round3(float64(c.pages) / s)
	}
	if s := c.applying.Seconds(); s > 0 && changes > 0 {
		p.ChangesPerSecond = round3(float64(changes) / s)
	}
	return p
}

// round3 rounds to the millisecond (a thousandth).
func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// appliedChanges counts the changes a report's counts say were written.
func appliedChanges(c scimbridge.ReportCounts) int {
	return c.Created + c.Updated + c.Deactivated + c.Reactivated
}
