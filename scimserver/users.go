package scimserver

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/scim"
)

// maxRetries is how many times a write without If-Match is retried after
// a concurrent writer changed the profile first.
const maxRetries = 3

// handleGetUser serves GET /Users/{id}.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	p, err := s.loadUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.encodeUserFor(r, p, s.newManagerResolver(p.OrgID, nil))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", scim.ETag(p.Version))
	writeSCIM(w, http.StatusOK, b)
}

// handleCreateUser serves POST /Users: look up the profiles holding the
// new user's keys, let reconcile decide (create, adopt, revive or
// conflict), and commit the change with its event.
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	rec := recorderFrom(r.Context())
	body, err := jsonBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := scim.DecodeUser(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d := req.Desired
	if !req.ActiveSet {
		d.Active = true
	}
	rec.target = d.UserName
	nd := reconcile.Normalize(d)
	for attempt := 0; ; attempt++ {
		err = s.createUser(w, r, nd)
		if scimbridge.ErrorCode(err) == scimbridge.EPRECONDITION && attempt < maxRetries {
			continue
		}
		if scimbridge.ErrorCode(err) == scimbridge.EPRECONDITION {
			err = scimbridge.Errorf(eConcurrent, "the user was changed by another request; retry")
		}
		if err != nil {
			s.writeError(w, r, err)
		}
		return
	}
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, d reconcile.Desired) error {
	ctx := r.Context()
	org := recorderFrom(ctx).org
	email, _ := d.Check() // Decide reports a missing one
	candidates, err := s.store.LookupProfiles(ctx, org.ID, scimbridge.ProfileLookup{
		UserName: d.UserName(), Email: email, ExternalID: d.Profile().ExternalID,
	})
	if err != nil {
		return fmt.Errorf("look up profiles: %w", err)
	}
	dec, err := reconcile.Decide(reconcile.DecideInput{
		Org: org, Desired: d, Candidates: candidates,
	})
	if err != nil {
		return err
	}
	now := s.clock()
	var changes []scimbridge.Change
	for _, p := range dec.Release {
		c, err := reconcile.ReleaseKeys(p, now)
		if err != nil {
			return err
		}
		changes = append(changes, c)
	}
	var c scimbridge.Change
	switch dec.Action {
	case reconcile.ActionCreate:
		var p scimbridge.Profile
		p, err = reconcile.NewProfile(org.ID, scimbridge.SourceSCIM, d, uuid.NewString(), now)
		c = scimbridge.Change{Kind: scimbridge.ChangeCreate, Profile: p}
	case reconcile.ActionAdopt:
		c, err = reconcile.Adopt(*dec.Target, scimbridge.SourceSCIM, d, now)
	case reconcile.ActionRevive:
		c, err = reconcile.Apply(*dec.Target, d, scimbridge.ChangeRevive, now)
	default:
		err = fmt.Errorf("create user: unexpected decision %q", dec.Action)
	}
	if err != nil {
		return err
	}
	return s.commitUser(w, r, append(changes, c), http.StatusCreated)
}

// handleReplaceUser serves PUT /Users/{id}: the body replaces the user;
// omitted attributes are cleared except active (unchanged) and password
// (never stored).
func (s *Server) handleReplaceUser(w http.ResponseWriter, r *http.Request) {
	body, ok := s.userBody(w, r)
	if !ok {
		return
	}
	req, err := scim.DecodeUser(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.modifyUser(w, r, func(stored scimbridge.Profile) (scimbridge.DesiredProfile, error) {
		d := req.Desired
		if !req.ActiveSet {
			d.Active = stored.Active()
		}
		d.GoogleID = stored.GoogleID
		return d, nil
	})
}

// userBody checks the id in the path and reads the JSON body of a PUT or
// PATCH; when either is wrong it answers the error and ok is false.
func (s *Server) userBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	if !validID(r.PathValue("id")) {
		s.writeError(w, r, errNoUser)
		return nil, false
	}
	body, err := jsonBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	return body, true
}

// handlePatchUser serves PATCH /Users/{id}.
func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request) {
	body, ok := s.userBody(w, r)
	if !ok {
		return
	}
	ops, err := scim.DecodePatch(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.modifyUser(w, r, func(stored scimbridge.Profile) (scimbridge.DesiredProfile, error) {
		res, err := scim.ApplyPatch(reconcile.NormalizeProfile(stored).Profile(), ops)
		return res.Desired, err
	})
}

// handleDeleteUser serves DELETE /Users/{id}: the profile is deactivated,
// its access revoked and it is detached (later GETs are 404); it and its
// history stay.
func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	s.retryWrite(w, r, func(ifMatch string) error {
		stored, err := s.loadUser(r)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, stored.Version); err != nil {
			return err
		}
		c, err := reconcile.Apply(stored, reconcile.Desired{}, scimbridge.ChangeDetach, s.clock())
		if err != nil {
			return err
		}
		return s.commitUser(w, r, []scimbridge.Change{c}, http.StatusNoContent)
	})
}

// modifyUser updates the user named by {id} to what desire makes of the
// stored profile. A result equal to the stored profile is answered 200
// without a write (the version stays).
func (s *Server) modifyUser(w http.ResponseWriter, r *http.Request, desire func(scimbridge.Profile) (scimbridge.DesiredProfile, error)) {
	s.retryWrite(w, r, func(ifMatch string) error {
		stored, err := s.loadUser(r)
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, stored.Version); err != nil {
			return err
		}
		raw, err := desire(stored)
		if err != nil {
			return err
		}
		d := reconcile.Normalize(raw)
		if len(reconcile.Diff(stored, d)) == 0 {
			b, err := s.encodeUserFor(r, stored, s.newManagerResolver(stored.OrgID, nil))
			if err != nil {
				return err
			}
			w.Header().Set("ETag", scim.ETag(stored.Version))
			writeSCIM(w, http.StatusOK, b)
			return nil
		}
		c, err := reconcile.Apply(stored, d, reconcile.UpdateKind(stored, d), s.clock())
		if err != nil {
			return err
		}
		return s.commitUser(w, r, []scimbridge.Change{c}, http.StatusOK)
	})
}

// retryWrite runs one read-decide-commit attempt. Without If-Match, an
// attempt that lost to a concurrent writer (EPRECONDITION) is run again,
// up to maxRetries times, and never answered 412; with If-Match it is 412.
func (s *Server) retryWrite(w http.ResponseWriter, r *http.Request, attempt func(ifMatch string) error) {
	ifMatch := strings.TrimSpace(r.Header.Get("If-Match"))
	for n := 0; ; n++ {
		err := attempt(ifMatch)
		if ifMatch == "" && scimbridge.ErrorCode(err) == scimbridge.EPRECONDITION {
			if n < maxRetries {
				continue
			}
			err = scimbridge.Errorf(eConcurrent, "the user was changed by another request; retry")
		}
		if err != nil {
			s.writeError(w, r, err)
		}
		return
	}
}

// commitUser commits changes (the last is the request's own; any before it
// release keys a detached profile held) with the request's event, which
// carries the status and body about to be sent, then sends them. On error
// nothing is sent: the caller answers the error and the middleware logs it.
func (s *Server) commitUser(w http.ResponseWriter, r *http.Request, changes []scimbridge.Change, status int) error {
	ctx := r.Context()
	rec := recorderFrom(ctx)
	c := changes[len(changes)-1]
	p := c.Profile
	rec.target = p.UserName
	if rec.target == "" {
		rec.target = p.FormerUserName
	}
	var body []byte
	if status != http.StatusNoContent {
		var err error
		if body, err = s.encodeUserFor(r, p, s.newManagerResolver(p.OrgID, []scimbridge.Profile{p})); err != nil {
			return err
		}
	}
	ev := s.newEvent(rec, r, status, body)
	ev.Kind, ev.ProfileID = c.Kind, p.ID
	batch := make([]scimbridge.ChangeEvent, 0, len(changes))
	for _, side := range changes[:len(changes)-1] {
		// A key release is a side change of this request: it commits in
		// the same transaction with no event of its own (a zero event), so
		// the request stays exactly one event; the released profile keeps
		// the address as former_username / former_email.
		batch = append(batch, scimbridge.ChangeEvent{Change: side})
	}
	batch = append(batch, scimbridge.ChangeEvent{Change: c, Event: ev})
	var err error
	if len(batch) == 1 {
		err = s.store.ApplyChange(ctx, batch[0])
	} else {
		err = s.store.ApplyChanges(ctx, batch, nil)
	}
	if err != nil {
		return fmt.Errorf("commit %s: %w", c.Kind, err)
	}
	rec.committed, rec.kind, rec.profileID = true, c.Kind, p.ID
	s.committed.Add(uint64(len(batch)))
	if status == http.StatusCreated {
		w.Header().Set("Location", s.baseURL+"/Users/"+p.ID)
	}
	if status != http.StatusNoContent {
		w.Header().Set("ETag", scim.ETag(p.Version))
	}
	writeSCIM(w, status, body)
	return nil
}

// errNoUser is the one 404 of every missing, foreign, detached or
// malformed user id.
var errNoUser = scimbridge.Errorf(scimbridge.ENOTFOUND, "user not found")

// loadUser returns the profile {id} names when it is one of the
// organization's SCIM-managed, non-detached profiles; 404 otherwise. A
// malformed id is 404 before any SQL runs.
func (s *Server) loadUser(r *http.Request) (scimbridge.Profile, error) {
	rec := recorderFrom(r.Context())
	id := strings.ToLower(r.PathValue("id"))
	if !validID(id) {
		return scimbridge.Profile{}, errNoUser
	}
	p, err := s.store.Profile(r.Context(), rec.org.ID, id)
	if scimbridge.ErrorCode(err) == scimbridge.ENOTFOUND {
		return scimbridge.Profile{}, errNoUser
	} else if err != nil {
		return scimbridge.Profile{}, fmt.Errorf("load user: %w", err)
	}
	if p.Source != scimbridge.SourceSCIM || p.Detached() {
		return scimbridge.Profile{}, errNoUser
	}
	rec.target, rec.profileID = p.UserName, p.ID
	return p, nil
}

// validID reports whether id is a UUID in its 36-character form.
func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	_, err := uuid.Parse(id)
	return err == nil
}

// checkIfMatch compares an If-Match header with the stored version: empty
// always matches, * matches any existing resource, otherwise one of the
// listed entity tags must equal W/"<version>" (weak comparison).
func checkIfMatch(ifMatch string, version int64) error {
	if ifMatch == "" || ifMatch == "*" {
		return nil
	}
	want := strconv.FormatInt(version, 10)
	for _, tag := range strings.Split(ifMatch, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if strings.Trim(tag, `"`) == want && strings.HasPrefix(tag, `"`) {
			return nil
		}
	}
	return scimbridge.Errorf(scimbridge.EPRECONDITION, "If-Match does not match the user's current version %s", scim.ETag(version))
}
