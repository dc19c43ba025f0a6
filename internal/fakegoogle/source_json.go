package fakegoogle

import (
	"bytes"
	"strconv"
)

// rawSource is a UserSource that writes its users' JSON itself, much
// faster than marshalling them, so the fake stays far below the listing it
// serves.
type rawSource interface {
	appendUser(buf *bytes.Buffer, i int, m mask)
}

// jsonObj writes one JSON object's fields under a mask (nil: all).
type jsonObj struct {
	b     *bytes.Buffer
	m     mask
	first bool
}

func openObj(b *bytes.Buffer, m mask) *jsonObj {
	b.WriteByte('{')
	return &jsonObj{b: b, m: m, first: true}
}

func (o *jsonObj) close() { o.b.WriteByte('}') }

// want reports whether the mask selects key, and its sub-mask.
func (o *jsonObj) want(key string) (mask, bool) {
	if o.m == nil {
		return nil, true
	}
	sub, ok := o.m[key]
	return sub, ok
}

func (o *jsonObj) key(k string) {
	if !o.first {
		o.b.WriteByte(',')
	}
	o.first = false
	o.b.WriteByte('"')
	o.b.WriteString(k)
	o.b.WriteString(`":`)
}

func (o *jsonObj) str(k, v string) {
	if _, ok := o.want(k); ok && v != "" {
		o.key(k)
		writeJSONString(o.b, v)
	}
}

func (o *jsonObj) boolean(k string, v bool) {
	if _, ok := o.want(k); ok && v {
		o.key(k)
		o.b.WriteString("true")
	}
}

func (o *jsonObj) num(k string, v int64) {
	if _, ok := o.want(k); ok && v != 0 {
		o.key(k)
		o.b.WriteString(strconv.FormatInt(v, 10))
	}
}

// obj writes a nested object with fill, under its sub-mask.
func (o *jsonObj) obj(k string, fill func(*jsonObj)) {
	if sub, ok := o.want(k); ok {
		o.key(k)
		in := openObj(o.b, sub)
		fill(in)
		in.close()
	}
}

// objs writes an array of n objects, the j-th filled by fill.
func (o *jsonObj) objs(k string, n int, fill func(*jsonObj, int)) {
	if sub, ok := o.want(k); ok && n > 0 {
		o.key(k)
		o.b.WriteByte('[')
		for j := 0; j < n; j++ {
			if j > 0 {
				o.b.WriteByte(',')
			}
			in := openObj(o.b, sub)
			fill(in, j)
			in.close()
		}
		o.b.WriteByte(']')
	}
}

func (o *jsonObj) strs(k string, vs []string) {
	if _, ok := o.want(k); ok && len(vs) > 0 {
		o.key(k)
		o.b.WriteByte('[')
		for j, v := range vs {
			if j > 0 {
				o.b.WriteByte(',')
			}
			writeJSONString(o.b, v)
		}
		o.b.WriteByte(']')
	}
}

// writeJSONString writes s as a JSON string as encoding/json would.
func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
