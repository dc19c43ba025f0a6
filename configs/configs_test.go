package configs

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// env is a fake environment; its keys double as the listed names.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func (e env) names() []string {
	var out []string
	for k := range e {
		out = append(out, k)
	}
	return out
}

// baseEnv gives a data directory so that defaults validate.
func baseEnv() env { return env{"HOME": "/home/ada"} }

// loadEnv loads yamlText (none when "") with environment e.
func loadEnv(t *testing.T, yamlText string, e env) (Config, error) {
	t.Helper()
	path := ""
	if yamlText != "" {
		path = filepath.Join(t.TempDir(), "scimbridge.yaml")
		if err := os.WriteFile(path, []byte(yamlText), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return load(path, e.get, e.names())
}

func mustLoad(t *testing.T, yamlText string, e env) Config {
	t.Helper()
	c, err := loadEnv(t, yamlText, e)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return c
}

// problems returns the problems of a *ValidationError, failing otherwise.
func problems(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got error %v (%T), want *ValidationError", err, err)
	}
	return ve.Problems
}

// wantKeys asserts the problems name exactly keys, in any order.
func wantKeys(t *testing.T, err error, keys ...string) {
	t.Helper()
	var got []string
	for _, p := range problems(t, err) {
		got = append(got, p.Key)
	}
	slices.Sort(got)
	keys = slices.Clone(keys)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("problem keys = %q, want %q\nerror:\n%v", got, keys, err)
	}
}

func TestDefault(t *testing.T) {
	t.Run("EmptyEnv", func(t *testing.T) {
		c := Default(env{}.get)
		want := Config{
			Listen:    "127.0.0.1:8080",
			OpsListen: "127.0.0.1:9090",
			PublicURL: "http://127.0.0.1:8080",
			Database:  Database{MaxOpenConns: 20, StatementTimeout: Duration(30 * time.Second)},
			Log:       Log{Level: "info", Format: "text"},
			Google: Google{
				APIEndpoint: "https://admin.googleapis.com/",
				TokenURL:    "https://oauth2.googleapis.com/token",
				AuthURL:     "https://accounts.google.com/o/oauth2/v2/auth",
			},
			Events:          Events{Retention: Duration(90 * 24 * time.Hour), Buffer: 100_000, BufferBytes: 64 << 20},
			Reports:         Reports{Retention: Duration(180 * 24 * time.Hour)},
			SCIM:            SCIM{RateLimit: 50, RateBurst: 200, AuthFailureLimit: 20},
			Changes:         Changes{Retention: Duration(30 * 24 * time.Hour)},
			Webhooks:        Webhooks{Timeout: Duration(15 * time.Second)},
			ShutdownTimeout: Duration(30 * time.Second),
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("Default(empty) =\n%+v\nwant\n%+v", c, want)
		}
		if !reflect.DeepEqual(Default(nil), want) {
			t.Error("Default(nil) differs from Default(empty env)")
		}
		// With nowhere to put data, only data_dir is missing.
		wantKeys(t, c.Validate(), "data_dir")
	})
	t.Run("Valid", func(t *testing.T) {
		c := Default(baseEnv().get)
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if got, want := c.Database.URL, "sqlite:///home/ada/.local/share/scimbridge/scimbridge.db"; got != want {
			t.Errorf("database.url = %q, want %q", got, want)
		}
		if !c.Bootstrap() || c.DatabaseDialect() != "sqlite" || !c.IsLoopbackListen() {
			t.Errorf("Bootstrap=%v DatabaseDialect=%q IsLoopbackListen=%v, want true sqlite true",
				c.Bootstrap(), c.DatabaseDialect(), c.IsLoopbackListen())
		}
	})
}

func TestDefault_DataDir(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  env
		want string
	}{
		{"Nothing", env{}, ""},
		{"Home", env{"HOME": "/home/ada"}, "/home/ada/.local/share/scimbridge"},
		{"XDGOverHome", env{"HOME": "/home/ada", "XDG_DATA_HOME": "/xdg"}, "/xdg/scimbridge"},
		{"RelativeXDGIgnored", env{"HOME": "/home/ada", "XDG_DATA_HOME": "xdg"}, "/home/ada/.local/share/scimbridge"},
		{"StateDirectoryFirst", env{"HOME": "/home/ada", "XDG_DATA_HOME": "/xdg", "STATE_DIRECTORY": "/var/lib/scimbridge"}, "/var/lib/scimbridge"},
		{"StateDirectoryList", env{"STATE_DIRECTORY": "/var/lib/scimbridge:/var/lib/other"}, "/var/lib/scimbridge"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Default(tt.env.get).DataDir; got != tt.want {
				t.Errorf("DataDir = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoad_NoFileIsDefault(t *testing.T) {
	e := baseEnv()
	if got := mustLoad(t, "", e); !reflect.DeepEqual(got, Default(e.get)) {
		t.Errorf("Load(\"\") =\n%+v\nwant Default\n%+v", got, Default(e.get))
	}
}

func TestLoad_Env(t *testing.T) {
	yes, no := true, false
	for _, tt := range []struct {
		name  string
		env   env
		check func(Config) any // returns the value under test
		want  any
	}{
		{"String", env{"SCIMBRIDGE_LOG_LEVEL": "debug"}, func(c Config) any { return c.Log.Level }, "debug"},
		{"StringTrimmed", env{"SCIMBRIDGE_LISTEN": " 0.0.0.0:80 "}, func(c Config) any { return c.Listen }, "0.0.0.0:80"},
		{"Int", env{"SCIMBRIDGE_DATABASE_MAX_OPEN_CONNS": "7"}, func(c Config) any { return c.Database.MaxOpenConns }, 7},
		{"Float", env{"SCIMBRIDGE_SCIM_RATE_LIMIT": "2.5"}, func(c Config) any { return c.SCIM.RateLimit }, 2.5},
		{"FloatZeroDisables", env{"SCIMBRIDGE_SCIM_RATE_LIMIT": "0", "SCIMBRIDGE_SCIM_RATE_BURST": "0"}, func(c Config) any { return c.SCIM.RateLimit }, 0.0},
		{"BoolTrue", env{"SCIMBRIDGE_BOOTSTRAP": "true"}, func(c Config) any { return c.BootstrapSetting }, &yes},
		{"BoolFalse", env{"SCIMBRIDGE_BOOTSTRAP": "false"}, func(c Config) any { return c.BootstrapSetting }, &no},
		{"EventsBufferBytes", env{"SCIMBRIDGE_EVENTS_BUFFER_BYTES": "16777216"}, func(c Config) any { return c.Events.BufferBytes }, 16 << 20},
		{"DurationDays", env{"SCIMBRIDGE_EVENTS_RETENTION": "7d"}, func(c Config) any { return c.Events.Retention.Duration() }, 7 * 24 * time.Hour},
		{"DurationGo", env{"SCIMBRIDGE_SHUTDOWN_TIMEOUT": "1m30s"}, func(c Config) any { return c.ShutdownTimeout.Duration() }, 90 * time.Second},
		{"List", env{"SCIMBRIDGE_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,,::1"}, func(c Config) any { return c.TrustedProxies }, []string{"10.0.0.0/8", "192.0.2.1", "::1"}},
		{"ListPaths", env{"SCIMBRIDGE_ENCRYPTION_KEY_FILE": "/k", "SCIMBRIDGE_ENCRYPTION_PREVIOUS_KEYS": "/k.1,/k.2"}, func(c Config) any { return c.EncryptionPreviousKeys }, []string{"/k.1", "/k.2"}},
		{"Nested", env{"SCIMBRIDGE_GOOGLE_TOKEN_URL": "http://127.0.0.1:1/token"}, func(c Config) any { return c.Google.TokenURL }, "http://127.0.0.1:1/token"},
		{"EmptyIsUnset", env{"SCIMBRIDGE_LOG_LEVEL": ""}, func(c Config) any { return c.Log.Level }, "info"},
		{"ListenDerivesPublicURL", env{"SCIMBRIDGE_LISTEN": "[::]:8443", "SCIMBRIDGE_TLS_CERT_FILE": "/c", "SCIMBRIDGE_TLS_KEY_FILE": "/k"}, func(c Config) any { return c.PublicURL }, "https://localhost:8443"},
		{"PublicURLKept", env{"SCIMBRIDGE_LISTEN": ":80", "SCIMBRIDGE_PUBLIC_URL": "https://scim.example.com/base"}, func(c Config) any { return c.PublicURL }, "https://scim.example.com/base"},
		{"DataDirDerivesDatabase", env{"SCIMBRIDGE_DATA_DIR": "/srv/scim dir"}, func(c Config) any { return c.SQLitePath() }, "/srv/scim dir/scimbridge.db"},
		{"TestPrefixIgnored", env{"SCIMBRIDGE_TEST_POSTGRES_URL": "postgres://x", "SCIMBRIDGE_TEST_ANYTHING": "1"}, func(c Config) any { return c.Database.URL }, "sqlite:///home/ada/.local/share/scimbridge/scimbridge.db"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := baseEnv()
			for k, v := range tt.env {
				e[k] = v
			}
			c := mustLoad(t, "", e)
			if got := tt.check(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLoad_EnvOverridesFile(t *testing.T) {
	e := baseEnv()
	e["SCIMBRIDGE_LOG_FORMAT"] = "json"
	e["SCIMBRIDGE_DATABASE_URL"] = "postgresql://db/scim"
	c := mustLoad(t, "log:\n  format: text\n  level: warn\ndatabase:\n  url: sqlite:///tmp/x.db\n", e)
	if c.Log.Format != "json" || c.Log.Level != "warn" {
		t.Errorf("log = %+v, want json from env and warn from file", c.Log)
	}
	if c.DatabaseDialect() != "postgres" || c.SQLitePath() != "" {
		t.Errorf("dialect %q, SQLitePath %q: want postgres and none", c.DatabaseDialect(), c.SQLitePath())
	}
}

func TestLoad_File(t *testing.T) {
	c := mustLoad(t, `
listen: 0.0.0.0:8080
trusted_proxies: [10.0.0.0/8, 192.0.2.7]
events: {retention: 30d}
scim:
  rate_limit: 0.5
bootstrap: false
public_url: ~
`, baseEnv())
	if c.PublicURL != "http://localhost:8080" {
		t.Errorf("public_url = %q, want derived http://localhost:8080", c.PublicURL)
	}
	if c.Events.Retention.String() != "30d" || c.SCIM.RateLimit != 0.5 || c.Bootstrap() {
		t.Errorf("retention %v, rate %v, bootstrap %v", c.Events.Retention, c.SCIM.RateLimit, c.Bootstrap())
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")}
	if got := c.TrustedProxyPrefixes(); !slices.Equal(got, want) {
		t.Errorf("TrustedProxyPrefixes = %v, want %v", got, want)
	}
}

func TestLoad_UnknownKeys(t *testing.T) {
	t.Run("YAML", func(t *testing.T) {
		_, err := loadEnv(t, "database:\n  urll: sqlite:///x.db\nlistn: :1\nscim:\n  rate: 1\n", baseEnv())
		wantKeys(t, err, "database.urll", "listn", "scim.rate")
		if msg := err.Error(); !strings.Contains(msg, "database.urll: unknown key (line 2); did you mean url?") {
			t.Errorf("error lacks line and suggestion:\n%s", msg)
		}
	})
	t.Run("YAMLDuplicate", func(t *testing.T) {
		_, err := loadEnv(t, "log:\n  level: info\n  level: debug\n", baseEnv())
		wantKeys(t, err, "log.level")
	})
	t.Run("Env", func(t *testing.T) {
		e := baseEnv()
		e["SCIMBRIDGE_DATABASE_URLL"] = "sqlite:///x.db"
		e["SCIMBRIDGE_TEST_IGNORED"] = "1"
		e["SCIMBRIDGE_EMPTY_IS_UNSET"] = ""
		_, err := loadEnv(t, "", e)
		wantKeys(t, err, "SCIMBRIDGE_DATABASE_URLL")
		if msg := err.Error(); !strings.Contains(msg, "did you mean SCIMBRIDGE_DATABASE_URL?") {
			t.Errorf("error lacks suggestion:\n%s", msg)
		}
	})
	t.Run("ProcessEnv", func(t *testing.T) {
		t.Setenv("SCIMBRIDGE_NO_SUCH_KEY", "1")
		t.Setenv("SCIMBRIDGE_TEST_RESERVED", "1")
		t.Setenv("HOME", "/home/ada")
		_, err := Load("", os.Getenv)
		wantKeys(t, err, "SCIMBRIDGE_NO_SUCH_KEY")
		// A fake getenv that lacks the name does not see it.
		if _, err := Load("", baseEnv().get); err != nil {
			t.Errorf("Load with fake env: %v", err)
		}
	})
}

func TestLoad_ManyProblems(t *testing.T) {
	e := baseEnv()
	e["SCIMBRIDGE_SCIM_RATE_LIMIT"] = "fast"
	e["SCIMBRIDGE_REPORTS_RETENTION"] = "1.5d"
	e["SCIMBRIDGE_BOOTSTRAP"] = "maybe"
	_, err := loadEnv(t, `
listen: localhost
log:
  level: verbose
  format: xml
database:
  url: mysql://db/x
  max_open_conns: many
tls_cert_file: /etc/tls.crt
trusted_proxies: [10.0.0.0/33, not-an-ip]
events:
  retention: -1d
google:
  api_endpoint: ftp://example.com
scim: [1]
`, e)
	wantKeys(t, err,
		"database.max_open_conns", "scim", // file parse
		"scim.rate_limit", "reports.retention", "bootstrap", // env parse
		"listen", "log.level", "log.format", "database.url", "tls_key_file",
		"trusted_proxies", "trusted_proxies", "events.retention", "google.api_endpoint")
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 14 {
		t.Errorf("Error() has %d lines, want one per problem:\n%v", len(lines), err)
	}
	for _, want := range []string{
		`scim.rate_limit: invalid number "fast" (from SCIMBRIDGE_SCIM_RATE_LIMIT)`,
		`database.max_open_conns: invalid integer "many" (line 8)`,
		`log.level: must be one of debug, info, warn, error, got "verbose"`,
		`tls_key_file: required when tls_cert_file is set`,
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("missing line %q in:\n%v", want, err)
		}
	}
}

func TestLoad_BadFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), baseEnv().get); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
	for _, tt := range []struct{ name, yaml string }{
		{"Syntax", "listen: [\n"},
		{"NotMapping", "- a\n- b\n"},
		{"TwoDocuments", "listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadEnv(t, tt.yaml, baseEnv())
			wantKeys(t, err, "")
		})
	}
	t.Run("Empty", func(t *testing.T) {
		mustLoad(t, "# nothing\n", baseEnv())
	})
}

func TestConfig_Bootstrap(t *testing.T) {
	yes, no := true, false
	for _, tt := range []struct {
		name, url string
		setting   *bool
		want      bool
	}{
		{"SQLiteDefault", "sqlite:///var/lib/scimbridge/scimbridge.db", nil, true},
		{"PostgresDefault", "postgres://db/scim", nil, false},
		{"PostgresqlDefault", "postgresql://db/scim", nil, false},
		{"SQLiteOff", "sqlite:///x.db", &no, false},
		{"PostgresOn", "postgres://db/scim", &yes, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Database: Database{URL: tt.url}, BootstrapSetting: tt.setting}
			if got := c.Bootstrap(); got != tt.want {
				t.Errorf("Bootstrap() = %v, want %v", got, tt.want)
			}
		})
	}
}
