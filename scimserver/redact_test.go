package scimserver

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedactBody(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"Empty", ``, ``},
		{"NoPasswordKeptAsSent", `{"b":1, "a":"x"}`, `{"b":1, "a":"x"}`},
		{"TopLevel", `{"userName":"a","password":"s3cret"}`, `{"userName":"a","password":"[redacted]"}`},
		{"AnyCase", `{"PassWord":"s3cret"}`, `{"PassWord":"[redacted]"}`},
		{"URNPrefixed", `{"urn:ietf:params:scim:schemas:core:2.0:User:password":"s3cret"}`,
			`{"urn:ietf:params:scim:schemas:core:2.0:User:password":"[redacted]"}`},
		{"Nested", `{"a":[{"b":{"password":{"x":"s3cret"}}}]}`, `{"a":[{"b":{"password":"[redacted]"}}]}`},
		{"PatchValueObject", `{"Operations":[{"op":"replace","value":{"password":"s3cret","active":true}}]}`,
			`{"Operations":[{"op":"replace","value":{"password":"[redacted]","active":true}}]}`},
		{"PatchPath", `{"Operations":[{"op":"replace","path":"password","value":"s3cret"}]}`,
			`{"Operations":[{"op":"replace","path":"password","value":"[redacted]"}]}`},
		{"PatchPathAfterValue", `{"Operations":[{"Value":"s3cret","Path":"urn:ietf:params:scim:schemas:core:2.0:User:Password","op":"Replace"}]}`,
			`{"Operations":[{"Value":"[redacted]","Path":"urn:ietf:params:scim:schemas:core:2.0:User:Password","op":"Replace"}]}`},
		{"PatchOtherPathKept", `{"Operations":[{"op":"replace","path":"title","value":"password reset lead"}]}`,
			`{"Operations":[{"op":"replace","path":"title","value":"password reset lead"}]}`},
		{"NoHTMLEscaping", `{"password":"x","d":"<a&b>"}`, `{"password":"[redacted]","d":"<a&b>"}`},
		{"NumbersKept", `{"password":"x","n":12345678901234567890}`, `{"password":"[redacted]","n":12345678901234567890}`},
		{"UnparseableWithPassword", `{"password":"s3cret"`, redactedBody},
		{"UnparseableWithoutPassword", `not json`, `not json`},
		{"TrailingData", `{"a":1} {"password":"x"}`, redactedBody},
		{"TooDeepWithPassword", strings.Repeat("[", 40) + `{"password":"x"}` + strings.Repeat("]", 40), redactedBody},
		{"NulReplaced", "a\x00b", "a\uFFFDb"},
		{"EscapedName", `{"p\u0061ssword":"s3cret"}`, `{"password":"[redacted]"}`},
		{"EscapedPatchPath", `{"Operations":[{"path":"\u0070assword","value":"s3cret"}]}`,
			`{"Operations":[{"path":"password","value":"[redacted]"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, truncated := redactBody([]byte(tt.in))
			if got != tt.want || truncated {
				t.Errorf("redactBody(%s) = %s, %v; want %s, false", tt.in, got, truncated, tt.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Errorf("password survived: %s", got)
			}
		})
	}
	t.Run("Truncated", func(t *testing.T) {
		in := `{"displayName":"` + strings.Repeat("é", eventBodyCap) + `"}`
		got, truncated := redactBody([]byte(in))
		if !truncated || len(got) > eventBodyCap || !utf8.ValidString(got) {
			t.Fatalf("len %d truncated %v valid %v; want at most %d bytes, truncated, valid UTF-8",
				len(got), truncated, utf8.ValidString(got), eventBodyCap)
		}
	})
	t.Run("RedactedBeforeTruncation", func(t *testing.T) {
		in := `{"pad":"` + strings.Repeat("x", 2*eventBodyCap) + `","password":"s3cret"}`
		got, truncated := redactBody([]byte(in))
		if !truncated || strings.Contains(got, "s3cret") {
			t.Fatalf("truncated %v, password present %v", truncated, strings.Contains(got, "s3cret"))
		}
	})
}
