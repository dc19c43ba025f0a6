package scimserver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge"
)

// replayStep is one request/response file of testdata/replay/<idp>/: a
// request as the identity provider sends it and the response it expects.
//
// Strings in the request (path, headers, body) and in the expected
// response may hold placeholders: {{name}} is replaced by a value captured
// earlier and {{base}} by the SCIM base URL. In the expected response a
// string that is exactly {{=name}} captures the actual value, {{any}}
// accepts any non-null value, {{absent}} requires the member to be
// missing, {{time}} requires an RFC 3339 time and {{uuid}} a UUID.
// Expected bodies are subsets: objects may have more members than listed;
// arrays must have exactly the listed items.
type replayStep struct {
	Name    string `json:"name"`
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

func TestReplay(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "replay", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no replay directories: %v", err)
	}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no replay files in %s: %v", dir, err)
		}
		slices.Sort(files)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			backends(t, func(t *testing.T, db scimbridge.Store) {
				e := newEnv(t, db)
				vars := map[string]string{"base": e.base}
				for _, f := range files {
					replayFile(t, e, f, vars)
				}
				// Every request of the sequence left exactly one event.
				if got, want := len(e.events(e.org.ID)), len(files); got != want {
					t.Errorf("%d events for %d requests", got, want)
				}
			})
		})
	}
}

// replayFile sends one step and checks the answer, capturing into vars.
func replayFile(t *testing.T, e *testEnv, file string, vars map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var step replayStep
	if err := json.Unmarshal(raw, &step); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	r := req{method: step.Request.Method, path: substitute(step.Request.Path, vars), header: map[string]string{}}
	for k, v := range step.Request.Headers {
		r.header[k] = substitute(v, vars)
	}
	if len(step.Request.Body) > 0 && string(step.Request.Body) != "null" {
		r.body = substitute(string(step.Request.Body), vars)
	}
	res := e.do(r)
	name := filepath.Base(file) + " (" + step.Name + ")"
	if res.status != step.Response.Status {
		t.Fatalf("%s: status %d, want %d; body: %s", name, res.status, step.Response.Status, res.body)
	}
	if len(step.Response.Body) > 0 {
		var want, got any
		if err := json.Unmarshal(step.Response.Body, &want); err != nil {
			t.Fatalf("%s: expected body: %v", name, err)
		}
		if err := json.Unmarshal(res.body, &got); err != nil {
			t.Fatalf("%s: response is not JSON: %v: %s", name, err, res.body)
		}
		capture(want, got, vars)
		if err := matchValue(want, got, "body", vars); err != nil {
			t.Fatalf("%s: %v\nresponse: %s", name, err, res.body)
		}
	}
	for k, want := range step.Response.Headers {
		if err := matchValue(want, nilIfEmpty(res.header.Get(k)), "header "+k, vars); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var placeholder = regexp.MustCompile(`\{\{([A-Za-z0-9_]+)\}\}`)

// substitute replaces {{name}} by captured values; names captured in a
// URL path or query are escaped for it by the step files themselves.
func substitute(s string, vars map[string]string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := vars[m[2:len(m)-2]]; ok {
			return v
		}
		return m
	})
}

// capture records every {{=name}} of want from got, before anything is
// compared, so a value may be used anywhere in the same response.
func capture(want, got any, vars map[string]string) {
	switch w := want.(type) {
	case string:
		if v, ok := got.(string); ok && strings.HasPrefix(w, "{{=") && strings.HasSuffix(w, "}}") {
			vars[w[3:len(w)-2]] = v
		}
	case map[string]any:
		if g, ok := got.(map[string]any); ok {
			for k, wv := range w {
				capture(wv, g[k], vars)
			}
		}
	case []any:
		if g, ok := got.([]any); ok && len(g) == len(w) {
			for i := range w {
				capture(w[i], g[i], vars)
			}
		}
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// matchValue checks got against the expected subset want.
func matchValue(want, got any, at string, vars map[string]string) error {
	if s, ok := want.(string); ok {
		switch {
		case s == "{{absent}}":
			return fmt.Errorf("%s: present (%v), want absent", at, got)
		case s == "{{any}}":
			if got == nil {
				return fmt.Errorf("%s: missing", at)
			}
			return nil
		case strings.HasPrefix(s, "{{=") && strings.HasSuffix(s, "}}"):
			v, ok := got.(string)
			if !ok {
				return fmt.Errorf("%s: %v is not a string to capture", at, got)
			}
			vars[s[3:len(s)-2]] = v
			return nil
		case s == "{{time}}":
			if v, ok := got.(string); !ok || func() bool { _, err := time.Parse(time.RFC3339Nano, v); return err != nil }() {
				return fmt.Errorf("%s: %v is not an RFC 3339 time", at, got)
			}
			return nil
		case s == "{{uuid}}":
			if v, ok := got.(string); !ok || !uuidPattern.MatchString(v) {
				return fmt.Errorf("%s: %v is not a UUID", at, got)
			}
			return nil
		}
		want = substitute(s, vars)
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %v is not an object", at, got)
		}
		for k, wv := range w {
			gv, present := g[k]
			if wv == "{{absent}}" {
				if present {
					return fmt.Errorf("%s.%s: present (%v), want absent", at, k, gv)
				}
				continue
			}
			if !present {
				return fmt.Errorf("%s.%s: missing", at, k)
			}
			if err := matchValue(wv, gv, at+"."+k, vars); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: %v is not an array", at, got)
		}
		if len(g) != len(w) {
			return fmt.Errorf("%s: %d items, want %d", at, len(g), len(w))
		}
		for i := range w {
			if err := matchValue(w[i], g[i], fmt.Sprintf("%s[%d]", at, i), vars); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("%s: %v, want %v", at, got, want)
	}
	return nil
}
