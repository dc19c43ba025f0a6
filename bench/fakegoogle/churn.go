package main

import (
	"hash/fnv"
	"net/http"
	"strconv"
	"sync/atomic"

	admin "google.golang.org/api/admin/directory/v1"

	"github.com/scimbridge/scimbridge/internal/fakegoogle"
)

// churnedGroups is a GroupSet whose USER members are each replaced, with
// probability percent/100 per round, by another generated user: a share of
// the memberships churns while the rest stay as generated. Round 0 is the
// base set.
type churnedGroups struct {
	base    fakegoogle.GroupSet
	users   fakegoogle.Users
	rounds  atomic.Int64
	percent atomic.Int64 // hundredths of a percent
}

func (c *churnedGroups) Len() int                 { return c.base.Len() }
func (c *churnedGroups) Group(i int) *admin.Group { return c.base.Group(i) }
func (c *churnedGroups) MemberCount(i int) int    { return c.base.MemberCount(i) }

// Member implements GroupSet: the base member, unless a round chose it.
func (c *churnedGroups) Member(i, j int) *admin.Member {
	m := c.base.Member(i, j)
	rounds, p := c.rounds.Load(), c.percent.Load()
	if m.Type != fakegoogle.MemberUser || rounds == 0 || c.users.Len() == 0 {
		return m
	}
	for r := int64(1); r <= rounds; r++ {
		h := hash64(int64(i), int64(j), r)
		if int64(h%10000) < p {
			u := c.users.User(int((h >> 20) % uint64(c.users.Len())))
			cp := *m
			cp.Id, cp.Email, cp.Status = u.Id, u.PrimaryEmail, "ACTIVE"
			if u.Suspended || u.Archived {
				cp.Status = "SUSPENDED"
			}
			m = &cp
		}
	}
	return m
}

func hash64(parts ...int64) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, p := range parts {
		for k := range b {
			b[k] = byte(p >> (8 * k))
		}
		h.Write(b[:])
	}
	return h.Sum64()
}

// POST /_admin/churn-members?percent=P  replace about P% of the USER
//
//	members of every group by other
//	users (a new choice each call)
func (d *directory) handleChurn(w http.ResponseWriter, r *http.Request) {
	percent, err := strconv.ParseFloat(r.URL.Query().Get("percent"), 64)
	if err != nil || percent <= 0 || percent > 100 || d.churn == nil {
		http.Error(w, "percent must be a number in (0, 100], and the fake must serve groups", http.StatusBadRequest)
		return
	}
	d.churn.percent.Store(int64(percent * 100))
	round := d.churn.rounds.Add(1)
	writeJSON(w, map[string]any{"round": round, "percent": percent})
}
