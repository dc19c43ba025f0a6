package console

import (
	"net/http"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/bridge"
)

func (s *Server) reports(w http.ResponseWriter, r *http.Request, q *request) {
	v := s.newView(r, q, "Reports", "reports")
	var err error
	if v.HeldBanner, err = s.heldBanner(r, q.sess.Org.ID); err != nil {
		s.serverError(w, r, q, err)
		return
	}
	reps, err := s.cfg.Store.Reports(r.Context(), q.sess.Org.ID, 100)
	if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	v.Data = reps
	s.render(w, r, http.StatusOK, "reports", v)
}

// maxReportItems bounds the items a report page shows; the page links
// to the next ones.
const maxReportItems = 200

// reportData is one report: its counts, its items (what the held plan
// would do first) and, when it holds the pending plan, why.
type reportData struct {
	Report scimbridge.Report
	// Held is the pending held plan when this report holds it.
	Held      *bridge.HeldPlan
	HeldItems []scimbridge.ReportItem
	Items     []scimbridge.ReportItem
	// Next is the cursor of the items after the page's, when there are.
	Next string
	// Paged says the page is not the report's first page of items.
	Paged bool
}

func (s *Server) report(w http.ResponseWriter, r *http.Request, q *request) {
	rep, err := s.cfg.Store.ReportSummary(r.Context(), q.sess.Org.ID, r.PathValue("id"))
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		s.errorPage(w, r, q, http.StatusNotFound, "There is no such report in this organization (old reports are purged).")
		return
	} else if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	d := reportData{Report: rep}
	hp, ok, err := bridge.PendingHeldPlan(r.Context(), s.cfg.Store, q.sess.Org.ID, s.cfg.Clock())
	if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	if ok && hp.ReportID == rep.ID && !hp.Expired {
		d.Held = &hp
	}
	// One page of items; the page links to the next.
	after := r.URL.Query().Get("after")
	page, err := s.cfg.Admin.ReportItems(r.Context(), q.sess.Org.Slug, rep.ID, "", after, maxReportItems)
	if scimbridge.ErrorCode(err) == scimbridge.EINVALID {
		s.errorPage(w, r, q, http.StatusBadRequest, "This link to the report's items is not valid: open the report again.")
		return
	} else if err != nil {
		s.serverError(w, r, q, err)
		return
	}
	d.Paged = after != ""
	for _, it := range page.Items {
		if it.Held {
			d.HeldItems = append(d.HeldItems, it.ReportItem)
		} else {
			d.Items = append(d.Items, it.ReportItem)
		}
	}
	d.Next = page.Next
	v := s.newView(r, q, "Report", "reports")
	v.Data = d
	s.render(w, r, http.StatusOK, "report", v)
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, q *request) {
	rep, err := s.cfg.Admin.ApproveReport(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, r.PathValue("id"))
	if rep.ID != "" {
		redirect(w, r, Prefix+"/reports/"+rep.ID, "The held plan was approved: this is the run that applied it.")
		return
	}
	if err != nil {
		s.opError(w, r, q, err)
		return
	}
	redirect(w, r, Prefix+"/reports", "")
}

func (s *Server) discard(w http.ResponseWriter, r *http.Request, q *request) {
	if err := s.cfg.Admin.DiscardReport(r.Context(), s.caller(r, &q.sess), q.sess.Org.Slug, r.PathValue("id")); err != nil {
		s.opError(w, r, q, err)
		return
	}
	redirect(w, r, Prefix+"/reports/"+r.PathValue("id"), "The held plan was discarded: nothing it held was applied.")
}
