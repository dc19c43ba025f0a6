package store

// The SCIM filter compiler: a scimbridge.Filter tree becomes one boolean SQL
// expression over alias p (profiles) or g (groups), with ? placeholders. Attribute names
// and sort keys resolve only through the catalogue below, so no text of the
// client's ever reaches SQL except as a bind parameter.

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/internal/textkey"
)

// Schema URNs that may prefix an attribute name.
const (
	coreUserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// Limits that keep a filter tree from growing SQL without bound. The SCIM
// server enforces the product's tighter limits while parsing; these only
// guard the compiler against hand-built trees.
const (
	maxFilterComparisons = 100
	maxFilterDepth       = 64
)

// AttributeInfo describes one filterable attribute, for the SCIM /Schemas
// endpoint.
type AttributeInfo struct {
	Schema string // the schema URN the attribute belongs to
	// Name is the attribute path inside its schema: "userName",
	// "name.givenName", "emails.value", "manager.value".
	Name      string
	Type      string // "string", "boolean" or "dateTime"
	CaseExact bool
	Sortable  bool
}

type attrKind uint8

const (
	kindString attrKind = iota
	kindBool
	kindTime
)

var kindNames = [...]string{kindString: "string", kindBool: "boolean", kindTime: "dateTime"}

// attr is one catalogue entry. column is a fixed SQL fragment.
type attr struct {
	schema string
	name   string
	kind   attrKind
	column string
	// child marks a column of a child table (profile_emails e, group_members
	// m), compared through the catalogue's childExists.
	child bool
	// key marks a case-insensitive attribute: column holds textkey.Key of the
	// value and values go through textkey.Key too. Every other string
	// attribute is case-exact, and /Schemas advertises it so.
	key   bool
	uuid  bool // id: a value that is not a UUID matches nothing
	state bool // active, stored as p.state
	// sort is the ORDER BY column ("" when not sortable); sortNullable
	// says it may be NULL.
	sort         string
	sortNullable bool
}

// catalog is the filterable attributes of one resource type, over one
// table alias. Catalogs are read-only.
type catalog struct {
	alias   string // "p" or "g"
	schemas []string
	entries []attr
	index   map[string]attr
	// childExists wraps a condition over one child row (e or m).
	childExists func(pg bool, cond string) string
}

func newCatalog(alias string, schemas []string, entries []attr, aliases map[string]string,
	childExists func(pg bool, cond string) string) *catalog {
	m := make(map[string]attr, len(entries)+len(aliases))
	for _, a := range entries {
		m[strings.ToLower(a.name)] = a
	}
	for alias, name := range aliases {
		m[alias] = m[strings.ToLower(name)]
	}
	return &catalog{alias: alias, schemas: schemas, entries: entries, index: m, childExists: childExists}
}

// userCatalog and groupCatalog are the attributes of /Users and /Groups.
var (
	userCatalog = newCatalog("p", []string{coreUserSchema, enterpriseUserSchema}, catalogue, attrAliases, emailsExists)
	// groupCatalog: members.value compares member ids through the
	// membership table.
	groupCatalog = newCatalog("g", []string{coreGroupSchema}, groupCatalogue,
		map[string]string{"members": "members.value"}, membersExists)
)

// groupCatalogue lists every filterable Group attribute. It is read-only.
var groupCatalogue = []attr{
	{schema: coreGroupSchema, name: "id", column: "g.id", uuid: true, sort: "g.id"},
	{schema: coreGroupSchema, name: "externalId", column: "g.external_id", sort: "g.external_id", sortNullable: true},
	{schema: coreGroupSchema, name: "displayName", column: "g.display_name_key", key: true, sort: "g.display_name_key"},
	// A member id is compared in its canonical lower-case form, so the
	// attribute compares case-insensitively (key: a UUID is its own key).
	{schema: coreGroupSchema, name: "members.value", column: "m.profile_id", child: true, uuid: true, key: true},
	{schema: coreGroupSchema, name: "meta.created", kind: kindTime, column: "g.created_at", sort: "g.created_at"},
	{schema: coreGroupSchema, name: "meta.lastModified", kind: kindTime, column: "g.updated_at", sort: "g.updated_at"},
	{schema: coreGroupSchema, name: "meta.resourceType", column: "CAST('Group' AS TEXT)"},
}

// catalogue lists every filterable User attribute. It is read-only.
var catalogue = []attr{
	{schema: coreUserSchema, name: "id", column: "p.id", uuid: true, sort: "p.id"},
	{schema: coreUserSchema, name: "externalId", column: "p.external_id", sort: "p.external_id", sortNullable: true},
	{schema: coreUserSchema, name: "userName", column: "p.user_name_key", key: true, sort: "p.user_name_key"},
	{schema: coreUserSchema, name: "displayName", column: "p.display_name_key", key: true, sort: "p.display_name_key", sortNullable: true},
	{schema: coreUserSchema, name: "title", column: "p.title", sort: "p.title", sortNullable: true},
	{schema: coreUserSchema, name: "userType", column: "p.user_type", sort: "p.user_type", sortNullable: true},
	{schema: coreUserSchema, name: "name.givenName", column: "p.given_name", sort: "p.given_name", sortNullable: true},
	{schema: coreUserSchema, name: "name.familyName", column: "p.family_name", sort: "p.family_name", sortNullable: true},
	{schema: coreUserSchema, name: "name.formatted", column: "p.formatted", sort: "p.formatted", sortNullable: true},
	{schema: coreUserSchema, name: "name.middleName", column: "p.middle_name", sort: "p.middle_name", sortNullable: true},
	{schema: coreUserSchema, name: "name.honorificPrefix", column: "p.honorific_prefix", sort: "p.honorific_prefix", sortNullable: true},
	{schema: coreUserSchema, name: "name.honorificSuffix", column: "p.honorific_suffix", sort: "p.honorific_suffix", sortNullable: true},
	{schema: coreUserSchema, name: "nickName", column: "p.nick_name", sort: "p.nick_name", sortNullable: true},
	{schema: coreUserSchema, name: "locale", column: "p.locale", sort: "p.locale", sortNullable: true},
	{schema: coreUserSchema, name: "timezone", column: "p.timezone", sort: "p.timezone", sortNullable: true},
	{schema: coreUserSchema, name: "preferredLanguage", column: "p.preferred_language", sort: "p.preferred_language", sortNullable: true},
	{schema: coreUserSchema, name: "profileUrl", column: "p.profile_url", sort: "p.profile_url", sortNullable: true},
	// Sorting on active puts inactive (false) first, as false < true.
	{schema: coreUserSchema, name: "active", kind: kindBool, column: "p.state", state: true,
		sort: "CASE WHEN p.state = 'active' THEN 1 ELSE 0 END"},
	// Sorting on emails uses the profile email (the primary entry, else the
	// first work entry, else the first entry).
	{schema: coreUserSchema, name: "emails.value", column: "e.value_key", child: true, key: true,
		sort: "p.email_key", sortNullable: true},
	{schema: coreUserSchema, name: "emails.type", column: "e.type", child: true},
	{schema: coreUserSchema, name: "emails.display", column: "e.display", child: true},
	{schema: coreUserSchema, name: "emails.primary", kind: kindBool, column: "e.is_primary", child: true},
	{schema: coreUserSchema, name: "meta.created", kind: kindTime, column: "p.created_at", sort: "p.created_at"},
	{schema: coreUserSchema, name: "meta.lastModified", kind: kindTime, column: "p.updated_at", sort: "p.updated_at"},
	{schema: coreUserSchema, name: "meta.resourceType", column: "CAST('User' AS TEXT)"},
	{schema: enterpriseUserSchema, name: "employeeNumber", column: "p.employee_number", sort: "p.employee_number", sortNullable: true},
	{schema: enterpriseUserSchema, name: "department", column: "p.department", sort: "p.department", sortNullable: true},
	{schema: enterpriseUserSchema, name: "costCenter", column: "p.cost_center", sort: "p.cost_center", sortNullable: true},
	{schema: enterpriseUserSchema, name: "organization", column: "p.organization", sort: "p.organization", sortNullable: true},
	{schema: enterpriseUserSchema, name: "division", column: "p.division", sort: "p.division", sortNullable: true},
	{schema: enterpriseUserSchema, name: "manager.value", column: "p.manager", sort: "p.manager", sortNullable: true},
}

// attrAliases name a complex attribute for its value sub-attribute.
var attrAliases = map[string]string{"emails": "emails.value", "manager": "manager.value"}

// FilterAttributes returns the User attributes filters and sortBy accept.
func FilterAttributes() []AttributeInfo { return userCatalog.info() }

// GroupFilterAttributes returns the Group attributes filters and sortBy
// accept.
func GroupFilterAttributes() []AttributeInfo { return groupCatalog.info() }

func (cat *catalog) info() []AttributeInfo {
	out := make([]AttributeInfo, 0, len(cat.entries))
	for _, a := range cat.entries {
		out = append(out, AttributeInfo{
			Schema:    a.schema,
			Name:      a.name,
			Type:      kindNames[a.kind],
			CaseExact: a.kind == kindString && !a.key,
			Sortable:  a.sort != "",
		})
	}
	return out
}

// lookupAttr resolves a User attribute path (see catalog.lookup).
func lookupAttr(path string) (attr, bool) { return userCatalog.lookup(path) }

// lookup resolves an attribute path case-insensitively, with or without
// its schema URN prefix.
func (cat *catalog) lookup(path string) (attr, bool) {
	name, schema := strings.ToLower(path), ""
	for _, s := range cat.schemas {
		if rest, ok := strings.CutPrefix(name, strings.ToLower(s)+":"); ok {
			name, schema = rest, s
			break
		}
	}
	a, ok := cat.index[name]
	if !ok || schema != "" && a.schema != schema {
		return attr{}, false
	}
	return a, true
}

// otherCatalog is the catalog of the other resource type, for a filter of
// a search over every resource type.
func (cat *catalog) other() *catalog {
	if cat == userCatalog {
		return groupCatalog
	}
	return userCatalog
}

// invalidFilterf is the client error of a filter that cannot be compiled.
func invalidFilterf(format string, args ...any) error {
	return scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidFilter", format, args...)
}

// compileFilter returns a boolean SQL expression with ? placeholders (the
// caller rebinds them for PostgreSQL) over alias p (profiles); a nil f
// returns "", nil, nil. Every comparison compiles to a two-valued
// expression, so NOT is exact: ne and not match unassigned (NULL)
// attributes too.
func compileFilter(dialect string, f scimbridge.Filter) (where string, args []any, err error) {
	return compileFilterFor(dialect, userCatalog, false, f)
}

// compileFilterFor compiles f over cat. With anyType (a search over every
// resource type) an attribute only the other resource type has is
// unassigned here instead of unknown: eq matches nothing, ne everything.
func compileFilterFor(dialect string, cat *catalog, anyType bool, f scimbridge.Filter) (where string, args []any, err error) {
	if dialect != DialectSQLite && dialect != DialectPostgres {
		return "", nil, fmt.Errorf("compile filter: unknown dialect %q", dialect)
	}
	if f == nil {
		return "", nil, nil
	}
	c := &compiler{pg: dialect == DialectPostgres, cat: cat, anyType: anyType}
	where, err = c.node(f, "", 0)
	if err != nil {
		return "", nil, err
	}
	return where, c.args, nil
}

// sortExpr returns an ORDER BY expression (without direction) for a
// catalogue attribute; "" sorts by p.id. Strings order by binary collation
// (userName and emails on their case-insensitive keys); unassigned values
// sort as the smallest value on both databases (first ascending, last
// descending).
func sortExpr(dialect, name string) (string, error) {
	return sortExprFor(dialect, userCatalog, false, name)
}

// sortExprFor is sortExpr over cat; with anyType an attribute only the
// other resource type has sorts as unassigned here (by id).
func sortExprFor(dialect string, cat *catalog, anyType bool, name string) (string, error) {
	if dialect != DialectSQLite && dialect != DialectPostgres {
		return "", fmt.Errorf("sort expression: unknown dialect %q", dialect)
	}
	idCol := cat.alias + ".id"
	if name == "" {
		return idCol, nil
	}
	a, ok := cat.lookup(name)
	if !ok && anyType {
		if b, found := cat.other().lookup(name); found && b.sort != "" {
			return idCol, nil
		}
	}
	if !ok {
		return "", scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "sortBy: unknown attribute %q", name)
	}
	if a.sort == "" {
		return "", scimbridge.ScimErrorf(scimbridge.EINVALID, "invalidValue", "sortBy: cannot sort by %q", name)
	}
	switch {
	case a.uuid:
		return idCol, nil
	case dialect == DialectSQLite || a.kind != kindString:
		// SQLite orders NULL before every value, as PostgreSQL does below.
		return a.sort, nil
	case a.sortNullable:
		// Stored strings are never "", so '' stands for NULL exactly.
		return "COALESCE(" + a.sort + `, '') COLLATE "C"`, nil
	default:
		return a.sort + ` COLLATE "C"`, nil
	}
}

// sqlOperators are the SQL forms of the comparison operators.
var sqlOperators = map[scimbridge.FilterOp]string{
	scimbridge.OpEq: "=", scimbridge.OpNe: "<>", scimbridge.OpGt: ">",
	scimbridge.OpGe: ">=", scimbridge.OpLt: "<", scimbridge.OpLe: "<=",
}

// compiler accumulates the bind parameters of one filter.
type compiler struct {
	pg          bool
	cat         *catalog
	anyType     bool
	args        []any
	comparisons int
}

// node compiles one filter node. scope is the attribute of the enclosing
// value path ("" outside one). The expression returned either starts with
// "(" and is parenthesised as a whole, or binds tighter than AND and OR.
func (c *compiler) node(f scimbridge.Filter, scope string, depth int) (string, error) {
	if depth > maxFilterDepth {
		return "", invalidFilterf("filter is nested too deeply")
	}
	if v := reflect.ValueOf(f); v.Kind() == reflect.Pointer && !v.IsNil() {
		f, _ = v.Elem().Interface().(scimbridge.Filter) // *CompareFilter and the like
	}
	switch f := f.(type) {
	case scimbridge.CompareFilter:
		return c.compare(f, scope)
	case scimbridge.AndFilter:
		return c.logical(f.Left, f.Right, " AND ", scope, depth)
	case scimbridge.OrFilter:
		return c.logical(f.Left, f.Right, " OR ", scope, depth)
	case scimbridge.NotFilter:
		return c.not(f.Filter, scope, depth)
	case scimbridge.ValuePathFilter:
		return c.valuePath(f, scope, depth)
	}
	return "", invalidFilterf("filter has an empty or unknown expression")
}

func (c *compiler) logical(left, right scimbridge.Filter, op, scope string, depth int) (string, error) {
	l, err := c.node(left, scope, depth+1)
	if err != nil {
		return "", err
	}
	r, err := c.node(right, scope, depth+1)
	if err != nil {
		return "", err
	}
	return "(" + l + op + r + ")", nil
}

func (c *compiler) not(f scimbridge.Filter, scope string, depth int) (string, error) {
	s, err := c.node(f, scope, depth+1)
	if err != nil {
		return "", err
	}
	return negate(s), nil
}

// negate returns NOT s, relying on node's parenthesising rule.
func negate(s string) string {
	if strings.HasPrefix(s, "(") {
		return "NOT " + s
	}
	return "NOT (" + s + ")"
}

// emailsExists wraps a condition over one email row e. The two planners
// want different shapes to use the (org_id, value_key) index on 100k
// profiles: PostgreSQL a correlated EXISTS, SQLite an IN over the
// organization's matching email rows (its correlated EXISTS scans).
func emailsExists(pg bool, cond string) string {
	if pg {
		return "EXISTS (SELECT 1 FROM profile_emails e WHERE e.profile_id = p.id AND e.org_id = p.org_id AND " + cond + ")"
	}
	return "p.id IN (SELECT e.profile_id FROM profile_emails e WHERE e.org_id = p.org_id AND " + cond + ")"
}

// membersExists wraps a condition over one membership row m, through the
// membership index by profile on both databases.
func membersExists(pg bool, cond string) string {
	if pg {
		return "EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.org_id = g.org_id AND " + cond + ")"
	}
	return "g.id IN (SELECT m.group_id FROM group_members m WHERE m.org_id = g.org_id AND " + cond + ")"
}

// valuePath compiles attr[filter]. Inside the brackets names resolve as
// sub-attributes of attr: emails[...] matches when one email row matches
// the whole bracketed filter; name[...] and manager[...] are plain
// conditions on the profile.
func (c *compiler) valuePath(f scimbridge.ValuePathFilter, scope string, depth int) (string, error) {
	if scope != "" {
		return "", invalidFilterf("value path %q cannot appear inside another value path", f.Attr)
	}
	if f.Attr == "" || f.Filter == nil {
		return "", invalidFilterf("value path %q has no attribute or no filter", f.Attr)
	}
	if !c.cat.hasSubAttributes(f.Attr) {
		if c.anyType && c.cat.other().hasSubAttributes(f.Attr) {
			// The other type's complex attribute: here it has no entries.
			if _, err := (&compiler{pg: c.pg, cat: c.cat.other()}).node(f.Filter, f.Attr, depth+1); err != nil {
				return "", err
			}
			return "1=0", nil
		}
		return "", invalidFilterf("attribute %q has no sub-attributes to filter on", f.Attr)
	}
	s, err := c.node(f.Filter, f.Attr, depth+1)
	if err != nil {
		return "", err
	}
	if a, ok := c.cat.lookup(f.Attr + ".value"); ok && a.child {
		return c.cat.childExists(c.pg, s), nil
	}
	return s, nil
}

// hasSubAttributes reports whether path names a complex attribute of the
// catalogue (emails, name, meta, manager; members).
func (cat *catalog) hasSubAttributes(path string) bool {
	for _, a := range cat.entries {
		if _, sub, ok := strings.Cut(a.name, "."); ok {
			if _, found := cat.lookup(path + "." + sub); found {
				return true
			}
		}
	}
	return false
}

// compare compiles one comparison.
func (c *compiler) compare(f scimbridge.CompareFilter, scope string) (string, error) {
	c.comparisons++
	if c.comparisons > maxFilterComparisons {
		return "", invalidFilterf("filter has more than %d comparisons", maxFilterComparisons)
	}
	path := f.Attr
	if scope != "" {
		path = scope + "." + f.Attr
	}
	op := scimbridge.FilterOp(strings.ToLower(string(f.Op)))
	a, ok := c.cat.lookup(path)
	if !ok && c.anyType {
		if b, found := c.cat.other().lookup(path); found {
			return c.unassigned(b, op, f.Value, path)
		}
	}
	if !ok {
		return "", invalidFilterf("unknown attribute %q", path)
	}
	if !a.child || scope != "" {
		return c.cond(a, op, f.Value, path)
	}
	// emails.x outside a value path: some email matches; ne: no email is
	// equal.
	not := ""
	if op == scimbridge.OpNe {
		not, op = "NOT ", scimbridge.OpEq
	}
	s, err := c.cond(a, op, f.Value, path)
	if err != nil {
		return "", err
	}
	return not + c.cat.childExists(c.pg, s), nil
}

// unassigned compiles a comparison on an attribute this resource type
// lacks (a of the other type, checked as the other type would): what an
// unassigned attribute matches.
func (c *compiler) unassigned(a attr, op scimbridge.FilterOp, v any, path string) (string, error) {
	probe := &compiler{pg: c.pg, cat: c.cat.other()}
	if _, err := probe.cond(a, op, v, path); err != nil {
		return "", err
	}
	null := v == nil || v == ""
	if op == scimbridge.OpNe && !null || op == scimbridge.OpEq && null {
		return "1=1", nil
	}
	return "1=0", nil
}

// cond compiles one comparison on a's column (a row of e for emails).
func (c *compiler) cond(a attr, op scimbridge.FilterOp, v any, path string) (string, error) {
	col := a.column
	switch op {
	case scimbridge.OpPr:
		return col + " IS NOT NULL", nil
	case scimbridge.OpEq, scimbridge.OpNe, scimbridge.OpGt, scimbridge.OpGe, scimbridge.OpLt, scimbridge.OpLe:
		if a.kind == kindBool && op != scimbridge.OpEq && op != scimbridge.OpNe {
			return "", invalidFilterf("operator %q does not apply to boolean attribute %q", op, path)
		}
	case scimbridge.OpCo, scimbridge.OpSw, scimbridge.OpEw:
		if a.kind != kindString {
			return "", invalidFilterf("operator %q does not apply to %s attribute %q", op, kindNames[a.kind], path)
		}
	default:
		return "", invalidFilterf("unknown operator %q on attribute %q", op, path)
	}

	if s, ok := v.(string); ok && a.uuid && (op == scimbridge.OpEq || op == scimbridge.OpNe) {
		// A malformed id matches nothing; a well-formed one is compared in
		// its canonical lower-case form.
		switch {
		case !validUUID(s) && op == scimbridge.OpEq:
			return "1=0", nil
		case !validUUID(s):
			return "1=1", nil
		}
		v = uuid.MustParse(s).String()
	}
	if v == nil || v == "" && a.kind == kindString {
		// null and "" both mean unassigned.
		switch {
		case op == scimbridge.OpEq:
			return col + " IS NULL", nil
		case op == scimbridge.OpNe:
			return col + " IS NOT NULL", nil
		case v != nil && (op == scimbridge.OpCo || op == scimbridge.OpSw || op == scimbridge.OpEw):
			return col + " IS NOT NULL", nil
		}
		return "", invalidFilterf("operator %q on attribute %q needs a value", op, path)
	}
	val, err := c.value(a, v, path)
	if err != nil {
		return "", err
	}

	cmp := col
	if c.pg && a.kind == kindString {
		cmp = col + ` COLLATE "C"`
	}
	if sym, ok := sqlOperators[op]; ok && op != scimbridge.OpNe {
		return c.bind("("+col+" IS NOT NULL AND "+cmp+" "+sym+" ?)", val), nil
	}
	switch op {
	case scimbridge.OpNe:
		return c.bind("("+col+" IS NULL OR "+cmp+" <> ?)", val), nil
	case scimbridge.OpSw:
		// A range over binary order, so an index on the column (the
		// (org_id, user_name_key) one for userName) serves it.
		s := val.(string)
		if end, ok := prefixEnd(s); ok {
			return c.bind("("+col+" IS NOT NULL AND "+cmp+" >= ? AND "+cmp+" < ?)", s, end), nil
		}
		return c.bind("("+col+" IS NOT NULL AND "+cmp+" >= ?)", s), nil
	case scimbridge.OpCo:
		// SQLite's LIKE ignores ASCII case, so SQLite uses instr; both
		// forms are case-sensitive and take %, _ and \ literally.
		if c.pg {
			return c.bind("("+col+" IS NOT NULL AND "+cmp+` LIKE ? ESCAPE '\')`, "%"+escapeLike(val.(string))+"%"), nil
		}
		return c.bind("("+col+" IS NOT NULL AND instr("+col+", ?) > 0)", val), nil
	default: // OpEw
		if c.pg {
			return c.bind("("+col+" IS NOT NULL AND "+cmp+` LIKE ? ESCAPE '\')`, "%"+escapeLike(val.(string))), nil
		}
		return c.bind("("+col+" IS NOT NULL AND substr("+col+", -length(?)) = ?)", val, val), nil
	}
}

// bind appends args and returns sql.
func (c *compiler) bind(sql string, args ...any) string {
	c.args = append(c.args, args...)
	return sql
}

// value converts a filter value to the bind parameter of a's column.
func (c *compiler) value(a attr, v any, path string) (any, error) {
	switch a.kind {
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, invalidFilterf("attribute %q takes true or false", path)
		}
		switch {
		case a.state && b:
			return string(scimbridge.StateActive), nil
		case a.state:
			return string(scimbridge.StateInactive), nil
		case c.pg:
			return b, nil
		}
		if b { // SQLite keeps booleans as INTEGER 0/1
			return int64(1), nil
		}
		return int64(0), nil
	case kindTime:
		s, ok := v.(string)
		if !ok {
			return nil, invalidFilterf("attribute %q takes an RFC 3339 date-time string", path)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, invalidFilterf("attribute %q takes an RFC 3339 date-time, such as 2024-01-02T15:04:05Z", path)
		}
		// Times are stored to the microsecond.
		t = t.UTC().Truncate(time.Microsecond)
		if c.pg {
			return t, nil
		}
		return t.UnixMicro(), nil
	default:
		s, ok := v.(string)
		if !ok {
			return nil, invalidFilterf("attribute %q takes a string value", path)
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return nil, invalidFilterf("the value for attribute %q is not valid text", path)
		}
		if a.key {
			s = textkey.Key(s)
		}
		return s, nil
	}
}

// escapeLike makes %, _ and \ literal in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// prefixEnd returns the least string greater than every string that starts
// with prefix, in binary (code point) order: prefix with its last code point
// incremented, dropping trailing U+10FFFF. ok is false when no such bound
// exists.
func prefixEnd(prefix string) (end string, ok bool) {
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i] + 1
		if r == 0xD800 { // surrogates are not text
			r = 0xE000
		}
		if r <= utf8.MaxRune {
			rs[i] = r
			return string(rs[:i+1]), true
		}
	}
	return "", false
}
