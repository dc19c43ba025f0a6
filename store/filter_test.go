package store

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

const (
	testCore       = "urn:ietf:params:scim:schemas:core:2.0:User:"
	testEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
	testID         = "0b3e5b0e-6d7f-4c4e-9a57-2f3d1c9e8a11"
)

func cmpF(attr string, op scimbridge.FilterOp, v any) scimbridge.Filter {
	return scimbridge.CompareFilter{Attr: attr, Op: op, Value: v}
}

func andF(l, r scimbridge.Filter) scimbridge.Filter { return scimbridge.AndFilter{Left: l, Right: r} }
func orF(l, r scimbridge.Filter) scimbridge.Filter  { return scimbridge.OrFilter{Left: l, Right: r} }
func notF(f scimbridge.Filter) scimbridge.Filter    { return scimbridge.NotFilter{Filter: f} }
func vpF(attr string, f scimbridge.Filter) scimbridge.Filter {
	return scimbridge.ValuePathFilter{Attr: attr, Filter: f}
}

// compileCase is one filter and the SQL it compiles to. pg and pgArgs are
// nil when they equal the SQLite ones.
type compileCase struct {
	name   string
	filter scimbridge.Filter
	sqlite string
	args   []any
	pg     string
	pgArgs []any
}

// emailsExistsPrefix stands in the expected SQL for the dialect's
// email-row subquery (see compiler.emailsExists).
const emailsExistsPrefix = "EXISTS (SELECT 1 FROM profile_emails e WHERE e.profile_id = p.id AND "

func emailsPrefix(dialect string) string {
	if dialect == DialectPostgres {
		return "EXISTS (SELECT 1 FROM profile_emails e WHERE e.profile_id = p.id AND e.org_id = p.org_id AND "
	}
	return "p.id IN (SELECT e.profile_id FROM profile_emails e WHERE e.org_id = p.org_id AND "
}

func compileCases() []compileCase {
	created := time.Date(2024, 3, 1, 8, 0, 0, 123456000, time.UTC)
	return []compileCase{
		{name: "NilFilter", filter: nil},
		{name: "UserNameEqUsesKey", filter: cmpF("userName", scimbridge.OpEq, "Alice"),
			sqlite: "(p.user_name_key IS NOT NULL AND p.user_name_key = ?)", args: []any{"alice"},
			pg: `(p.user_name_key IS NOT NULL AND p.user_name_key COLLATE "C" = ?)`},
		{name: "UserNameUnicodeKey", filter: cmpF("userName", scimbridge.OpEq, "E\u0301VE"),
			sqlite: "(p.user_name_key IS NOT NULL AND p.user_name_key = ?)", args: []any{"\u00e9ve"},
			pg: `(p.user_name_key IS NOT NULL AND p.user_name_key COLLATE "C" = ?)`},
		{name: "Ne", filter: cmpF("title", scimbridge.OpNe, "Boss"),
			sqlite: "(p.title IS NULL OR p.title <> ?)", args: []any{"Boss"},
			pg: `(p.title IS NULL OR p.title COLLATE "C" <> ?)`},
		{name: "CoEscapes", filter: cmpF("title", scimbridge.OpCo, `50%_\`),
			sqlite: "(p.title IS NOT NULL AND instr(p.title, ?) > 0)", args: []any{`50%_\`},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" LIKE ? ESCAPE '\')`, pgArgs: []any{`%50\%\_\\%`}},
		{name: "CoOnKey", filter: cmpF("userName", scimbridge.OpCo, "A%"),
			sqlite: "(p.user_name_key IS NOT NULL AND instr(p.user_name_key, ?) > 0)", args: []any{"a%"},
			pg: `(p.user_name_key IS NOT NULL AND p.user_name_key COLLATE "C" LIKE ? ESCAPE '\')`, pgArgs: []any{`%a\%%`}},
		{name: "SwIsRange", filter: cmpF("userName", scimbridge.OpSw, "Ab_"),
			sqlite: "(p.user_name_key IS NOT NULL AND p.user_name_key >= ? AND p.user_name_key < ?)", args: []any{"ab_", "ab`"},
			pg: `(p.user_name_key IS NOT NULL AND p.user_name_key COLLATE "C" >= ? AND p.user_name_key COLLATE "C" < ?)`},
		{name: "SwMultiByte", filter: cmpF("title", scimbridge.OpSw, "caf\u00e9"),
			sqlite: "(p.title IS NOT NULL AND p.title >= ? AND p.title < ?)", args: []any{"caf\u00e9", "caf\u00ea"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" >= ? AND p.title COLLATE "C" < ?)`},
		{name: "SwMaxRune", filter: cmpF("title", scimbridge.OpSw, "a\U0010FFFF"),
			sqlite: "(p.title IS NOT NULL AND p.title >= ? AND p.title < ?)", args: []any{"a\U0010FFFF", "b"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" >= ? AND p.title COLLATE "C" < ?)`},
		{name: "SwNoUpperBound", filter: cmpF("title", scimbridge.OpSw, "\U0010FFFF"),
			sqlite: "(p.title IS NOT NULL AND p.title >= ?)", args: []any{"\U0010FFFF"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" >= ?)`},
		{name: "SwSkipsSurrogates", filter: cmpF("title", scimbridge.OpSw, "\uD7FF"),
			sqlite: "(p.title IS NOT NULL AND p.title >= ? AND p.title < ?)", args: []any{"\uD7FF", "\uE000"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" >= ? AND p.title COLLATE "C" < ?)`},
		{name: "EwEscapes", filter: cmpF("title", scimbridge.OpEw, "x_"),
			sqlite: "(p.title IS NOT NULL AND substr(p.title, -length(?)) = ?)", args: []any{"x_", "x_"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" LIKE ? ESCAPE '\')`, pgArgs: []any{`%x\_`}},
		{name: "Gt", filter: cmpF("title", scimbridge.OpGt, "m"),
			sqlite: "(p.title IS NOT NULL AND p.title > ?)", args: []any{"m"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" > ?)`},
		{name: "Ge", filter: cmpF("title", scimbridge.OpGe, "m"),
			sqlite: "(p.title IS NOT NULL AND p.title >= ?)", args: []any{"m"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" >= ?)`},
		{name: "Lt", filter: cmpF("title", scimbridge.OpLt, "m"),
			sqlite: "(p.title IS NOT NULL AND p.title < ?)", args: []any{"m"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" < ?)`},
		{name: "Le", filter: cmpF("title", scimbridge.OpLe, "m"),
			sqlite: "(p.title IS NOT NULL AND p.title <= ?)", args: []any{"m"},
			pg: `(p.title IS NOT NULL AND p.title COLLATE "C" <= ?)`},
		{name: "Pr", filter: cmpF("title", scimbridge.OpPr, nil), sqlite: "p.title IS NOT NULL"},
		{name: "EqEmptyIsUnassigned", filter: cmpF("title", scimbridge.OpEq, ""), sqlite: "p.title IS NULL"},
		{name: "EqNull", filter: cmpF("title", scimbridge.OpEq, nil), sqlite: "p.title IS NULL"},
		{name: "NeNull", filter: cmpF("title", scimbridge.OpNe, nil), sqlite: "p.title IS NOT NULL"},
		{name: "CoEmpty", filter: cmpF("title", scimbridge.OpCo, ""), sqlite: "p.title IS NOT NULL"},
		{name: "Not", filter: notF(cmpF("title", scimbridge.OpEq, "x")),
			sqlite: "NOT (p.title IS NOT NULL AND p.title = ?)", args: []any{"x"},
			pg: `NOT (p.title IS NOT NULL AND p.title COLLATE "C" = ?)`},
		{name: "NotPr", filter: notF(cmpF("title", scimbridge.OpPr, nil)), sqlite: "NOT (p.title IS NOT NULL)"},
		{name: "AndOr", filter: orF(andF(cmpF("title", scimbridge.OpPr, nil), cmpF("locale", scimbridge.OpPr, nil)),
			notF(cmpF("division", scimbridge.OpPr, nil))),
			sqlite: "((p.title IS NOT NULL AND p.locale IS NOT NULL) OR NOT (p.division IS NOT NULL))"},
		{name: "ActiveTrue", filter: cmpF("active", scimbridge.OpEq, true),
			sqlite: "(p.state IS NOT NULL AND p.state = ?)", args: []any{"active"}},
		{name: "ActiveNeFalse", filter: cmpF("active", scimbridge.OpNe, false),
			sqlite: "(p.state IS NULL OR p.state <> ?)", args: []any{"inactive"}},
		{name: "EmailsPrimary", filter: cmpF("emails.primary", scimbridge.OpEq, true),
			sqlite: emailsExistsPrefix + "(e.is_primary IS NOT NULL AND e.is_primary = ?))", args: []any{int64(1)},
			pgArgs: []any{true}},
		{name: "MetaCreated", filter: cmpF("meta.created", scimbridge.OpGt, "2024-03-01T10:00:00.123456789+02:00"),
			sqlite: "(p.created_at IS NOT NULL AND p.created_at > ?)", args: []any{created.UnixMicro()},
			pgArgs: []any{created}},
		{name: "MetaLastModifiedNe", filter: cmpF("meta.lastModified", scimbridge.OpNe, "2024-03-01T08:00:00.123456Z"),
			sqlite: "(p.updated_at IS NULL OR p.updated_at <> ?)", args: []any{created.UnixMicro()},
			pgArgs: []any{created}},
		{name: "EmailsAlias", filter: cmpF("emails", scimbridge.OpEq, "Bob@X.test"),
			sqlite: emailsExistsPrefix + "(e.value_key IS NOT NULL AND e.value_key = ?))", args: []any{"bob@x.test"},
			pg: emailsExistsPrefix + `(e.value_key IS NOT NULL AND e.value_key COLLATE "C" = ?))`},
		{name: "EmailsNeIsNotExists", filter: cmpF("emails.type", scimbridge.OpNe, "work"),
			sqlite: "NOT " + emailsExistsPrefix + "(e.type IS NOT NULL AND e.type = ?))", args: []any{"work"},
			pg: "NOT " + emailsExistsPrefix + `(e.type IS NOT NULL AND e.type COLLATE "C" = ?))`},
		{name: "EmailsPr", filter: cmpF("emails", scimbridge.OpPr, nil), sqlite: emailsExistsPrefix + "e.value_key IS NOT NULL)"},
		{name: "NotEmailsPr", filter: notF(cmpF("emails", scimbridge.OpPr, nil)),
			sqlite: "NOT (" + emailsExistsPrefix + "e.value_key IS NOT NULL))"},
		{name: "EmailsSwRange", filter: cmpF("emails.value", scimbridge.OpSw, "B"),
			sqlite: emailsExistsPrefix + "(e.value_key IS NOT NULL AND e.value_key >= ? AND e.value_key < ?))", args: []any{"b", "c"},
			pg: emailsExistsPrefix + `(e.value_key IS NOT NULL AND e.value_key COLLATE "C" >= ? AND e.value_key COLLATE "C" < ?))`},
		{name: "ValuePath", filter: vpF("emails", andF(cmpF("type", scimbridge.OpEq, "work"), cmpF("value", scimbridge.OpCo, "@X"))),
			sqlite: emailsExistsPrefix + "((e.type IS NOT NULL AND e.type = ?) AND (e.value_key IS NOT NULL AND instr(e.value_key, ?) > 0)))",
			args:   []any{"work", "@x"},
			pg:     emailsExistsPrefix + `((e.type IS NOT NULL AND e.type COLLATE "C" = ?) AND (e.value_key IS NOT NULL AND e.value_key COLLATE "C" LIKE ? ESCAPE '\')))`,
			pgArgs: []any{"work", "%@x%"}},
		{name: "ValuePathNotAndNe", filter: vpF("EMAILS", orF(notF(cmpF("Type", scimbridge.OpEq, "work")), cmpF("display", scimbridge.OpNe, "d"))),
			sqlite: emailsExistsPrefix + "(NOT (e.type IS NOT NULL AND e.type = ?) OR (e.display IS NULL OR e.display <> ?)))",
			args:   []any{"work", "d"},
			pg:     emailsExistsPrefix + `(NOT (e.type IS NOT NULL AND e.type COLLATE "C" = ?) OR (e.display IS NULL OR e.display COLLATE "C" <> ?)))`},
		{name: "ValuePathPrimary", filter: vpF(testCore+"emails", cmpF("primary", scimbridge.OpEq, false)),
			sqlite: emailsExistsPrefix + "(e.is_primary IS NOT NULL AND e.is_primary = ?))", args: []any{int64(0)},
			pgArgs: []any{false}},
		{name: "ValuePathOnName", filter: vpF("name", orF(cmpF("givenName", scimbridge.OpPr, nil), cmpF("familyName", scimbridge.OpPr, nil))),
			sqlite: "(p.given_name IS NOT NULL OR p.family_name IS NOT NULL)"},
		{name: "ValuePathOnManager", filter: vpF(testEnterprise+"manager", cmpF("value", scimbridge.OpPr, nil)),
			sqlite: "p.manager IS NOT NULL"},
		{name: "CoreURN", filter: cmpF(testCore+"userName", scimbridge.OpPr, nil), sqlite: "p.user_name_key IS NOT NULL"},
		{name: "CoreURNDotted", filter: cmpF(testCore+"name.givenName", scimbridge.OpPr, nil), sqlite: "p.given_name IS NOT NULL"},
		{name: "EnterpriseURNAnyCase", filter: cmpF(strings.ToUpper(testEnterprise)+"DEPARTMENT", scimbridge.OpPr, nil),
			sqlite: "p.department IS NOT NULL"},
		{name: "EnterpriseWithoutURN", filter: cmpF("costCenter", scimbridge.OpPr, nil), sqlite: "p.cost_center IS NOT NULL"},
		{name: "ManagerAlias", filter: cmpF("manager", scimbridge.OpEq, testID),
			sqlite: "(p.manager IS NOT NULL AND p.manager = ?)", args: []any{testID},
			pg: `(p.manager IS NOT NULL AND p.manager COLLATE "C" = ?)`},
		{name: "ManagerValue", filter: cmpF(testEnterprise+"manager.value", scimbridge.OpPr, nil), sqlite: "p.manager IS NOT NULL"},
		{name: "AttributeAndOpAnyCase", filter: cmpF("Name.GIVENNAME", "EQ", "Ann"),
			sqlite: "(p.given_name IS NOT NULL AND p.given_name = ?)", args: []any{"Ann"},
			pg: `(p.given_name IS NOT NULL AND p.given_name COLLATE "C" = ?)`},
		{name: "ExternalIDCaseExact", filter: cmpF("externalId", scimbridge.OpEq, "AbC"),
			sqlite: "(p.external_id IS NOT NULL AND p.external_id = ?)", args: []any{"AbC"},
			pg: `(p.external_id IS NOT NULL AND p.external_id COLLATE "C" = ?)`},
		{name: "IDCanonical", filter: cmpF("id", scimbridge.OpEq, strings.ToUpper(testID)),
			sqlite: "(p.id IS NOT NULL AND p.id = ?)", args: []any{testID},
			pg: `(p.id IS NOT NULL AND p.id COLLATE "C" = ?)`},
		{name: "IDMalformedEq", filter: cmpF("id", scimbridge.OpEq, "not-a-uuid"), sqlite: "1=0"},
		{name: "IDMalformedNe", filter: cmpF("id", scimbridge.OpNe, "bad"), sqlite: "1=1"},
		{name: "IDMalformedNot", filter: notF(cmpF("id", scimbridge.OpEq, "bad")), sqlite: "NOT (1=0)"},
		{name: "IDSw", filter: cmpF("id", scimbridge.OpSw, "0b3e"),
			sqlite: "(p.id IS NOT NULL AND p.id >= ? AND p.id < ?)", args: []any{"0b3e", "0b3f"},
			pg: `(p.id IS NOT NULL AND p.id COLLATE "C" >= ? AND p.id COLLATE "C" < ?)`},
		{name: "PointerNodes", filter: &scimbridge.NotFilter{Filter: &scimbridge.CompareFilter{Attr: "title", Op: scimbridge.OpPr}},
			sqlite: "NOT (p.title IS NOT NULL)"},
	}
}

func TestCompileFilter_SQL(t *testing.T) {
	for _, tc := range compileCases() {
		t.Run(tc.name, func(t *testing.T) {
			for _, dialect := range []string{DialectSQLite, DialectPostgres} {
				wantSQL, wantArgs := tc.sqlite, tc.args
				if dialect == DialectPostgres && tc.pg != "" {
					wantSQL = tc.pg
				}
				if dialect == DialectPostgres && tc.pgArgs != nil {
					wantArgs = tc.pgArgs
				}
				wantSQL = strings.ReplaceAll(wantSQL, emailsExistsPrefix, emailsPrefix(dialect))
				sql, args, err := compileFilter(dialect, tc.filter)
				if err != nil {
					t.Fatalf("%s: compileFilter: %v", dialect, err)
				}
				if sql != wantSQL {
					t.Errorf("%s: sql\n got %s\nwant %s", dialect, sql, wantSQL)
				}
				if len(args) != 0 || len(wantArgs) != 0 {
					if !reflect.DeepEqual(args, wantArgs) {
						t.Errorf("%s: args\n got %#v\nwant %#v", dialect, args, wantArgs)
					}
				}
				if n := strings.Count(sql, "?"); n != len(args) {
					t.Errorf("%s: %d placeholders, %d args", dialect, n, len(args))
				}
			}
		})
	}
}

func TestCompileFilter_Errors(t *testing.T) {
	deepNot := cmpF("title", scimbridge.OpPr, nil)
	for range maxFilterDepth + 1 {
		deepNot = notF(deepNot)
	}
	manyOr := cmpF("title", scimbridge.OpPr, nil)
	for range maxFilterComparisons {
		manyOr = orF(manyOr, cmpF("title", scimbridge.OpPr, nil))
	}
	tests := []struct {
		name   string
		filter scimbridge.Filter
		// mention is a text the message must contain (the attribute).
		mention string
	}{
		{"UnknownAttribute", cmpF("password", scimbridge.OpEq, "x"), "password"},
		{"UnknownSubAttribute", cmpF("emails.bogus", scimbridge.OpEq, "x"), "emails.bogus"},
		{"MetaVersionNotFilterable", cmpF("meta.version", scimbridge.OpEq, "x"), "meta.version"},
		{"EnterpriseAttrWithCoreURN", cmpF(testCore+"department", scimbridge.OpEq, "x"), "department"},
		{"CoreAttrWithEnterpriseURN", cmpF(testEnterprise+"userName", scimbridge.OpEq, "x"), "userName"},
		{"EmptyAttribute", cmpF("", scimbridge.OpEq, "x"), ""},
		{"UnknownOperator", cmpF("title", "xx", "x"), "title"},
		{"EmptyOperator", cmpF("title", "", "x"), "title"},
		{"BooleanGt", cmpF("active", scimbridge.OpGt, true), "active"},
		{"BooleanCo", cmpF("emails.primary", scimbridge.OpCo, "t"), "emails.primary"},
		{"BooleanFromString", cmpF("active", scimbridge.OpEq, "true"), "active"},
		{"BooleanFromNumber", cmpF("emails.primary", scimbridge.OpEq, 1.0), "emails.primary"},
		{"DateTimeCo", cmpF("meta.created", scimbridge.OpCo, "2024"), "meta.created"},
		{"DateTimeBad", cmpF("meta.created", scimbridge.OpEq, "yesterday"), "meta.created"},
		{"DateTimeNoZone", cmpF("meta.lastModified", scimbridge.OpGt, "2024-01-01T00:00:00"), "meta.lastModified"},
		{"DateTimeBool", cmpF("meta.created", scimbridge.OpGt, true), "meta.created"},
		{"StringFromNumber", cmpF("userName", scimbridge.OpEq, 42.0), "userName"},
		{"StringFromBool", cmpF("title", scimbridge.OpEq, false), "title"},
		{"GtNull", cmpF("title", scimbridge.OpGt, nil), "title"},
		{"CoNull", cmpF("title", scimbridge.OpCo, nil), "title"},
		{"NulInValue", cmpF("title", scimbridge.OpEq, "a\x00b"), "title"},
		{"InvalidUTF8", cmpF("userName", scimbridge.OpSw, "a\xff"), "userName"},
		{"NestedValuePath", vpF("emails", vpF("emails", cmpF("value", scimbridge.OpPr, nil))), "emails"},
		{"ValuePathOnSimpleAttribute", vpF("userName", cmpF("value", scimbridge.OpPr, nil)), "userName"},
		{"ValuePathUnknownSub", vpF("emails", cmpF("bogus", scimbridge.OpPr, nil)), "emails.bogus"},
		{"ValuePathFullNameInside", vpF("emails", cmpF("emails.value", scimbridge.OpPr, nil)), "emails.emails.value"},
		{"ValuePathNilFilter", vpF("emails", nil), "emails"},
		{"NilLeft", andF(nil, cmpF("title", scimbridge.OpPr, nil)), ""},
		{"NilNot", notF(nil), ""},
		{"NilPointer", (*scimbridge.CompareFilter)(nil), ""},
		{"TooDeep", deepNot, ""},
		{"TooManyComparisons", manyOr, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, dialect := range []string{DialectSQLite, DialectPostgres} {
				sql, args, err := compileFilter(dialect, tc.filter)
				if err == nil {
					t.Fatalf("%s: compiled to %q %v, want invalidFilter", dialect, sql, args)
				}
				if code, st := scimbridge.ErrorCode(err), scimbridge.ErrorScimType(err); code != scimbridge.EINVALID || st != "invalidFilter" {
					t.Errorf("%s: got code %q scimType %q, want invalid/invalidFilter (%v)", dialect, code, st, err)
				}
				if msg := scimbridge.ErrorMessage(err); !strings.Contains(msg, tc.mention) {
					t.Errorf("%s: message %q does not name %q", dialect, msg, tc.mention)
				}
			}
		})
	}
}

func TestCompileFilter_UnknownDialect(t *testing.T) {
	_, _, err := compileFilter("mysql", cmpF("title", scimbridge.OpPr, nil))
	if scimbridge.ErrorCode(err) != scimbridge.EINTERNAL {
		t.Errorf("got %v, want an internal error", err)
	}
}

// TestCompileFilter_EveryAttribute compiles every operator on every
// catalogue attribute: values only ever travel as parameters.
func TestCompileFilter_EveryAttribute(t *testing.T) {
	const marker = "v'); DROP TABLE profiles; --"
	ops := []scimbridge.FilterOp{scimbridge.OpEq, scimbridge.OpNe, scimbridge.OpCo, scimbridge.OpSw,
		scimbridge.OpEw, scimbridge.OpGt, scimbridge.OpGe, scimbridge.OpLt, scimbridge.OpLe, scimbridge.OpPr}
	for _, info := range FilterAttributes() {
		for _, name := range []string{info.Name, info.Schema + ":" + info.Name, strings.ToUpper(info.Name)} {
			for _, op := range ops {
				var v any
				switch info.Type {
				case "boolean":
					v = true
				case "dateTime":
					v = "2024-01-01T00:00:00Z"
				default:
					v = marker
				}
				for _, dialect := range []string{DialectSQLite, DialectPostgres} {
					sql, args, err := compileFilter(dialect, cmpF(name, op, v))
					allowed := info.Type == "string" || op == scimbridge.OpEq || op == scimbridge.OpNe || op == scimbridge.OpPr ||
						info.Type == "dateTime" && op != scimbridge.OpCo && op != scimbridge.OpSw && op != scimbridge.OpEw
					switch {
					case allowed && err != nil:
						t.Errorf("%s %s %s: %v", dialect, name, op, err)
					case !allowed && scimbridge.ErrorScimType(err) != "invalidFilter":
						t.Errorf("%s %s %s: got %q, %v; want invalidFilter", dialect, name, op, sql, err)
					case strings.Contains(sql, "DROP") || strings.Count(sql, "?") != len(args):
						t.Errorf("%s %s %s: sql %q with %d args", dialect, name, op, sql, len(args))
					}
				}
			}
		}
	}
}

func TestSortExpr(t *testing.T) {
	tests := []struct {
		attr, sqlite, pg string
	}{
		{"", "p.id", "p.id"},
		{"id", "p.id", "p.id"},
		{"userName", "p.user_name_key", `p.user_name_key COLLATE "C"`},
		{testCore + "USERNAME", "p.user_name_key", `p.user_name_key COLLATE "C"`},
		{"title", "p.title", `COALESCE(p.title, '') COLLATE "C"`},
		{"name.familyName", "p.family_name", `COALESCE(p.family_name, '') COLLATE "C"`},
		{"emails", "p.email_key", `COALESCE(p.email_key, '') COLLATE "C"`},
		{"meta.created", "p.created_at", "p.created_at"},
		{testCore + "meta.lastModified", "p.updated_at", "p.updated_at"},
		{"active", "CASE WHEN p.state = 'active' THEN 1 ELSE 0 END", "CASE WHEN p.state = 'active' THEN 1 ELSE 0 END"},
		{testEnterprise + "department", "p.department", `COALESCE(p.department, '') COLLATE "C"`},
	}
	for _, tc := range tests {
		t.Run(tc.attr, func(t *testing.T) {
			for dialect, want := range map[string]string{DialectSQLite: tc.sqlite, DialectPostgres: tc.pg} {
				got, err := sortExpr(dialect, tc.attr)
				if err != nil || got != want {
					t.Errorf("%s: got %q, %v; want %q", dialect, got, err, want)
				}
			}
		})
	}
	for _, attr := range []string{"nope", "emails.type", "emails.primary", testEnterprise + "userName", "name", "meta.version"} {
		t.Run("Invalid/"+attr, func(t *testing.T) {
			_, err := sortExpr(DialectSQLite, attr)
			if scimbridge.ErrorCode(err) != scimbridge.EINVALID || scimbridge.ErrorScimType(err) != "invalidValue" {
				t.Errorf("got %v, want invalid/invalidValue", err)
			}
		})
	}
}

func TestFilterAttributes(t *testing.T) {
	byName := map[string]AttributeInfo{}
	for _, a := range FilterAttributes() {
		byName[a.Name] = a
		if _, ok := lookupAttr(a.Schema + ":" + a.Name); !ok {
			t.Errorf("%s:%s does not resolve", a.Schema, a.Name)
		}
	}
	want := map[string]AttributeInfo{
		"id":             {Schema: coreUserSchema, Name: "id", Type: "string", CaseExact: true, Sortable: true},
		"userName":       {Schema: coreUserSchema, Name: "userName", Type: "string", CaseExact: false, Sortable: true},
		"title":          {Schema: coreUserSchema, Name: "title", Type: "string", CaseExact: true, Sortable: true},
		"displayName":    {Schema: coreUserSchema, Name: "displayName", Type: "string", CaseExact: false, Sortable: true},
		"active":         {Schema: coreUserSchema, Name: "active", Type: "boolean", Sortable: true},
		"emails.value":   {Schema: coreUserSchema, Name: "emails.value", Type: "string", CaseExact: false, Sortable: true},
		"emails.type":    {Schema: coreUserSchema, Name: "emails.type", Type: "string", CaseExact: true},
		"emails.primary": {Schema: coreUserSchema, Name: "emails.primary", Type: "boolean"},
		"meta.created":   {Schema: coreUserSchema, Name: "meta.created", Type: "dateTime", Sortable: true},
		"manager.value":  {Schema: enterpriseUserSchema, Name: "manager.value", Type: "string", CaseExact: true, Sortable: true},
		"employeeNumber": {Schema: enterpriseUserSchema, Name: "employeeNumber", Type: "string", CaseExact: true, Sortable: true},
	}
	for name, w := range want {
		if got := byName[name]; got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
	if len(byName) != 31 {
		t.Errorf("got %d attributes, want 31", len(byName))
	}
	// The returned slice is a copy.
	FilterAttributes()[0].Name = "changed"
	if FilterAttributes()[0].Name != "id" {
		t.Error("FilterAttributes exposes the catalogue")
	}
}

// fuzzTree builds a filter tree from fuzz bytes.
type fuzzTree struct{ b []byte }

func (r *fuzzTree) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

var (
	fuzzAttrs = []string{"userName", "USERNAME", "title", "id", "externalId", "active", "emails", "emails.value",
		"emails.type", "emails.primary", "emails.display", "meta.created", "meta.lastModified", "name.givenName",
		"name", "manager", "manager.value", "value", "type", "primary", "display", "givenName", "bogus", "",
		testCore + "userName", testEnterprise + "department", testCore + "department", "meta", "created",
		"members", "members.value", "displayName", "meta.resourceType", coreGroupSchema + ":displayName"}
	fuzzOps = []scimbridge.FilterOp{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "EQ", "xx", ""}
)

func (r *fuzzTree) value() any {
	switch r.next() % 9 {
	case 0:
		return nil
	case 1:
		return r.next()%2 == 0
	case 2:
		return float64(r.next())
	case 3:
		return "2024-03-01T10:00:00.5+02:00"
	case 4:
		return testID
	default:
		n := int(r.next() % 8)
		if n > len(r.b) {
			n = len(r.b)
		}
		s := string(r.b[:n])
		r.b = r.b[n:]
		return s
	}
}

func (r *fuzzTree) tree(depth int) scimbridge.Filter {
	k := r.next() % 8
	if depth > 10 || len(r.b) == 0 {
		k = 0
	}
	switch k {
	case 3:
		return scimbridge.AndFilter{Left: r.tree(depth + 1), Right: r.tree(depth + 1)}
	case 4:
		return scimbridge.OrFilter{Left: r.tree(depth + 1), Right: r.tree(depth + 1)}
	case 5:
		return scimbridge.NotFilter{Filter: r.tree(depth + 1)}
	case 6:
		return scimbridge.ValuePathFilter{Attr: fuzzAttrs[int(r.next())%len(fuzzAttrs)], Filter: r.tree(depth + 1)}
	case 7:
		if r.next()%4 == 0 {
			return nil
		}
	}
	attr := fuzzAttrs[int(r.next())%len(fuzzAttrs)]
	op := fuzzOps[int(r.next())%len(fuzzOps)]
	return scimbridge.CompareFilter{Attr: attr, Op: op, Value: r.value()}
}

// FuzzCompileFilter compiles random trees: never a panic, only
// invalidFilter errors, and as many placeholders as arguments.
func FuzzCompileFilter(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5})
	f.Add([]byte{3, 0, 1, 5, 2, 6, 6, 3, 0, 3, 1, 7, 4, 'a', '%', '_', '\\'})
	f.Add([]byte{5, 6, 6, 4, 0, 8, 0, 7, 'x', 'y'})
	f.Add([]byte{4, 0, 11, 3, 3, 0, 14, 5, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		filter := (&fuzzTree{b: data}).tree(0)
		var failed [2]bool
		for i, dialect := range []string{DialectSQLite, DialectPostgres} {
			sql, args, err := compileFilter(dialect, filter)
			if err != nil {
				failed[i] = true
				if scimbridge.ErrorCode(err) != scimbridge.EINVALID || scimbridge.ErrorScimType(err) != "invalidFilter" {
					t.Fatalf("%s: %#v: unexpected error %v", dialect, filter, err)
				}
				continue
			}
			if strings.Count(sql, "?") != len(args) || strings.Count(sql, "(") != strings.Count(sql, ")") {
				t.Fatalf("%s: %#v: malformed %q with %d args", dialect, filter, sql, len(args))
			}
		}
		if failed[0] != failed[1] {
			t.Fatalf("%#v: dialects disagree on validity", filter)
		}
	})
}
