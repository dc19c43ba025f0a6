package scimserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/scimbridge/scimbridge/scim"
	"io"
	"strings"
	"unicode/utf8"
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
// password (any case, with or without a URN prefix, at any depth) and the
// value of every PATCH operation whose path is password replaced by
// "[redacted]", cut at eventBodyCap bytes (truncated is then true), valid
// UTF-8 without NUL characters. A body that is not JSON is kept as sent
// unless it mentions "password", in which case only a marker is kept.
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
	if jsonDepth(body) > scim.MaxJSONDepth {
		if mentionsPassword(body) {
			out = []byte(redactedBody)
		}
	} else if node, err := parseJSON(body); err != nil {
		if mentionsPassword(body) {
			out = []byte(redactedBody)
		}
	} else if node.redact() {
		var buf bytes.Buffer
		node.write(&buf)
		out = buf.Bytes()
	}
	return capText(string(out), eventBodyCap)
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

// jsonNode is a parsed JSON value that keeps member order, so a redacted
// body reads like the one sent.
type jsonNode struct {
	object bool
	array  bool
	keys   []string    // object member names
	items  []*jsonNode // object member values or array items
	scalar any         // string, json.Number, bool or nil
}

// parseJSON parses exactly one JSON value.
func parseJSON(b []byte) (*jsonNode, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse json: trailing data")
	}
	return n, nil
}

func parseNode(dec *json.Decoder) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		n := &jsonNode{object: true}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.(string))
			n.items = append(n.items, v)
		}
		_, err := dec.Token()
		return n, err
	case json.Delim('['):
		n := &jsonNode{array: true}
		for dec.More() {
			v, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
		}
		_, err := dec.Token()
		return n, err
	}
	return &jsonNode{scalar: tok}, nil
}

// redact replaces passwords in n and reports whether it replaced any.
func (n *jsonNode) redact() bool {
	changed := false
	if n.object {
		redactValue := false
		for i, k := range n.keys {
			if strings.EqualFold(k, "path") && n.items[i].scalar != nil {
				if p, ok := n.items[i].scalar.(string); ok && isPasswordName(p) {
					redactValue = true
				}
			}
		}
		for i, k := range n.keys {
			if isPasswordName(k) || (redactValue && strings.EqualFold(k, "value")) {
				n.items[i] = &jsonNode{scalar: redactedValue}
				changed = true
				continue
			}
			changed = n.items[i].redact() || changed
		}
		return changed
	}
	for _, it := range n.items {
		changed = it.redact() || changed
	}
	return changed
}

// write renders n as compact JSON.
func (n *jsonNode) write(buf *bytes.Buffer) {
	enc := func(v any) {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		e.Encode(v)
		buf.Write(bytes.TrimRight(b.Bytes(), "\n"))
	}
	switch {
	case n.object:
		buf.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			enc(k)
			buf.WriteByte(':')
			n.items[i].write(buf)
		}
		buf.WriteByte('}')
	case n.array:
		buf.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				buf.WriteByte(',')
			}
			it.write(buf)
		}
		buf.WriteByte(']')
	default:
		enc(n.scalar)
	}
}
