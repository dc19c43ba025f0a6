package fakegoogle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
)

// UserSource is a directory's users read by index, so that a large directory
// can be computed on the fly instead of stored: the server asks only for the
// users of the page it serves. Implementations must be safe for concurrent
// reads.
type UserSource interface {
	// Len is the number of users.
	Len() int
	// User returns user i (0 <= i < Len()).
	User(i int) *admin.User
}

// Shape is how much of Google's full projection a generated user carries.
type Shape string

// Shapes of generated users.
const (
	// ShapeLean is GenerateUsers' user: one organization, one external id,
	// a manager, a language, an alias for one user in ten.
	ShapeLean Shape = "lean"
	// ShapeFull adds what large tenants' users carry in the fields the
	// bridge lists: two aliases and a non-editable alias, an office, a
	// login id and an assistant (about 720 bytes of JSON under the
	// bridge's fields mask).
	ShapeFull Shape = "full"
)

// ParseShape parses a shape name.
func ParseShape(s string) (Shape, error) {
	switch Shape(s) {
	case ShapeLean, ShapeFull:
		return Shape(s), nil
	}
	return "", fmt.Errorf("unknown user shape %q (lean or full)", s)
}

// Generated is a UserSource of n users computed from a seed, each from its
// own index: it holds no user, only the titles Retitle changed.
type Generated struct {
	n     int
	seed  uint64
	shape Shape

	mu     sync.RWMutex
	titles map[int]string
}

// NewGenerated returns n generated users of the shape, the same for the same
// seed.
func NewGenerated(n int, seed int64, shape Shape) *Generated {
	return &Generated{n: n, seed: uint64(seed), shape: shape, titles: map[int]string{}}
}

// Len implements UserSource.
func (g *Generated) Len() int { return g.n }

// Retitle gives every step-th user from start a new primary organization
// title and returns how many it changed.
func (g *Generated) Retitle(start, step int, title string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for i := start; i < g.n; i += max(1, step) {
		g.titles[i] = title
		n++
	}
	return n
}

var genCreated = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)

// draws are a user's random choices, a function of the seed and its index.
type draws struct {
	given, family, domain, id, ou, dept, title, cc, lang string
	contractor, guest, alias, suspended, archived        bool
}

func (g *Generated) draws(i int) draws {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)+0x5eed))
	d := draws{
		given:  givenNames[r.IntN(len(givenNames))],
		family: familyNames[r.IntN(len(familyNames))],
		domain: "example.com",
	}
	if r.IntN(10) == 0 {
		d.domain = "example.org"
	}
	if d.guest = r.IntN(200) == 0; d.guest {
		d.domain = "partner.example.net"
	}
	d.id = fmt.Sprintf("1%02d%018d", r.IntN(100), i+1)
	d.dept = departments[r.IntN(len(departments))]
	d.contractor = r.IntN(8) == 0
	d.ou = orgUnits[r.IntN(len(orgUnits))]
	d.title = titles[r.IntN(len(titles))]
	d.cc = fmt.Sprintf("CC-%03d", 100+r.IntN(40))
	d.lang = languages[r.IntN(len(languages))]
	d.alias = r.IntN(10) == 0
	switch x := r.IntN(100); {
	case x < 2:
		d.suspended = true
	case x < 3:
		d.archived = true
	}
	return d
}

// email is user i's primary email: unique through its index.
func (d draws) email(i int) string {
	return emailLocal(d.given) + "." + emailLocal(d.family) + "." + strconv.Itoa(i+1) + "@" + d.domain
}

// User implements UserSource.
func (g *Generated) User(i int) *admin.User {
	d := g.draws(i)
	email := d.email(i)
	kind := "Employee"
	if d.contractor {
		kind = "Contractor"
	}
	title := d.title
	g.mu.RLock()
	if t, ok := g.titles[i]; ok {
		title = t
	}
	g.mu.RUnlock()
	u := &admin.User{
		Kind:                       "admin#directory#user",
		Id:                         d.id,
		Etag:                       "\"etag-" + d.id + "\"",
		CustomerId:                 DefaultCustomerID,
		PrimaryEmail:               email,
		Name:                       &admin.UserName{GivenName: d.given, FamilyName: d.family, FullName: d.given + " " + d.family},
		OrgUnitPath:                d.ou,
		CreationTime:               genCreated.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
		AgreedToTerms:              true,
		IsGuestUser:                d.guest,
		IsMailboxSetup:             !d.guest,
		IncludeInGlobalAddressList: true,
		Emails:                     []admin.UserEmail{{Address: email, Primary: true}},
		Organizations: []admin.UserOrganization{{Name: "Example Corp", Title: title, Department: d.dept,
			CostCenter: d.cc, Description: kind, Primary: true, Type: "work"}},
		ExternalIds: []admin.UserExternalId{{Type: "organization", Value: fmt.Sprintf("E%07d", i+1)}},
		Languages:   []admin.UserLanguage{{LanguageCode: d.lang, Preference: "preferred"}},
	}
	var manager string
	if i > 0 {
		m := (i - 1) / 8
		manager = g.draws(m).email(m)
		u.Relations = []admin.UserRelation{{Type: "manager", Value: manager}}
	}
	if d.suspended {
		u.Suspended, u.SuspensionReason = true, "ADMIN"
	}
	u.Archived = d.archived
	local := emailLocal(d.given) + "." + strconv.Itoa(i+1)
	if g.shape != ShapeFull {
		if d.alias {
			alias := local + "@" + d.domain
			u.Aliases = []string{alias}
			u.Emails = append(u.Emails.([]admin.UserEmail), admin.UserEmail{Address: alias})
		}
		return u
	}
	aliases := []string{local + "@" + d.domain, emailLocal(d.family) + "." + strconv.Itoa(i+1) + "@" + d.domain}
	u.Aliases = aliases
	u.NonEditableAliases = []string{local + "@example.test-google-a.com"}
	u.Emails = append(u.Emails.([]admin.UserEmail), admin.UserEmail{Address: aliases[0]}, admin.UserEmail{Address: aliases[1]})
	orgs := u.Organizations.([]admin.UserOrganization)
	orgs[0].Location = "Building " + strconv.Itoa(1+i%40)
	u.ExternalIds = append(u.ExternalIds.([]admin.UserExternalId),
		admin.UserExternalId{Type: "login_id", Value: "u" + strconv.Itoa(i+1)})
	rel := []admin.UserRelation{}
	if manager != "" {
		rel = append(rel, admin.UserRelation{Type: "manager", Value: manager})
	}
	u.Relations = append(rel, admin.UserRelation{Type: "assistant", Value: "assistant." + strconv.Itoa(i%500+1) + "@" + d.domain})
	return u
}

// renderUser returns one user's JSON under a fields mask (nil: all).
func renderUser(u *admin.User, m mask) ([]byte, error) {
	b, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("marshal user %s: %w", u.Id, err)
	}
	if m == nil {
		return b, nil
	}
	var out bytes.Buffer
	if err := m.applyRaw(b, &out); err != nil {
		return nil, fmt.Errorf("mask user %s: %w", u.Id, err)
	}
	return out.Bytes(), nil
}

// applyRaw writes the selected parts of the JSON value raw to out, keeping
// the nested values it need not look into as they are.
func (m mask) applyRaw(raw []byte, out *bytes.Buffer) error {
	raw = bytes.TrimSpace(raw)
	if m == nil || len(raw) == 0 {
		out.Write(raw)
		return nil
	}
	switch raw[0] {
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return err
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			if _, ok := obj[k]; ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		out.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				out.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			out.Write(kb)
			out.WriteByte(':')
			if err := m[k].applyRaw(obj[k], out); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	case '[':
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return err
		}
		out.WriteByte('[')
		for i, e := range arr {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := m.applyRaw(e, out); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	default:
		out.Write(raw)
	}
	return nil
}
