package configs

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

const examplePath = "scimbridge.example.yaml"

// commentedKey matches an example written as a commented-out key, like
// "  # url: postgres://...". Prose comments never start with "word: ".
var commentedKey = regexp.MustCompile(`(?m)^(\s*)# ([a-z_]+:(?: |$))`)

// The live keys of the example are exactly the defaults, so the documented
// defaults cannot drift from Default.
func TestExample_IsDefault(t *testing.T) {
	e := baseEnv()
	c, err := load(examplePath, e.get, nil)
	if err != nil {
		t.Fatalf("load example: %v", err)
	}
	if want := Default(e.get); !reflect.DeepEqual(c, want) {
		t.Errorf("example =\n%+v\nwant Default\n%+v", c, want)
	}
}

// With its commented-out examples enabled, the file is still valid and
// names every key of Config, and no key Config lacks.
func TestExample_DocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	enabled := commentedKey.ReplaceAllString(string(data), "$1$2")
	path := t.TempDir() + "/all.yaml"
	if err := os.WriteFile(path, []byte(enabled), 0o600); err != nil {
		t.Fatal(err)
	}
	// load reports unknown keys, so every documented key exists in Config.
	if _, err := load(path, baseEnv().get, nil); err != nil {
		t.Fatalf("example with comments enabled: %v", err)
	}

	var root yaml.Node
	if err := yaml.Unmarshal([]byte(enabled), &root); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := joinKey(prefix, n.Content[i].Value)
			if v := n.Content[i+1]; v.Kind == yaml.MappingNode {
				walk(v, key)
				continue
			}
			documented[key] = true
		}
	}
	walk(root.Content[0], "")
	for _, l := range leaves() {
		if !documented[l.key] {
			t.Errorf("key %s is not documented in %s", l.key, examplePath)
		}
	}
}

// Every key has its own environment variable.
func TestEnvNames(t *testing.T) {
	var names []string
	for _, l := range leaves() {
		names = append(names, envName(l.key))
	}
	for _, want := range []string{"SCIMBRIDGE_DATABASE_URL", "SCIMBRIDGE_SCIM_RATE_LIMIT", "SCIMBRIDGE_TRUSTED_PROXIES", "SCIMBRIDGE_BOOTSTRAP"} {
		if !slices.Contains(names, want) {
			t.Errorf("no key reads %s", want)
		}
	}
	slices.Sort(names)
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("two keys share an environment variable: %v", names)
	}
}
