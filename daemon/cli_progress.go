package daemon

// Progress of a bridge run started from the command line, shown on a
// terminal while the run lists Google and applies its changes.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/store"
)

// progress counts a run's listed pages and applied changes and rewrites
// one line of a terminal with them.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	pages   int
	applied int
	shown   bool
}

// show rewrites the progress line.
func (p *progress) show(pages, applied int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pages += pages
	p.applied += applied
	fmt.Fprintf(p.w, "\r\033[Klisted %s of Google users, applied %s",
		plural(p.pages, "page", "pages"), plural(p.applied, "change", "changes"))
	p.shown = true
}

// clear erases the progress line, so the report starts on a clean line.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// showProgress makes the runner report its progress on stdout when stdout
// is a terminal, and returns the function that erases it (call it before
// printing the report). Elsewhere it changes nothing. Pages are counted
// as the runner's HTTP client fetches them, changes as its store commits
// them: the runner itself knows nothing of it.
func (c *cli) showProgress(s *session, r *bridge.Runner) (stop func()) {
	db, ok := s.db.(*store.DB)
	if !ok || !c.isTerminal(c.stdout) {
		return func() {}
	}
	p := &progress{w: c.stdout}
	base := http.DefaultTransport
	if r.HTTPClient != nil && r.HTTPClient.Transport != nil {
		base = r.HTTPClient.Transport
	}
	r.HTTPClient = &http.Client{Timeout: 60 * time.Second, Transport: &pageCounter{base: base, p: p}}
	r.Store = &applyCounter{DB: db, p: p}
	return p.clear
}

// pageCounter counts the users.list pages a Directory client fetches.
type pageCounter struct {
	base http.RoundTripper
	p    *progress
}

func (t *pageCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusOK && req.Method == http.MethodGet &&
		strings.HasSuffix(req.URL.Path, "/users") {
		t.p.show(1, 0)
	}
	return resp, err
}

// applyCounter is the store, counting the changes it commits. Embedding
// *store.DB keeps every optional interface the runner looks for.
type applyCounter struct {
	*store.DB
	p *progress
}

func (s *applyCounter) ApplyChanges(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error {
	err := s.DB.ApplyChanges(ctx, batch, lease)
	if err == nil {
		s.p.show(0, len(batch))
	}
	return err
}

// ApplyCreates counts the creates the store's bulk path commits.
func (s *applyCounter) ApplyCreates(ctx context.Context, batch []scimbridge.ChangeEvent, lease *scimbridge.LeaseCheck) error {
	err := s.DB.ApplyCreates(ctx, batch, lease)
	if err == nil {
		s.p.show(0, len(batch))
	}
	return err
}
