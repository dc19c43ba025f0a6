package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	envPrefix     = "SCIMBRIDGE_"
	envTestPrefix = "SCIMBRIDGE_TEST_" // reserved for tests, never read
)

// Load builds the configuration: defaults, then the YAML file at path (""
// means no file), then SCIMBRIDGE_* environment variables read through
// getenv, then public_url and database.url derived if still unset, then
// Validate.
//
// A missing or unreadable file is returned as a plain error. Everything else
// (YAML syntax, unknown keys, values that do not parse, unknown SCIMBRIDGE_*
// variables and invalid values) is collected into one *ValidationError.
//
// Values always come from getenv. To find SCIMBRIDGE_* names it does not
// know, Load lists the process environment (os.Environ); such a name is an
// error only when getenv also returns a value for it.
func Load(path string, getenv func(string) string) (Config, error) {
	var names []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, envPrefix) {
			names = append(names, name)
		}
	}
	return load(path, getenv, names)
}

// load is Load with the candidate environment variable names given.
func load(path string, getenv func(string) string, envNames []string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := defaults(getenv)
	var problems []Problem
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config file: %w", err)
		}
		problems = append(problems, decodeYAML(data, &c)...)
	}
	problems = append(problems, applyEnv(&c, getenv, envNames)...)
	c.derive()
	var ve *ValidationError
	if errors.As(c.Validate(), &ve) {
		problems = append(problems, ve.Problems...)
	}
	if len(problems) > 0 {
		return Config{}, &ValidationError{Problems: problems}
	}
	return c, nil
}

// Keys returns the path of every key of Config ("database.url"), in
// declaration order.
func Keys() []string {
	var out []string
	for _, l := range leaves() {
		out = append(out, l.key)
	}
	return out
}

// leaf is one settable key of Config.
type leaf struct {
	key   string // "database.url"
	index []int  // for reflect.Value.FieldByIndex
}

// leaves lists every key of Config in declaration order.
func leaves() []leaf {
	var out []leaf
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			key := joinKey(prefix, yamlName(f))
			idx := append(slices.Clone(index), i)
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, key, idx)
				continue
			}
			out = append(out, leaf{key: key, index: idx})
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return out
}

// envName is the environment variable overriding key.
func envName(key string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// applyEnv overrides c from SCIMBRIDGE_* variables and reports values that
// do not parse and names that match no key.
func applyEnv(c *Config, getenv func(string) string, names []string) []Problem {
	var problems []Problem
	v := reflect.ValueOf(c).Elem()
	known := make(map[string]bool)
	for _, l := range leaves() {
		name := envName(l.key)
		known[name] = true
		s := strings.TrimSpace(getenv(name))
		if s == "" {
			continue
		}
		if err := setString(v.FieldByIndex(l.index), s); err != nil {
			problems = append(problems, Problem{Key: l.key, Message: fmt.Sprintf("%v (from %s)", err, name)})
		}
	}
	names = slices.Clone(names)
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if !strings.HasPrefix(name, envPrefix) || strings.HasPrefix(name, envTestPrefix) ||
			known[name] || getenv(name) == "" {
			continue
		}
		problems = append(problems, Problem{
			Key:     name,
			Message: "unknown environment variable" + suggest(name, mapKeys(known)),
		})
	}
	return problems
}

// decodeYAML overlays a YAML document onto c. Unlike yaml.Unmarshal it does
// not stop at the first problem: it walks the node tree and reports every
// unknown key, duplicate and unparsable value with its full key path.
func decodeYAML(data []byte, c *Config) []Problem {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file
		}
		return []Problem{{Message: "config file: " + err.Error()}}
	}
	var problems []Problem
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		problems = append(problems, Problem{Message: "config file: holds more than one YAML document"})
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = deref(root.Content[0])
	}
	if isNull(root) {
		return problems
	}
	if root.Kind != yaml.MappingNode {
		return append(problems, Problem{Message: fmt.Sprintf("config file: line %d: want a mapping of keys", root.Line)})
	}
	return append(problems, decodeMapping(root, reflect.ValueOf(c).Elem(), "")...)
}

func decodeMapping(n *yaml.Node, v reflect.Value, prefix string) []Problem {
	var problems []Problem
	fields := make(map[string]int)
	for i := range v.NumField() {
		fields[yamlName(v.Type().Field(i))] = i
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], deref(n.Content[i+1])
		key := joinKey(prefix, k.Value)
		at := fmt.Sprintf(" (line %d)", k.Line)
		idx, ok := fields[k.Value]
		switch {
		case seen[k.Value]:
			problems = append(problems, Problem{Key: key, Message: "set more than once" + at})
			continue
		case !ok:
			problems = append(problems, Problem{Key: key, Message: "unknown key" + at + suggest(k.Value, mapKeys(fields))})
			continue
		}
		seen[k.Value] = true
		fv := v.Field(idx)
		if isNull(val) {
			continue // an empty value keeps the default
		}
		if fv.Kind() == reflect.Struct {
			if val.Kind != yaml.MappingNode {
				problems = append(problems, Problem{Key: key, Message: "want a mapping of keys" + at})
				continue
			}
			problems = append(problems, decodeMapping(val, fv, key)...)
			continue
		}
		if err := setNode(fv, val); err != nil {
			problems = append(problems, Problem{Key: key, Message: err.Error() + at})
		}
	}
	return problems
}

// setNode sets a leaf from a YAML scalar, or a list from a YAML sequence.
func setNode(v reflect.Value, n *yaml.Node) error {
	if v.Kind() == reflect.Slice {
		if n.Kind != yaml.SequenceNode {
			return errors.New("want a list, like [a, b]")
		}
		var items []string
		for _, item := range n.Content {
			item = deref(item)
			if item.Kind != yaml.ScalarNode {
				return errors.New("want a list of single values")
			}
			items = append(items, item.Value)
		}
		setList(v, items)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a single value, not a list or mapping")
	}
	return setString(v, n.Value)
}

// setString sets a leaf from its text form, as written in an environment
// variable; lists are comma-separated.
func setString(v reflect.Value, s string) error {
	if v.Type() == reflect.TypeFor[Duration]() {
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid integer %q", s)
		}
		v.SetInt(int64(n))
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("invalid number %q", s)
		}
		v.SetFloat(f)
	case reflect.Pointer: // *bool
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("invalid boolean %q: want true or false", s)
		}
		v.Set(reflect.ValueOf(&b))
	case reflect.Slice:
		setList(v, strings.Split(s, ","))
	default:
		panic("configs: no parser for " + v.Type().String())
	}
	return nil
}

// setList stores trimmed, non-empty items; none at all is nil.
func setList(v reflect.Value, items []string) {
	var out []string
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	v.Set(reflect.ValueOf(out))
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// suggest returns "; did you mean X?" for the closest candidate within two
// edits of s, or "".
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + best + "?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
