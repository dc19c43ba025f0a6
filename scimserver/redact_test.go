package scimserver

import (
	"net/url"
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

func TestRedactPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/api/connect/v1/Users", "/api/connect/v1/Users"},
		{"/api/connect/v1/Users?count=2", "/api/connect/v1/Users?count=2"},
		{"/api/connect/v1/Users?access_token=scb_acme_s3cret&count=2", "/api/connect/v1/Users?access_token=[redacted]&count=2"},
		{"/api/connect/v1/Users?count=1&token=scb_acme_s3cret", "/api/connect/v1/Users?count=1&token=[redacted]"},
		{"/api/connect/v1/Users?Access_Token=s3cret&TOKEN=s3cret", "/api/connect/v1/Users?Access_Token=[redacted]&TOKEN=[redacted]"},
		{"/api/connect/v1/Users?access%5Ftoken=s3cret", "/api/connect/v1/Users?access%5Ftoken=[redacted]"},
		{"/api/connect/v1/Users?filter=" + url.QueryEscape(`password eq "s3cret"`),
			"/api/connect/v1/Users?filter=" + url.QueryEscape(`password eq "[redacted]"`)},
		{"/api/connect/v1/Users?filter=" + url.QueryEscape(`userName eq "password"`),
			"/api/connect/v1/Users?filter=" + url.QueryEscape(`userName eq "password"`)},
		{"/api/connect/v1/Users?filter=password%20eq%20%22s3cret%ZZ", "/api/connect/v1/Users?filter=[redacted]"},
	}
	for _, tt := range tests {
		if got := redactPath(tt.in); got != tt.want {
			t.Errorf("redactPath(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRedactFilter(t *testing.T) {
	tests := []struct{ in, want string }{
		{`userName eq "a"`, `userName eq "a"`},
		{`password eq "s3cret"`, `password eq "[redacted]"`},
		{`PASSWORD Eq "s3cret"`, `PASSWORD Eq "[redacted]"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:password co "s3cret"`, `urn:ietf:params:scim:schemas:core:2.0:User:password co "[redacted]"`},
		{`userName eq "a" and (password sw "s3cret" or password pr)`, `userName eq "a" and (password sw "[redacted]" or password pr)`},
		{`password eq "s3\"cret"`, `password eq "[redacted]"`},
		{`password eq s3cret`, `password eq "[redacted]"`},
		{`password eq "s3cret`, `password eq "[redacted]"`},
		{`password "s3cret"`, `password "[redacted]"`},
		{`emails[password eq "s3cret"]`, `emails[password eq "[redacted]"]`},
		{`userName eq "password"`, `userName eq "password"`},
		{`password eq`, `password eq`},
		{`password eq `, `password eq `},
		{`password`, `password`},
	}
	for _, tt := range tests {
		if got := redactFilter(tt.in); got != tt.want {
			t.Errorf("redactFilter(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	t.Run("Echoes", func(t *testing.T) {
		in := `filter "userName eq \"a\" and password eq \"s3cret\" and )" is not valid; filter "password eq \"s3c...`
		got := redactQuotedFilters(in)
		if strings.Contains(got, "s3c") {
			t.Fatalf("redactQuotedFilters kept the password: %s", got)
		}
	})
	t.Run("SearchBody", func(t *testing.T) {
		got, _ := redactBody([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"password eq \"s3cret\""}`))
		want := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"password eq \"[redacted]\""}`
		if got != want {
			t.Fatalf("redactBody = %s, want %s", got, want)
		}
	})
}
