package bridge

import "github.com/scimbridge/scimbridge"

// Observer is told about each bridge run that started, once it finished:
// the daemon turns it into metrics. RunFinished must be quick and safe for
// concurrent use (organizations run in parallel).
type Observer interface {
	// RunFinished receives the run's final report and the counters of the
	// Google client it used (zero when it made none, as when the
	// credentials could not be decrypted).
	RunFinished(rep scimbridge.Report, google Stats)
}

// observe hands a finished run to the Runner's Observer.
func (r *Runner) observe(st *run, rep scimbridge.Report) {
	if r.Observer == nil {
		return
	}
	var s Stats
	if st.google != nil {
		s = st.google.Stats()
	}
	r.Observer.RunFinished(rep, s)
}
