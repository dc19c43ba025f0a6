package fakegoogle

import (
	"fmt"
	"hash/fnv"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"
)

// GroupSet is a directory's groups and their direct members, read by index so
// that a large set can be computed on the fly instead of stored: the server
// asks only for the groups and members of the page it serves. Implementations
// must be safe for concurrent reads and return the same values every time.
type GroupSet interface {
	// Len is the number of groups.
	Len() int
	// Group returns group i (0 <= i < Len()).
	Group(i int) *admin.Group
	// MemberCount is the number of direct members of group i.
	MemberCount(i int) int
	// Member returns direct member j of group i (0 <= j < MemberCount(i)).
	Member(i, j int) *admin.Member
}

// StaticGroups is a GroupSet held in memory, for tests that spell out their
// groups. Members[i] are the direct members of Groups[i].
type StaticGroups struct {
	Groups  []*admin.Group
	Members [][]*admin.Member
}

// Len implements GroupSet.
func (s *StaticGroups) Len() int { return len(s.Groups) }

// Group implements GroupSet.
func (s *StaticGroups) Group(i int) *admin.Group { return s.Groups[i] }

// MemberCount implements GroupSet.
func (s *StaticGroups) MemberCount(i int) int {
	if i >= len(s.Members) {
		return 0
	}
	return len(s.Members[i])
}

// Member implements GroupSet.
func (s *StaticGroups) Member(i, j int) *admin.Member { return s.Members[i][j] }

// Member types and roles as Google spells them.
const (
	MemberUser     = "USER"
	MemberGroup    = "GROUP"
	MemberCustomer = "CUSTOMER"
	MemberExternal = "EXTERNAL"
)

var groupTeams = []string{"Engineering", "Platform", "Sales", "Support", "Finance", "People", "Marketing",
	"Design", "Security", "Legal", "Data", "Operations"}

// GeneratedGroups is a GroupSet of N groups with about MembersPerGroup direct
// members each, computed from Seed on every read: memory does not grow with
// the number of memberships. Members are drawn from Users (distinct within a
// group, suspended users listed with status SUSPENDED); about 2% of members
// are nested groups (type GROUP, always a group of lower index, so nesting
// has no cycles), about 2% external addresses (type EXTERNAL), and every
// 50th group also has the whole customer as a member (type CUSTOMER). The
// first member is the OWNER, about 5% are MANAGERs.
type GeneratedGroups struct {
	N               int
	MembersPerGroup int
	Seed            int64
	Users           Users
}

// Users are the users generated groups draw their members from, by index:
// a UserList, or a Generated directory, which computes each user as it is
// asked for (a group set of a million users' directory then holds none).
type Users interface {
	Len() int
	User(i int) *admin.User
}

// UserList is Users held in memory.
type UserList []*admin.User

// Len implements Users.
func (l UserList) Len() int { return len(l) }

// User implements Users.
func (l UserList) User(i int) *admin.User { return l[i] }

// GenerateGroups returns a GeneratedGroups of n groups with about members
// members each, drawn from users.
func GenerateGroups(users []*admin.User, n, members int, seed int64) *GeneratedGroups {
	return GenerateGroupsFrom(UserList(users), n, members, seed)
}

// GenerateGroupsFrom is GenerateGroups drawing from any Users.
func GenerateGroupsFrom(users Users, n, members int, seed int64) *GeneratedGroups {
	return &GeneratedGroups{N: n, MembersPerGroup: members, Seed: seed, Users: users}
}

// Len implements GroupSet.
func (g *GeneratedGroups) Len() int { return g.N }

// GeneratedGroupID is the id of group i of any GeneratedGroups: Google's
// group ids are 15 lower-case base-36 characters starting with a digit.
func GeneratedGroupID(i int) string { return fmt.Sprintf("03%013x", i+1) }

// GeneratedGroupEmail is the address of group i of a GeneratedGroups.
func GeneratedGroupEmail(i int) string {
	return fmt.Sprintf("%s-%d@example.com", strings.ToLower(groupTeams[i%len(groupTeams)]), i+1)
}

// Group implements GroupSet.
func (g *GeneratedGroups) Group(i int) *admin.Group {
	team := groupTeams[i%len(groupTeams)]
	gr := &admin.Group{
		Kind:               "admin#directory#group",
		Id:                 GeneratedGroupID(i),
		Etag:               fmt.Sprintf("\"group-etag-%d-%d\"", g.Seed, i),
		Email:              GeneratedGroupEmail(i),
		Name:               fmt.Sprintf("%s %d", team, i+1),
		Description:        "Everyone in " + team,
		DirectMembersCount: int64(g.MemberCount(i)),
		AdminCreated:       true,
	}
	if i%10 == 0 {
		gr.Aliases = []string{fmt.Sprintf("%s-%d-alias@example.com", strings.ToLower(team), i+1)}
	}
	return gr
}

// hash mixes the seed and the parts into a deterministic number.
func (g *GeneratedGroups) hash(parts ...int) uint64 {
	h := fnv.New64a()
	fmt.Fprint(h, g.Seed)
	for _, p := range parts {
		fmt.Fprintf(h, ":%d", p)
	}
	return h.Sum64()
}

// MemberCount implements GroupSet: between 80% and 120% of MembersPerGroup,
// plus one CUSTOMER member on every 50th group.
func (g *GeneratedGroups) MemberCount(i int) int {
	m := g.MembersPerGroup
	if m <= 0 {
		return 0
	}
	spread := m / 5
	n := m
	if spread > 0 {
		n = m - spread + int(g.hash(i, -1)%uint64(2*spread+1))
	}
	if i%50 == 49 {
		n++
	}
	return n
}

// Member implements GroupSet.
func (g *GeneratedGroups) Member(i, j int) *admin.Member {
	m := &admin.Member{Kind: "admin#directory#member", Role: "MEMBER", Status: "ACTIVE"}
	m.Etag = fmt.Sprintf("\"member-etag-%d-%d-%d\"", g.Seed, i, j)
	if i%50 == 49 && j == g.MemberCount(i)-1 {
		m.Type, m.Id = MemberCustomer, DefaultCustomerID
		return m
	}
	switch {
	case j == 0:
		m.Role = "OWNER"
	case g.hash(i, j, 1)%20 == 0:
		m.Role = "MANAGER"
	}
	switch x := g.hash(i, j, 2) % 100; {
	case x < 2 && j < i:
		// Distinct for distinct j < i.
		k := int((g.hash(i, -4) + uint64(j)) % uint64(i))
		m.Type, m.Id, m.Email = MemberGroup, GeneratedGroupID(k), GeneratedGroupEmail(k)
		return m
	case x < 4 || g.Users == nil || g.Users.Len() == 0:
		m.Type = MemberExternal
		m.Id = fmt.Sprintf("2%02d%018d", i%100, uint64(i)*100000+uint64(j))
		m.Email = fmt.Sprintf("guest-%d-%d@partner.example.net", i+1, j+1)
		return m
	}
	// Distinct users within a group: a fixed start and a stride coprime
	// with the number of users.
	n := g.Users.Len()
	start := int(g.hash(i, -2) % uint64(n))
	stride := 1
	if n > 1 {
		stride = int(g.hash(i, -3)%uint64(n-1)) + 1
		for gcd(stride, n) != 1 {
			stride++
		}
	}
	u := g.Users.User((start + j*stride) % n)
	m.Type, m.Id, m.Email = MemberUser, u.Id, u.PrimaryEmail
	if u.Suspended || u.Archived {
		m.Status = "SUSPENDED"
	}
	return m
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
