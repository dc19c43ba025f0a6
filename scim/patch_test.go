package scim

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestApplyPatch_Password(t *testing.T) {
	for name, op := range map[string]string{
		"Path":       `{"op":"replace","path":"password","value":"s3cret"}`,
		"NoPath":     `{"op":"replace","value":{"password":"s3cret"}}`,
		"URN":        `{"op":"replace","value":{"` + urnCore + `:password":"s3cret"}}`,
		"AnyCase":    `{"op":"add","path":"PassWord","value":"s3cret"}`,
		"WithOthers": `{"op":"replace","value":{"password":"s3cret","active":true}}`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := patch(base(), op)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Password {
				t.Fatal("Password = false")
			}
			if !reflect.DeepEqual(got.Desired, base()) {
				t.Fatalf("desired changed: %+v", got.Desired)
			}
			if strings.Contains(fmt.Sprintf("%+v", got), "s3cret") {
				t.Fatal("password kept in the result")
			}
		})
	}
	t.Run("NotAString", func(t *testing.T) {
		_, err := patch(base(), `{"op":"replace","path":"password","value":123}`)
		checkInvalid(t, err, scimInvalidValue)
	})
	t.Run("Remove", func(t *testing.T) {
		got, err := patch(base(), `{"op":"remove","path":"password"}`)
		if err != nil || got.Password {
			t.Fatalf("got %v, %v", got.Password, err)
		}
	})
}

func TestApplyPatch_CurrentUnchanged(t *testing.T) {
	cur := base()
	_, err := patch(cur,
		`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`,
		`{"op":"remove","path":"emails[type eq \"work\"]"}`)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cur, base()) {
		t.Fatalf("current modified: %+v", dump(cur))
	}
}

func TestApplyPatch_Sequence(t *testing.T) {
	t.Run("InOrder", func(t *testing.T) {
		got, err := patch(base(),
			`{"op":"replace","path":"title","value":"A"}`,
			`{"op":"replace","path":"title","value":"B"}`,
			`{"op":"add","path":"emails[type eq \"other\"].value","value":"o@x"}`,
			`{"op":"replace","path":"emails[type eq \"other\"].value","value":"p@x"}`)
		if err != nil {
			t.Fatal(err)
		}
		want := base()
		want.Title = "B"
		want.Emails = append(want.Emails, E{Value: "p@x", Type: "other"})
		if !reflect.DeepEqual(got.Desired, want) {
			t.Fatalf("got %+v", dump(got.Desired))
		}
	})
	t.Run("ErrorNamesOperation", func(t *testing.T) {
		_, err := patch(base(),
			`{"op":"replace","path":"title","value":"A"}`,
			`{"op":"replace","path":"nope","value":"B"}`)
		checkInvalid(t, err, scimInvalidPath)
		if !strings.Contains(err.Error(), "operation 2") {
			t.Fatalf("error %q does not name operation 2", err)
		}
	})
	t.Run("ActiveFromStoredState", func(t *testing.T) {
		cur := base()
		cur.Active = false
		got, err := patch(cur, `{"op":"replace","path":"title","value":"A"}`)
		if err != nil || got.Desired.Active {
			t.Fatalf("active = %v, err %v; want the stored false", got.Desired.Active, err)
		}
	})
}

func TestApplyPatch_Errors(t *testing.T) {
	for name, tc := range map[string]struct {
		op       PatchOp
		scimType string
	}{
		"BadOp":          {PatchOp{Op: "merge", Path: "title", Value: []byte(`"x"`)}, scimInvalidSyntax},
		"NoOpName":       {PatchOp{Path: "title", Value: []byte(`"x"`)}, scimInvalidSyntax},
		"ValueNotJSON":   {PatchOp{Op: "add", Path: "title", Value: []byte(`x`)}, scimInvalidSyntax},
		"NoValue":        {PatchOp{Op: "replace", Path: "title"}, scimInvalidValue},
		"NUL":            {PatchOp{Op: "replace", Path: "title", Value: []byte(`"a\u0000b"`)}, scimInvalidValue},
		"RemoveNoPath":   {PatchOp{Op: "remove"}, scimNoTarget},
		"RemoveResource": {PatchOp{Op: "remove", Path: urnCore}, scimNoTarget},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ApplyPatch(base(), []PatchOp{tc.op})
			checkInvalid(t, err, tc.scimType)
		})
	}
}

func TestDecodePatch(t *testing.T) {
	t.Run("Normalises", func(t *testing.T) {
		ops, err := DecodePatch([]byte(`{"SCHEMAS":["urn:ietf:params:scim:api:messages:2.0:patchop"],"operations":[
			{"OP":"Replace","Path":"title","VALUE":{"a": [1, true, null]}},
			{"op":"remove","path":null}]}`))
		if err != nil {
			t.Fatal(err)
		}
		want := []PatchOp{{Op: "replace", Path: "title", Value: []byte(`{"a":[1,true,null]}`)}, {Op: "remove"}}
		if !reflect.DeepEqual(ops, want) {
			t.Fatalf("ops = %+v", ops)
		}
	})
	t.Run("SchemasOptional", func(t *testing.T) {
		if _, err := DecodePatch([]byte(`{"Operations":[{"op":"remove","path":"title"}]}`)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ValueNullKept", func(t *testing.T) {
		ops, err := DecodePatch(patchBody(`{"op":"replace","path":"title","value":null}`))
		if err != nil || string(ops[0].Value) != "null" {
			t.Fatalf("ops %+v, err %v", ops, err)
		}
	})
	t.Run("ThousandOperations", func(t *testing.T) {
		op := `{"op":"replace","path":"title","value":"x"}`
		ops, err := DecodePatch(patchBody(strings.Repeat(op+",", 999) + op))
		if err != nil || len(ops) != 1000 {
			t.Fatalf("%d ops, err %v", len(ops), err)
		}
		_, err = DecodePatch(patchBody(strings.Repeat(op+",", 1000) + op))
		checkInvalid(t, err, scimInvalidValue)
	})
	for name, tc := range map[string]struct{ body, scimType string }{
		"Empty":            {``, scimInvalidSyntax},
		"NotJSON":          {`{"Operations":`, scimInvalidSyntax},
		"Trailing":         {`{"Operations":[{"op":"remove","path":"title"}]} {}`, scimInvalidSyntax},
		"NotObject":        {`[{"op":"remove","path":"title"}]`, scimInvalidSyntax},
		"WrongSchema":      {`{"schemas":["` + SchemaUser + `"],"Operations":[{"op":"remove","path":"title"}]}`, scimInvalidSyntax},
		"SchemasString":    {`{"schemas":"` + SchemaPatchOp + `","Operations":[{"op":"remove","path":"title"}]}`, scimInvalidSyntax},
		"NoOperations":     {`{"schemas":["` + SchemaPatchOp + `"]}`, scimInvalidSyntax},
		"OperationsObject": {`{"Operations":{"op":"remove","path":"title"}}`, scimInvalidSyntax},
		"OperationsEmpty":  {`{"Operations":[]}`, scimInvalidSyntax},
		"OperationsTwice":  {`{"Operations":[{"op":"remove","path":"title"}],"operations":[]}`, scimInvalidSyntax},
		"OpNotObject":      {`{"Operations":["remove"]}`, scimInvalidSyntax},
		"OpMissing":        {`{"Operations":[{"path":"title"}]}`, scimInvalidSyntax},
		"OpUnknown":        {`{"Operations":[{"op":"delete","path":"title"}]}`, scimInvalidSyntax},
		"OpNotString":      {`{"Operations":[{"op":1,"path":"title"}]}`, scimInvalidSyntax},
		"OpTwice":          {`{"Operations":[{"op":"add","OP":"remove","path":"title"}]}`, scimInvalidSyntax},
		"UnknownMember":    {`{"Operations":[{"op":"replace","path":"title","vaule":"x"}]}`, scimInvalidSyntax},
		"PathNotString":    {`{"Operations":[{"op":"remove","path":["title"]}]}`, scimInvalidPath},
		"NUL":              {`{"Operations":[{"op":"replace","path":"title","value":"\u0000"}]}`, scimInvalidValue},
		"NULInName":        {`{"Operations":[{"op":"replace","path":"title","value":{"a\u0000":1}}]}`, scimInvalidValue},
		"TooDeep":          {`{"Operations":[{"op":"add","value":` + strings.Repeat(`[`, 31) + strings.Repeat(`]`, 31) + `}]}`, scimInvalidSyntax},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodePatch([]byte(tc.body))
			checkInvalid(t, err, tc.scimType)
		})
	}
	t.Run("DepthLimit", func(t *testing.T) {
		// The body object is level 1, Operations 2, the operation 3: a value
		// of 29 nested arrays reaches exactly 32.
		ok := `{"Operations":[{"op":"add","path":"title","value":` + strings.Repeat(`[`, 29) + strings.Repeat(`]`, 29) + `}]}`
		if _, err := DecodePatch([]byte(ok)); err != nil {
			t.Fatalf("32 levels: %v", err)
		}
		deep := `{"Operations":[{"op":"add","path":"title","value":` + strings.Repeat(`[`, 30) + strings.Repeat(`]`, 30) + `}]}`
		_, err := DecodePatch([]byte(deep))
		checkInvalid(t, err, scimInvalidSyntax)
	})
}
