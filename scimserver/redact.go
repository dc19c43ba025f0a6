package scimserver

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/scim"
)

const (
	// eventBodyCap is the most of each body an event keeps.
	eventBodyCap = 64 << 10
	// redactedValue replaces a password.
	redactedValue = "[redacted]"
	// redactedBody replaces a body that cannot be parsed but mentions a
	// password.
	redactedBody = "[redacted: unparseable body mentions password]"
)

// redactBody returns body as an event stores it: every JSON member named
// password (any case, with or without a URN prefix, at any depth), the
// value of every PATCH operation whose path is password and the value of
// every comparison on password in a "filter" member (a .search body, or an
// error detail that quotes the filter) replaced by "[redacted]", cut at
// eventBodyCap bytes (truncated is then true), valid UTF-8 without NUL
// characters. A body that is not JSON is kept as sent unless it mentions
// "password", in which case only a marker is kept.
func redactBody(body []byte) (text string, truncated bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", false
	}
	out := body
	if !mentionsPassword(body) && !bytes.Contains(body, []byte(`\u`)) {
		// Nothing to redact: no member or path can be named password
		// (only a \u escape could spell it without the letters).
		return capText(string(out), eventBodyCap)
	}
	if tree, err := scim.ParseJSONTree(body); err != nil {
		if mentionsPassword(body) {
			out = []byte(redactedBody)
		}
	} else if redactTree(tree) {
		out = tree.Marshal()
	}
	return capText(string(out), eventBodyCap)
}

// redactTree replaces passwords in t and reports whether it replaced any.
func redactTree(t *scim.JSONTree) bool {
	changed := false
	t.EachObject(func(o scim.JSONObject) {
		redactValue := false
		for i := range o.Len() {
			if strings.EqualFold(o.Key(i), "path") {
				if p, ok := o.String(i); ok && isPasswordName(p) {
					redactValue = true
				}
			}
		}
		for i := range o.Len() {
			k := o.Key(i)
			if isPasswordName(k) || (redactValue && strings.EqualFold(k, "value")) {
				o.SetString(i, redactedValue)
				changed = true
				continue
			}
			s, ok := o.String(i)
			if !ok {
				continue
			}
			var r string
			switch {
			case strings.EqualFold(k, "filter"):
				r = redactFilter(s)
			case strings.EqualFold(k, "detail"):
				r = redactQuotedFilters(s)
			default:
				continue
			}
			if r != s {
				o.SetString(i, r)
				changed = true
			}
		}
	})
	return changed
}

// mentionsPassword reports whether b contains "password" in any ASCII
// case.
func mentionsPassword(b []byte) bool {
	const word = "password"
	for i := 0; i+len(word) <= len(b); i++ {
		if b[i]|0x20 != 'p' {
			continue
		}
		j := 1
		for j < len(word) && b[i+j]|0x20 == word[j] {
			j++
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

// capText makes s valid UTF-8 without NUL characters (what both databases
// store as text) and cuts it to at most n bytes on a rune boundary.
func capText(s string, n int) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= n {
		return s, false
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

// isPasswordName reports whether a JSON member name or PATCH path names
// the password attribute: "password", any case, optionally URN-prefixed
// ("urn:ietf:params:scim:schemas:core:2.0:User:password").
func isPasswordName(name string) bool {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	return strings.EqualFold(name, "password")
}

// redactPath returns a request URI as an event stores it: the values of
// the query parameters access_token and token replaced by "[redacted]",
// and in a filter parameter the value of every comparison on password.
// Other parameters are kept as sent.
func redactPath(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		rawKey, rawVal, _ := strings.Cut(p, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			key = rawKey
		}
		switch {
		case strings.EqualFold(key, "access_token") || strings.EqualFold(key, "token"):
			parts[i] = rawKey + "=" + redactedValue
		case strings.EqualFold(key, "filter") && mentionsPassword([]byte(p)):
			val, err := url.QueryUnescape(rawVal)
			if err != nil {
				// Not decodable: the filter is refused; keep none of it.
				parts[i] = rawKey + "=" + redactedValue
			} else if r := redactFilter(val); r != val {
				parts[i] = rawKey + "=" + url.QueryEscape(r)
			}
		}
	}
	return path + "?" + strings.Join(parts, "&")
}

// redactFilter replaces the value of every comparison on password in a
// SCIM filter ("password eq \"x\"", "urn:...:User:password co \"x\"",
// "emails[password eq \"x\"]") with "[redacted]". It works on tokens, not
// on a parsed filter, so a malformed filter is redacted too: the token
// after a password attribute and its operator is the value, or, when no
// operator follows, the token right after the attribute; an unterminated
// string runs to the end.
func redactFilter(f string) string {
	if !mentionsPassword([]byte(f)) {
		return f
	}
	var b strings.Builder
	toks := filterTokens(f)
	for i := 0; i < len(toks); i++ {
		b.WriteString(toks[i].space)
		b.WriteString(toks[i].text)
		if !toks[i].word || !isPasswordName(toks[i].text) {
			continue
		}
		j := i + 1
		if j < len(toks) && toks[j].word && isFilterOperator(toks[j].text) {
			b.WriteString(toks[j].space)
			b.WriteString(toks[j].text)
			if strings.EqualFold(toks[j].text, "pr") {
				i = j
				continue
			}
			j++
		}
		if j < len(toks) && (toks[j].word || strings.HasPrefix(toks[j].text, `"`)) && !isPasswordName(toks[j].text) {
			b.WriteString(toks[j].space)
			b.WriteString(`"` + redactedValue + `"`)
		} else {
			j-- // nothing to redact
		}
		i = j
	}
	return b.String()
}

// filterToken is one token of a filter with the space before it.
type filterToken struct {
	space, text string
	word        bool // an attribute, operator or bare value (not a string or bracket)
}

// filterTokens splits a filter into words, strings (with their quotes;
// an unterminated one runs to the end) and the characters ( ) [ ].
func filterTokens(f string) []filterToken {
	var toks []filterToken
	i := 0
	for i < len(f) {
		start := i
		for i < len(f) && isFilterSpace(f[i]) {
			i++
		}
		space := f[start:i]
		if i == len(f) {
			toks = append(toks, filterToken{space: space})
			break
		}
		start = i
		switch c := f[i]; {
		case c == '"':
			i++
			for i < len(f) && f[i] != '"' {
				if f[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i+1, len(f))
			toks = append(toks, filterToken{space: space, text: f[start:i]})
		case strings.IndexByte("()[]", c) >= 0:
			i++
			toks = append(toks, filterToken{space: space, text: f[start:i]})
		default:
			for i < len(f) && !isFilterSpace(f[i]) && strings.IndexByte(`()[]"`, f[i]) < 0 {
				i++
			}
			toks = append(toks, filterToken{space: space, text: f[start:i], word: true})
		}
	}
	return toks
}

func isFilterSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isFilterOperator reports whether w is a comparison operator of RFC 7644.
func isFilterOperator(w string) bool {
	switch strings.ToLower(w) {
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr":
		return true
	}
	return false
}

// redactQuotedFilters applies redactFilter to every Go-quoted string in s:
// an error detail that shows the filter it refused ("filter \"...\" is not
// valid") must not show a password the filter compared.
func redactQuotedFilters(s string) string {
	if !mentionsPassword([]byte(s)) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '"' {
			b.WriteByte(s[i])
			i++
			continue
		}
		q, err := strconv.QuotedPrefix(s[i:])
		if err != nil {
			// An unterminated quote (a cut text): redact what follows.
			rest := strings.ReplaceAll(s[i+1:], `\"`, `"`)
			b.WriteByte('"')
			b.WriteString(redactFilter(rest))
			break
		}
		i += len(q)
		u, _ := strconv.Unquote(q)
		if r := redactFilter(u); r != u {
			q = strconv.Quote(r)
		}
		b.WriteString(q)
	}
	return b.String()
}
