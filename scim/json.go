package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// jkind is the kind of a parsed JSON value.
type jkind uint8

const (
	jAbsent jkind = iota // the member was not sent
	jNull
	jBool
	jNumber
	jString
	jArray
	jObject
)

// jval is a parsed JSON value that keeps object members in the order sent,
// duplicates included, so that the decoder can treat names case-insensitively
// and refuse what is ambiguous.
type jval struct {
	kind jkind
	b    bool
	s    string // a string, or a number's text
	arr  []jval
	obj  []jmember
}

type jmember struct {
	key string
	val jval
}

// unassigned reports whether v is null, "" or absent: the same thing.
func (v jval) unassigned() bool {
	return v.kind == jAbsent || v.kind == jNull || v.kind == jString && v.s == ""
}

// empty reports whether v carries nothing at all: unassigned, [] or {}.
func (v jval) empty() bool {
	return v.unassigned() || v.kind == jArray && len(v.arr) == 0 || v.kind == jObject && len(v.obj) == 0
}

func (v jval) typeName() string {
	switch v.kind {
	case jNull:
		return "null"
	case jBool:
		return "a boolean"
	case jNumber:
		return "a number"
	case jString:
		return "a string"
	case jArray:
		return "an array"
	case jObject:
		return "an object"
	}
	return "absent"
}

// parseJSON parses one JSON document (a leading byte order mark is
// skipped). Bad JSON and nesting deeper than MaxJSONDepth are
// invalidSyntax; U+0000 in any string or name is invalidValue.
func parseJSON(data []byte) (jval, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if len(bytes.TrimSpace(data)) == 0 {
		return jval{}, invalid(scimInvalidSyntax, "request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return jval{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jval{}, invalid(scimInvalidSyntax, "request body has data after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (jval, error) {
	tok, err := dec.Token()
	if err != nil {
		return jval{}, syntaxError(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth+1 > MaxJSONDepth {
			return jval{}, invalid(scimInvalidSyntax, "request body is nested deeper than %d levels", MaxJSONDepth)
		}
		if t == '{' {
			v := jval{kind: jObject, obj: []jmember{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jval{}, syntaxError(err)
				}
				key, _ := kt.(string)
				if strings.ContainsRune(key, 0) {
					return jval{}, invalid(scimInvalidValue, "a member name contains U+0000")
				}
				mv, err := parseValue(dec, depth+1)
				if err != nil {
					return jval{}, err
				}
				v.obj = append(v.obj, jmember{key: key, val: mv})
			}
			if _, err := dec.Token(); err != nil {
				return jval{}, syntaxError(err)
			}
			return v, nil
		}
		v := jval{kind: jArray, arr: []jval{}}
		for dec.More() {
			ev, err := parseValue(dec, depth+1)
			if err != nil {
				return jval{}, err
			}
			v.arr = append(v.arr, ev)
		}
		if _, err := dec.Token(); err != nil {
			return jval{}, syntaxError(err)
		}
		return v, nil
	case string:
		if strings.ContainsRune(t, 0) {
			return jval{}, invalid(scimInvalidValue, "a string value contains U+0000")
		}
		return jval{kind: jString, s: t}, nil
	case json.Number:
		return jval{kind: jNumber, s: string(t)}, nil
	case bool:
		return jval{kind: jBool, b: t}, nil
	case nil:
		return jval{kind: jNull}, nil
	}
	return jval{}, invalid(scimInvalidSyntax, "request body is not valid JSON")
}

func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		e := invalid(scimInvalidSyntax, "request body is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
		e.Err = err
		return e
	}
	e := invalid(scimInvalidSyntax, "request body is not valid JSON")
	e.Err = err
	return e
}

// marshal writes v as compact JSON.
func (v jval) marshal(b *bytes.Buffer) {
	switch v.kind {
	case jAbsent, jNull:
		b.WriteString("null")
	case jBool:
		if v.b {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case jNumber:
		b.WriteString(v.s)
	case jString:
		writeString(b, v.s)
	case jArray:
		b.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			e.marshal(b)
		}
		b.WriteByte(']')
	case jObject:
		b.WriteByte('{')
		for i, m := range v.obj {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, m.key)
			b.WriteByte(':')
			m.val.marshal(b)
		}
		b.WriteByte('}')
	}
}

const hexDigits = "0123456789abcdef"

// writeString writes s as a JSON string. It does not escape <, > and &;
// invalid UTF-8 becomes U+FFFD.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// JSONTree is a parsed JSON document that keeps object members in the order
// sent, duplicates included, so that a rewritten document (the events log's
// redaction) reads like the one sent.
type JSONTree struct{ root jval }

// ParseJSONTree parses one JSON document as the SCIM decoder does: bad
// JSON, nesting deeper than MaxJSONDepth and U+0000 in a string are errors.
func ParseJSONTree(data []byte) (*JSONTree, error) {
	v, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	return &JSONTree{root: v}, nil
}

// JSONObject is one object of a JSONTree, seen through EachObject.
type JSONObject struct{ v *jval }

// Len is the number of members of o.
func (o JSONObject) Len() int { return len(o.v.obj) }

// Key is the name of member i.
func (o JSONObject) Key(i int) string { return o.v.obj[i].key }

// String returns the value of member i when it is a string.
func (o JSONObject) String(i int) (string, bool) {
	m := o.v.obj[i].val
	return m.s, m.kind == jString
}

// SetString replaces the value of member i with the string s.
func (o JSONObject) SetString(i int, s string) {
	o.v.obj[i].val = jval{kind: jString, s: s}
}

// EachObject calls fn on every object of t, each before the values of its
// members, so what fn replaces is not visited.
func (t *JSONTree) EachObject(fn func(JSONObject)) {
	var walk func(v *jval)
	walk = func(v *jval) {
		switch v.kind {
		case jObject:
			fn(JSONObject{v})
			for i := range v.obj {
				walk(&v.obj[i].val)
			}
		case jArray:
			for i := range v.arr {
				walk(&v.arr[i])
			}
		}
	}
	walk(&t.root)
}

// Marshal renders t as compact JSON.
func (t *JSONTree) Marshal() []byte {
	var b bytes.Buffer
	t.root.marshal(&b)
	return b.Bytes()
}
