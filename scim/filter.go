package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge"
)

// ParseFilter parses a SCIM filter (RFC 7644 §3.4.2.2) into a
// scimbridge.Filter tree, with github.com/scim2/filter-parser/v2 doing the
// grammar. Attribute names are passed through as written; the store's
// catalogue resolves them. Beyond what the library's grammar takes, value
// filters hold any filter (emails[type eq "work" and (value co "@x" or
// value co "@y")]) and a sub-attribute may follow the brackets:
// emails[type eq "work"].value eq "a@x" compiles to
// ValuePathFilter{emails, And{type eq "work", value eq "a@x"}}.
//
// Every error is EINVALID with scimType invalidFilter (invalidValue for a
// string holding U+0000): bad syntax, more than 2 KiB, more than 50
// comparisons, parentheses and brackets nested deeper than 8.
func ParseFilter(s string) (scimbridge.Filter, error) {
	var c filterCompiler
	return c.parseTop(s, true)
}

// parsePathFilter parses the filter inside a PATCH path's brackets.
func parsePathFilter(s string) (scimbridge.Filter, error) {
	var c filterCompiler
	return c.parseTop(s, false)
}

// filterCompiler holds the state of one ParseFilter call.
type filterCompiler struct {
	compares int
	marker   string      // attribute name standing for a value path
	groups   []valuePath // value paths cut out of the filter
}

// valuePath is one attr[filter] (optionally .sub op value) cut out of a
// filter before the library parses it.
type valuePath struct {
	attr  string
	inner string
	// cmp is "sub op value" when a comparison follows the brackets.
	cmp string
}

var filterOps = map[string]bool{
	"eq": true, "ne": true, "co": true, "sw": true, "ew": true,
	"gt": true, "ge": true, "lt": true, "le": true, "pr": true,
}

func (c *filterCompiler) parseTop(s string, valuePaths bool) (scimbridge.Filter, error) {
	if len(s) > maxFilterBytes {
		return nil, invalid(scimInvalidFilter, "filter is longer than %d bytes", maxFilterBytes)
	}
	if !utf8.ValidString(s) {
		return nil, invalid(scimInvalidFilter, "filter is not valid UTF-8")
	}
	s = strings.Trim(s, " ")
	if s == "" {
		return nil, invalid(scimInvalidFilter, "filter is empty")
	}
	if f, ok := parseSimple(s); ok {
		c.compares++
		return f, nil
	}
	if err := checkNesting(s); err != nil {
		return nil, err
	}
	c.marker = "zzvp"
	for strings.Contains(strings.ToLower(s), c.marker) {
		c.marker += "x"
	}
	return c.parse(s, valuePaths, s)
}

// checkNesting rejects unbalanced or too deeply nested parentheses and
// brackets, and unterminated strings, before the parser sees the filter.
func checkNesting(s string) error {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			end := stringEnd(s, i)
			if end < 0 {
				return invalid(scimInvalidFilter, "filter has an unterminated string")
			}
			i = end - 1
		case '(', '[':
			depth++
			if depth > maxFilterDepth {
				return invalid(scimInvalidFilter, "filter is nested deeper than %d levels", maxFilterDepth)
			}
		case ')', ']':
			depth--
			if depth < 0 {
				return invalid(scimInvalidFilter, "filter has an unbalanced %q", s[i])
			}
		}
	}
	if depth != 0 {
		return invalid(scimInvalidFilter, "filter has unbalanced parentheses or brackets")
	}
	return nil
}

// stringEnd returns the index just after the string literal starting at
// s[i] == '"', or -1 when it is not terminated.
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

func isAttrChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == ':' || c == '$'
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '+' || c == '$'
}

// rewrite copies s, upper-casing the hex digits of \u escapes (the
// library's grammar takes only upper case) and, when valuePaths is set,
// replacing each value path by "<marker><n> pr".
func (c *filterCompiler) rewrite(s string, valuePaths bool) (string, error) {
	out := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); {
		switch ch := s[i]; ch {
		case '"':
			end := stringEnd(s, i)
			if end < 0 { // checkNesting rules this out; stay safe anyway
				return "", invalid(scimInvalidFilter, "filter has an unterminated string")
			}
			out = appendString(out, s[i:end])
			i = end
		case '[':
			if !valuePaths {
				return "", invalid(scimInvalidFilter, "value filters cannot be nested")
			}
			rb := closingBracket(s, i)
			if rb < 0 {
				return "", invalid(scimInvalidFilter, "filter has a [ without ]")
			}
			// The attribute path written just before '['.
			end := len(out)
			for end > 0 && out[end-1] == ' ' {
				end--
			}
			start := end
			for start > 0 && isAttrChar(out[start-1]) {
				start--
			}
			if start == end {
				return "", invalid(scimInvalidFilter, "a value filter needs an attribute before [")
			}
			vp := valuePath{attr: string(out[start:end]), inner: s[i+1 : rb]}
			i = rb + 1
			if i < len(s) && s[i] == '.' {
				cmp, next, err := comparisonAfter(s, i+1)
				if err != nil {
					return "", err
				}
				vp.cmp, i = cmp, next
			}
			out = out[:start]
			out = append(out, c.marker...)
			out = strconv.AppendInt(out, int64(len(c.groups)), 10)
			out = append(out, " pr"...)
			c.groups = append(c.groups, vp)
		default:
			out = append(out, ch)
			i++
		}
	}
	return string(out), nil
}

// closingBracket returns the index of the ']' closing the '[' at s[i], or
// -1; a nested '[' is an error reported as -1 too.
func closingBracket(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '"':
			end := stringEnd(s, j)
			if end < 0 {
				return -1
			}
			j = end - 1
		case '[':
			return -1
		case ']':
			return j
		}
	}
	return -1
}

// comparisonAfter reads "sub SP op [SP value]" starting at s[i] (just after
// "]."), returning it as text and the index after it.
func comparisonAfter(s string, i int) (string, int, error) {
	bad := invalid(scimInvalidFilter, `after "].", a filter needs a sub-attribute, an operator and a value, e.g. emails[type eq "work"].value eq "a@example.com"`)
	j := i
	for j < len(s) && isWordChar(s[j]) && s[j] != '.' && s[j] != '+' {
		j++
	}
	sub := s[i:j]
	if sub == "" || j >= len(s) || s[j] != ' ' {
		return "", 0, bad
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	k := j
	for k < len(s) && isWordChar(s[k]) {
		k++
	}
	op := strings.ToLower(s[j:k])
	if !filterOps[op] {
		return "", 0, bad
	}
	if op == "pr" {
		return sub + " pr", k, nil
	}
	if k >= len(s) || s[k] != ' ' {
		return "", 0, bad
	}
	for k < len(s) && s[k] == ' ' {
		k++
	}
	v := k
	if v < len(s) && s[v] == '"' {
		k = stringEnd(s, v)
		if k < 0 {
			return "", 0, bad
		}
	} else {
		for k < len(s) && isWordChar(s[k]) {
			k++
		}
	}
	if k == v {
		return "", 0, bad
	}
	return sub + " " + op + " " + string(appendString(nil, s[v:k])), k, nil
}

// appendString appends a string literal, upper-casing \u escape digits.
func appendString(out []byte, lit string) []byte {
	for j := 0; j < len(lit); j++ {
		out = append(out, lit[j])
		if lit[j] == '\\' && j+1 < len(lit) {
			j++
			out = append(out, lit[j])
			if lit[j] == 'u' {
				for n := 0; n < 4 && j+1 < len(lit); n++ {
					j++
					h := lit[j]
					if h >= 'a' && h <= 'f' {
						h -= 'a' - 'A'
					}
					out = append(out, h)
				}
			}
		}
	}
	return out
}

// parse parses s (part of the filter orig) with the library and converts
// the result.
func (c *filterCompiler) parse(s string, valuePaths bool, orig string) (scimbridge.Filter, error) {
	first := len(c.groups)
	text, err := c.rewrite(s, valuePaths)
	if err != nil {
		return nil, err
	}
	expr, err := libParseFilter(text)
	if err != nil {
		return nil, syntaxErrorFilter(orig, err)
	}
	return c.convert(expr, first, orig)
}

// libParseFilter calls the library, turning a panic into an error.
func libParseFilter(text string) (expr filter.Expression, err error) {
	defer func() {
		if r := recover(); r != nil {
			expr, err = nil, fmt.Errorf("parse filter: %v", r)
		}
	}()
	return filter.ParseFilterNumber([]byte(text))
}

func libParseAttrExp(text string) (expr filter.AttributeExpression, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parse comparison: %v", r)
		}
	}()
	return filter.ParseAttrExpNumber([]byte(text))
}

func libParseAttrPath(text string) (p filter.AttributePath, err error) {
	if name, sub, ok := simpleAttrPath(text); ok {
		// Every member name of a body comes here: spare the library.
		p.AttributeName = name
		if sub != "" {
			p.SubAttribute = &sub
		}
		return p, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parse attribute path: %v", r)
		}
	}()
	return filter.ParseAttrPath([]byte(text))
}

func syntaxErrorFilter(orig string, err error) error {
	shown := orig
	if len(shown) > 100 {
		shown = shown[:100]
		for !utf8.ValidString(shown) {
			shown = shown[:len(shown)-1]
		}
		shown += "..."
	}
	e := invalid(scimInvalidFilter, "filter %q is not valid SCIM filter syntax (RFC 7644 section 3.4.2.2)", shown)
	e.Err = err
	return e
}

func (c *filterCompiler) convert(e filter.Expression, first int, orig string) (scimbridge.Filter, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		l, err := c.convert(e.Left, first, orig)
		if err != nil {
			return nil, err
		}
		r, err := c.convert(e.Right, first, orig)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(string(e.Operator), "or") {
			return scimbridge.OrFilter{Left: l, Right: r}, nil
		}
		return scimbridge.AndFilter{Left: l, Right: r}, nil
	case *filter.NotExpression:
		f, err := c.convert(e.Expression, first, orig)
		if err != nil {
			return nil, err
		}
		return scimbridge.NotFilter{Filter: f}, nil
	case *filter.AttributeExpression:
		if n, ok := c.groupIndex(e); ok && n >= first {
			return c.convertValuePath(c.groups[n], orig)
		}
		return c.compare(e)
	case *filter.ValuePath:
		return nil, invalid(scimInvalidFilter, "value filters cannot be nested")
	}
	return nil, invalid(scimInvalidFilter, "filter %q is not valid SCIM filter syntax", orig)
}

// groupIndex reports whether e is the placeholder of a cut-out value path.
func (c *filterCompiler) groupIndex(e *filter.AttributeExpression) (int, bool) {
	p := e.AttributePath
	if p.URIPrefix != nil || p.SubAttribute != nil || e.Operator != filter.PR ||
		!strings.HasPrefix(p.AttributeName, c.marker) {
		return 0, false
	}
	n, err := strconv.Atoi(p.AttributeName[len(c.marker):])
	if err != nil || n < 0 || n >= len(c.groups) {
		return 0, false
	}
	return n, true
}

func (c *filterCompiler) convertValuePath(vp valuePath, orig string) (scimbridge.Filter, error) {
	if _, err := libParseAttrPath(vp.attr); err != nil {
		return nil, syntaxErrorFilter(orig, err)
	}
	if strings.TrimSpace(vp.inner) == "" {
		return nil, invalid(scimInvalidFilter, "the value filter of %s is empty", vp.attr)
	}
	inner, err := c.parse(strings.Trim(vp.inner, " "), false, orig)
	if err != nil {
		return nil, err
	}
	if vp.cmp != "" {
		ae, err := libParseAttrExp(vp.cmp)
		if err != nil {
			return nil, syntaxErrorFilter(orig, err)
		}
		cmp, err := c.compare(&ae)
		if err != nil {
			return nil, err
		}
		inner = scimbridge.AndFilter{Left: inner, Right: cmp}
	}
	return scimbridge.ValuePathFilter{Attr: vp.attr, Filter: inner}, nil
}

func (c *filterCompiler) compare(e *filter.AttributeExpression) (scimbridge.Filter, error) {
	c.compares++
	if c.compares > maxFilterCompares {
		return nil, invalid(scimInvalidFilter, "filter has more than %d comparisons", maxFilterCompares)
	}
	attr := e.AttributePath.String()
	op := scimbridge.FilterOp(strings.ToLower(string(e.Operator)))
	if op == scimbridge.OpPr {
		return scimbridge.CompareFilter{Attr: attr, Op: op}, nil
	}
	var value any
	switch v := e.CompareValue.(type) {
	case nil, bool:
		value = v
	case string:
		var s string
		if err := json.Unmarshal([]byte(`"`+v+`"`), &s); err != nil {
			return nil, invalid(scimInvalidFilter, "filter has a malformed string for %s", attr)
		}
		if strings.ContainsRune(s, 0) {
			return nil, invalid(scimInvalidValue, "a filter string contains U+0000")
		}
		value = s
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, invalid(scimInvalidFilter, "filter number %s is out of range", string(v))
		}
		value = f
	default:
		return nil, invalid(scimInvalidFilter, "filter has an unsupported value for %s", attr)
	}
	switch op {
	case scimbridge.OpCo, scimbridge.OpSw, scimbridge.OpEw:
		if _, ok := value.(string); !ok {
			return nil, invalid(scimInvalidFilter, "operator %s compares strings only (%s)", op, attr)
		}
	case scimbridge.OpGt, scimbridge.OpGe, scimbridge.OpLt, scimbridge.OpLe:
		switch value.(type) {
		case string, float64:
		default:
			return nil, invalid(scimInvalidFilter, "operator %s compares strings, numbers and dates only (%s)", op, attr)
		}
	}
	return scimbridge.CompareFilter{Attr: attr, Op: op, Value: value}, nil
}
