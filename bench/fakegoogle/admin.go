package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

// adminPrefix is where the benchmark controls the fake. The fake listens on
// loopback only, so these handlers need no authentication.
const adminPrefix = "/_admin/"

// directory is the generated directory the admin endpoints change.
type directory struct {
	srv *fakegoogle.Server

	// gen computes the users as they are listed.
	gen *fakegoogle.Generated

	mu    sync.Mutex
	round int
	// churn is the served group set, nil without groups.
	churn *churnedGroups
}

// handler serves the fake's API and, under adminPrefix:
//
//	POST /_admin/mutate?percent=P  change the title of P% of the users (a
//	                               new title each call), then render the
//	                               directory again for the last fields mask
//	                               listed, so the next listing is not slowed
//	GET  /_admin/stats             users.list requests, successful pages and
//	                               showDeleted pages, groups.list and
//	                               members.list requests and requests refused
//	                               by the quota, since the last reset
//	POST /_admin/reset             set those counters to zero
func (d *directory) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", d.srv.Handler())
	mux.HandleFunc("POST "+adminPrefix+"mutate", d.handleMutate)
	mux.HandleFunc("GET "+adminPrefix+"stats", d.handleStats)
	mux.HandleFunc("POST "+adminPrefix+"churn-members", d.handleChurn)
	mux.HandleFunc("POST "+adminPrefix+"reset", func(w http.ResponseWriter, r *http.Request) {
		d.srv.ResetCounters()
		writeJSON(w, map[string]bool{"reset": true})
	})
	return mux
}

func (d *directory) handleMutate(w http.ResponseWriter, r *http.Request) {
	percent, err := strconv.ParseFloat(r.URL.Query().Get("percent"), 64)
	if err != nil || percent <= 0 || percent > 100 {
		http.Error(w, "percent must be a number in (0, 100]", http.StatusBadRequest)
		return
	}
	d.mu.Lock()
	d.round++
	step := max(1, int(100/percent+0.5))
	changed, total := d.gen.Retitle(d.round%step, step, fmt.Sprintf("Title round %d", d.round)), d.gen.Len()
	round := d.round
	d.mu.Unlock()
	fields := d.srv.LastQuery().Get("fields")
	if err := d.srv.Render(fields, false); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"changed": changed, "round": round, "users": total})
}

func (d *directory) handleStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]int{
		"requests":           d.srv.Requests(),
		"pages":              d.srv.Pages(),
		"show_deleted_pages": d.srv.ShowDeletedPages(),
		"token_requests":     d.srv.TokenRequests(),
		"group_requests":     d.srv.GroupRequests(),
		"member_requests":    d.srv.MemberRequests(),
		"rate_limited":       d.srv.RateLimited(),
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
