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

// genUser is one generated user's values, from which both its
// admin.User and its JSON are built.
type genUser struct {
	id, email, given, family, ou, created string
	guest, suspended, archived            bool
	title, dept, cc, kind, location, lang string
	employee, login, manager, assistant   string
	aliases, nonEditable                  []string
}

func (g *Generated) gen(i int) genUser {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)+0x5eed))
	u := genUser{
		given:  givenNames[r.IntN(len(givenNames))],
		family: familyNames[r.IntN(len(familyNames))],
	}
	domain := "example.com"
	if r.IntN(10) == 0 {
		domain = "example.org"
	}
	if u.guest = r.IntN(200) == 0; u.guest {
		domain = "partner.example.net"
	}
	n := strconv.Itoa(i + 1)
	u.email = emailLocal(u.given) + "." + emailLocal(u.family) + "." + n + "@" + domain
	u.id = "1" + pad(r.IntN(100), 2) + pad(i+1, 18)
	u.dept = departments[r.IntN(len(departments))]
	u.kind = "Employee"
	if r.IntN(8) == 0 {
		u.kind = "Contractor"
	}
	u.ou = orgUnits[r.IntN(len(orgUnits))]
	u.title = titles[r.IntN(len(titles))]
	u.cc = "CC-" + strconv.Itoa(100+r.IntN(40))
	u.lang = languages[r.IntN(len(languages))]
	alias := r.IntN(10) == 0
	switch x := r.IntN(100); {
	case x < 2:
		u.suspended = true
	case x < 3:
		u.archived = true
	}
	u.created = genCreated.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
	u.employee = "E" + pad(i+1, 7)
	if i > 0 {
		u.manager = g.email((i - 1) / 8)
	}
	g.mu.RLock()
	if t, ok := g.titles[i]; ok {
		u.title = t
	}
	g.mu.RUnlock()
	local := emailLocal(u.given) + "." + n
	if g.shape != ShapeFull {
		if alias {
			u.aliases = []string{local + "@" + domain}
		}
		return u
	}
	u.aliases = []string{local + "@" + domain, emailLocal(u.family) + "." + n + "@" + domain}
	u.nonEditable = []string{local + "@example.test-google-a.com"}
	u.location = "Building " + strconv.Itoa(1+i%40)
	u.login = "u" + n
	u.assistant = "assistant." + strconv.Itoa(i%500+1) + "@" + domain
	return u
}

// email is user i's primary email (unique through its index), drawn as
// gen draws it.
func (g *Generated) email(i int) string {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)+0x5eed))
	given := givenNames[r.IntN(len(givenNames))]
	family := familyNames[r.IntN(len(familyNames))]
	domain := "example.com"
	if r.IntN(10) == 0 {
		domain = "example.org"
	}
	if r.IntN(200) == 0 {
		domain = "partner.example.net"
	}
	return emailLocal(given) + "." + emailLocal(family) + "." + strconv.Itoa(i+1) + "@" + domain
}

// pad formats v in decimal with leading zeros to width digits.
func pad(v, width int) string {
	s := strconv.Itoa(v)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// User implements UserSource.
func (g *Generated) User(i int) *admin.User {
	v := g.gen(i)
	u := &admin.User{
		Kind:                       "admin#directory#user",
		Id:                         v.id,
		Etag:                       "\"etag-" + v.id + "\"",
		CustomerId:                 DefaultCustomerID,
		PrimaryEmail:               v.email,
		Name:                       &admin.UserName{GivenName: v.given, FamilyName: v.family, FullName: v.given + " " + v.family},
		OrgUnitPath:                v.ou,
		CreationTime:               v.created,
		AgreedToTerms:              true,
		IsGuestUser:                v.guest,
		IsMailboxSetup:             !v.guest,
		IncludeInGlobalAddressList: true,
		Suspended:                  v.suspended,
		Archived:                   v.archived,
		Aliases:                    v.aliases,
		NonEditableAliases:         v.nonEditable,
	}
	if v.suspended {
		u.SuspensionReason = "ADMIN"
	}
	emails := []admin.UserEmail{{Address: v.email, Primary: true}}
	for _, a := range v.aliases {
		emails = append(emails, admin.UserEmail{Address: a})
	}
	u.Emails = emails
	u.Organizations = []admin.UserOrganization{{Name: "Example Corp", Title: v.title, Department: v.dept,
		CostCenter: v.cc, Description: v.kind, Primary: true, Type: "work", Location: v.location}}
	ext := []admin.UserExternalId{{Type: "organization", Value: v.employee}}
	if v.login != "" {
		ext = append(ext, admin.UserExternalId{Type: "login_id", Value: v.login})
	}
	u.ExternalIds = ext
	u.Languages = []admin.UserLanguage{{LanguageCode: v.lang, Preference: "preferred"}}
	var rel []admin.UserRelation
	if v.manager != "" {
		rel = append(rel, admin.UserRelation{Type: "manager", Value: v.manager})
	}
	if v.assistant != "" {
		rel = append(rel, admin.UserRelation{Type: "assistant", Value: v.assistant})
	}
	if len(rel) > 0 {
		u.Relations = rel
	}
	return u
}

// appendUser writes user i's JSON under the mask, as renderUser would
// from User(i).
func (g *Generated) appendUser(b *bytes.Buffer, i int, m mask) {
	v := g.gen(i)
	o := openObj(b, m)
	o.str("kind", "admin#directory#user")
	o.str("id", v.id)
	o.str("etag", "\"etag-"+v.id+"\"")
	o.str("primaryEmail", v.email)
	o.obj("name", func(n *jsonObj) {
		n.str("givenName", v.given)
		n.str("familyName", v.family)
		n.str("fullName", v.given+" "+v.family)
	})
	o.boolean("isAdmin", false)
	o.str("lastLoginTime", "")
	o.str("creationTime", v.created)
	o.boolean("agreedToTerms", true)
	o.boolean("suspended", v.suspended)
	o.boolean("archived", v.archived)
	if v.suspended {
		o.str("suspensionReason", "ADMIN")
	}
	o.boolean("changePasswordAtNextLogin", false)
	o.boolean("ipWhitelisted", false)
	o.objs("emails", 1+len(v.aliases), func(e *jsonObj, j int) {
		if j == 0 {
			e.str("address", v.email)
			e.boolean("primary", true)
			return
		}
		e.str("address", v.aliases[j-1])
	})
	o.objs("externalIds", 1+min(1, len(v.login)), func(e *jsonObj, j int) {
		if j == 0 {
			e.str("type", "organization")
			e.str("value", v.employee)
			return
		}
		e.str("type", "login_id")
		e.str("value", v.login)
	})
	var rel [][2]string
	if v.manager != "" {
		rel = append(rel, [2]string{"manager", v.manager})
	}
	if v.assistant != "" {
		rel = append(rel, [2]string{"assistant", v.assistant})
	}
	o.objs("relations", len(rel), func(e *jsonObj, j int) {
		e.str("type", rel[j][0])
		e.str("value", rel[j][1])
	})
	o.objs("organizations", 1, func(e *jsonObj, _ int) {
		e.str("name", "Example Corp")
		e.str("title", v.title)
		e.boolean("primary", true)
		e.str("type", "work")
		e.str("department", v.dept)
		e.str("description", v.kind)
		e.str("location", v.location)
		e.str("costCenter", v.cc)
	})
	o.objs("languages", 1, func(e *jsonObj, _ int) {
		e.str("languageCode", v.lang)
		e.str("preference", "preferred")
	})
	o.strs("aliases", v.aliases)
	o.strs("nonEditableAliases", v.nonEditable)
	o.str("customerId", DefaultCustomerID)
	o.str("orgUnitPath", v.ou)
	o.boolean("isMailboxSetup", !v.guest)
	o.boolean("includeInGlobalAddressList", true)
	o.boolean("isGuestUser", v.guest)
	o.close()
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
