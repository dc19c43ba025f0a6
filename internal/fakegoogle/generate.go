package fakegoogle

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	admin "google.golang.org/api/admin/directory/v1"
)

var (
	givenNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret",
		"Dennis", "Radia", "Tim", "Hedy", "Linus", "Katherine", "John", "Sophie", "Niklaus", "Anita", "Leslie",
		"Shafi", "Whitfield", "Adele", "Bjarne", "Mary", "Guido", "Jean", "Yukihiro", "Karen", "Rob"}
	familyNames = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
		"Hamilton", "Ritchie", "Perlman", "Berners-Lee", "Lamarr", "Torvalds", "Johnson", "McCarthy", "Wilson",
		"Wirth", "Borg", "Lamport", "Goldwasser", "Diffie", "Goldberg", "Stroustrup", "Jackson", "van Rossum",
		"Sammet", "Matsumoto", "Spärck Jones", "Pike"}
	orgUnits    = []string{"/", "/Engineering", "/Engineering/Platform", "/Engineering/Apps", "/Sales", "/Sales/EMEA", "/Support", "/Contractors"}
	departments = []string{"Engineering", "Sales", "Support", "Finance", "People", "Marketing"}
	titles      = []string{"Engineer", "Senior Engineer", "Staff Engineer", "Account Executive", "Support Specialist",
		"Analyst", "Manager", "Director", "Designer", "Recruiter"}
	languages = []string{"en", "en-GB", "fr", "de", "es", "ja", "pt-BR"}
)

// GenerateUsers returns n realistic Directory users, the same for the same
// seed: names, primary emails on example.com (some on example.org), org
// units, a primary organization, an employee number (externalIds type
// organization), a manager relation forming a tree, a preferred language,
// some aliases, about 2% suspended, 1% archived and 0.5% guests. Ids are
// unique 21-digit strings, beyond int64.
func GenerateUsers(n int, seed int64) []*admin.User {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	users := make([]*admin.User, 0, n)
	taken := make(map[string]int, n)
	created := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		given := givenNames[r.IntN(len(givenNames))]
		family := familyNames[r.IntN(len(familyNames))]
		domain := "example.com"
		if r.IntN(10) == 0 {
			domain = "example.org"
		}
		guest := r.IntN(200) == 0
		if guest {
			domain = "partner.example.net"
		}
		local := emailLocal(given) + "." + emailLocal(family)
		taken[local+"@"+domain]++
		if c := taken[local+"@"+domain]; c > 1 {
			local = fmt.Sprintf("%s%d", local, c)
		}
		email := local + "@" + domain
		id := fmt.Sprintf("1%02d%018d", r.IntN(100), i+1)
		dept := departments[r.IntN(len(departments))]
		kind := "Employee"
		if r.IntN(8) == 0 {
			kind = "Contractor"
		}
		u := &admin.User{
			Kind:                       "admin#directory#user",
			Id:                         id,
			Etag:                       fmt.Sprintf("\"etag-%s\"", id),
			CustomerId:                 DefaultCustomerID,
			PrimaryEmail:               email,
			Name:                       &admin.UserName{GivenName: given, FamilyName: family, FullName: given + " " + family},
			OrgUnitPath:                orgUnits[r.IntN(len(orgUnits))],
			CreationTime:               created.Add(time.Duration(i) * time.Hour).Format(time.RFC3339),
			AgreedToTerms:              true,
			IsGuestUser:                guest,
			IsMailboxSetup:             !guest,
			IncludeInGlobalAddressList: true,
			Emails:                     []admin.UserEmail{{Address: email, Primary: true}},
			Organizations: []admin.UserOrganization{{
				Name:        "Example Corp",
				Title:       titles[r.IntN(len(titles))],
				Department:  dept,
				CostCenter:  fmt.Sprintf("CC-%03d", 100+r.IntN(40)),
				Description: kind,
				Primary:     true,
				Type:        "work",
			}},
			ExternalIds: []admin.UserExternalId{{Type: "organization", Value: fmt.Sprintf("E%06d", i+1)}},
			Languages:   []admin.UserLanguage{{LanguageCode: languages[r.IntN(len(languages))], Preference: "preferred"}},
		}
		if i > 0 {
			mgr := users[(i-1)/8]
			u.Relations = []admin.UserRelation{{Type: "manager", Value: mgr.PrimaryEmail}}
		}
		if r.IntN(10) == 0 {
			alias := emailLocal(given) + fmt.Sprintf(".%d@", i+1) + domain
			u.Aliases = []string{alias}
			u.Emails = append(u.Emails.([]admin.UserEmail), admin.UserEmail{Address: alias})
		}
		switch x := r.IntN(100); {
		case x < 2:
			u.Suspended = true
			u.SuspensionReason = "ADMIN"
		case x < 3:
			u.Archived = true
		}
		users = append(users, u)
	}
	return users
}

// emailLocal lower-cases a name and keeps ASCII letters and hyphens.
func emailLocal(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c == '-':
			b.WriteRune(c)
		case c == 'ä':
			b.WriteString("a")
		}
	}
	return b.String()
}
