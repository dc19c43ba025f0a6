package fakegoogle

import (
	"errors"
	"sort"
	"strings"
)

// mask is a parsed partial-response "fields" selection: each selected field
// maps to the mask of its sub-fields, nil meaning the whole field. A nil mask
// selects everything.
type mask map[string]mask

// parseMask parses Google's fields syntax: "a,b/c,d(e,f(g))".
func parseMask(s string) (mask, error) {
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return nil, nil
	}
	p := &maskParser{s: s}
	m, err := p.list()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, errors.New("unexpected " + string(p.s[p.i]))
	}
	return m, nil
}

type maskParser struct {
	s string
	i int
}

// list parses field (',' field)*.
func (p *maskParser) list() (mask, error) {
	m := mask{}
	for {
		name, sub, err := p.field()
		if err != nil {
			return nil, err
		}
		m.merge(name, sub)
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return m, nil
	}
}

// field parses name ('/' field | '(' list ')')?.
func (p *maskParser) field() (string, mask, error) {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(",/()", rune(p.s[p.i])) {
		p.i++
	}
	name := p.s[start:p.i]
	if name == "" {
		return "", nil, errors.New("empty field name")
	}
	if p.i == len(p.s) {
		return name, nil, nil
	}
	switch p.s[p.i] {
	case '/':
		p.i++
		sub, subMask, err := p.field()
		if err != nil {
			return "", nil, err
		}
		m := mask{}
		m.merge(sub, subMask)
		return name, m, nil
	case '(':
		p.i++
		m, err := p.list()
		if err != nil {
			return "", nil, err
		}
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return "", nil, errors.New("missing )")
		}
		p.i++
		return name, m, nil
	}
	return name, nil, nil
}

// merge adds name with sub-mask sub; selecting a whole field wins.
func (m mask) merge(name string, sub mask) {
	old, ok := m[name]
	switch {
	case !ok:
		m[name] = sub
	case old == nil || sub == nil:
		m[name] = nil
	default:
		for k, v := range sub {
			old.merge(k, v)
		}
	}
}

// apply keeps only the selected parts of a decoded JSON value.
func (m mask) apply(v any) any {
	if m == nil {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(m))
		for k, sub := range m {
			if fv, ok := t[k]; ok {
				out[k] = sub.apply(fv)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = m.apply(e)
		}
		return out
	}
	return v
}

// String is a canonical form, for cache keys.
func (m mask) String() string {
	if m == nil {
		return "*"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		if m[k] != nil {
			b.WriteString("(" + m[k].String() + ")")
		}
	}
	return b.String()
}
