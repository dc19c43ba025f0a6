package fakegoogle

import (
	"errors"
	"strings"

	admin "google.golang.org/api/admin/directory/v1"
)

// parseGroupQuery parses a groups.list query as Google documents it:
// whitespace-separated clauses, all of which must hold, each `email` or
// `name` with `=` (exact) or `:` and a value ending in `*` (prefix); values
// with spaces are in single quotes, \' escaping a quote. Matching ignores
// case. memberKey is not supported by the fake.
func parseGroupQuery(q string) (func(email, name string) bool, error) {
	type clause struct {
		field, value string
		prefix       bool
	}
	var clauses []clause
	q = strings.TrimSpace(q)
	for q != "" {
		i := strings.IndexAny(q, "=:")
		if i <= 0 {
			return nil, errors.New("query clause without an operator")
		}
		c := clause{field: strings.TrimSpace(q[:i]), prefix: q[i] == ':'}
		if c.field != "email" && c.field != "name" {
			return nil, errors.New("query field " + c.field + " is not supported")
		}
		rest := q[i+1:]
		var v strings.Builder
		if strings.HasPrefix(rest, "'") {
			j := 1
			for ; j < len(rest) && rest[j] != '\''; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				v.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return nil, errors.New("unterminated quote")
			}
			rest = rest[j+1:]
			if c.prefix && strings.HasPrefix(rest, "*") {
				v.WriteByte('*')
				rest = rest[1:]
			}
		} else {
			j := strings.IndexAny(rest, " \t")
			if j < 0 {
				j = len(rest)
			}
			v.WriteString(rest[:j])
			rest = rest[j:]
		}
		c.value = strings.ToLower(v.String())
		if c.prefix {
			if !strings.HasSuffix(c.value, "*") {
				return nil, errors.New("the : operator needs a prefix ending in *")
			}
			c.value = strings.TrimSuffix(c.value, "*")
		}
		clauses = append(clauses, c)
		q = strings.TrimSpace(rest)
	}
	return func(email, name string) bool {
		for _, c := range clauses {
			got := strings.ToLower(name)
			if c.field == "email" {
				got = strings.ToLower(email)
			}
			if c.prefix && !strings.HasPrefix(got, c.value) || !c.prefix && got != c.value {
				return false
			}
		}
		return true
	}, nil
}

// derivedMembers lists group i's direct and indirect members once each (by
// id), nested groups included, for includeDerivedMembership=true.
func derivedMembers(g GroupSet, index func(string) (int, bool), i int) []*admin.Member {
	var out []*admin.Member
	seen := map[string]bool{}
	visited := map[int]bool{}
	var walk func(i int)
	walk = func(i int) {
		if visited[i] {
			return
		}
		visited[i] = true
		for j := 0; j < g.MemberCount(i); j++ {
			m := g.Member(i, j)
			if !seen[m.Id] {
				seen[m.Id] = true
				out = append(out, m)
			}
			if m.Type == MemberGroup {
				if k, ok := index(m.Id); ok {
					walk(k)
				}
			}
		}
	}
	walk(i)
	return out
}
