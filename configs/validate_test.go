package configs

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestConfig_Validate(t *testing.T) {
	for _, tt := range []struct {
		name   string
		edit   func(*Config)
		want   string // problem key; "" means valid
		substr string // in the message
	}{
		{"Defaults", func(*Config) {}, "", ""},
		{"ListenPortZero", func(c *Config) { c.Listen, c.OpsListen = "127.0.0.1:0", "127.0.0.1:0" }, "", ""},
		{"ListenAllInterfaces", func(c *Config) { c.Listen = ":8080" }, "", ""},
		{"ListenNoPort", func(c *Config) { c.Listen = "127.0.0.1" }, "listen", "host:port"},
		{"ListenBadPort", func(c *Config) { c.Listen = "127.0.0.1:http" }, "listen", "port"},
		{"ListenEmpty", func(c *Config) { c.Listen = "" }, "listen", "required"},
		{"OpsListenSame", func(c *Config) { c.OpsListen = c.Listen }, "ops_listen", "differ"},
		{"AdminListen", func(c *Config) { c.AdminListen = "127.0.0.1:8081" }, "", ""},
		{"AdminListenSame", func(c *Config) { c.AdminListen = c.Listen }, "admin_listen", "differ"},
		{"AdminListenNoPort", func(c *Config) { c.AdminListen = "127.0.0.1" }, "admin_listen", "host:port"},
		{"AdminAllowedCIDRs", func(c *Config) { c.AdminAllowedCIDRs = []string{"10.0.0.0/8", "::1"} }, "", ""},
		{"AdminAllowedCIDRBad", func(c *Config) { c.AdminAllowedCIDRs = []string{"10.0.0.0/33"} }, "admin_allowed_cidrs", `"10.0.0.0/33"`},
		{"OpsListenPortTooBig", func(c *Config) { c.OpsListen = "127.0.0.1:70000" }, "ops_listen", "65535"},
		{"PublicURLRelative", func(c *Config) { c.PublicURL = "/scim" }, "public_url", "absolute"},
		{"PublicURLQuery", func(c *Config) { c.PublicURL = "https://a.example/?x=1" }, "public_url", "query"},
		{"PublicURLFragment", func(c *Config) { c.PublicURL = "https://a.example/#x" }, "public_url", "fragment"},
		{"PublicURLUser", func(c *Config) { c.PublicURL = "https://u:p@a.example/" }, "public_url", "password"},
		{"PublicURLPath", func(c *Config) { c.PublicURL = "https://a.example/scimbridge/" }, "", ""},
		{"DataDirRelative", func(c *Config) { c.DataDir = "data" }, "data_dir", "absolute"},
		{"DatabaseSQLiteRelative", func(c *Config) { c.Database.URL = "sqlite://scim.db" }, "database.url", "absolute"},
		{"DatabaseSQLiteDir", func(c *Config) { c.Database.URL = "sqlite:///var/lib/" }, "database.url", "absolute"},
		{"DatabaseSQLiteQuery", func(c *Config) { c.Database.URL = "sqlite:///x.db?_pragma=x" }, "database.url", "query"},
		{"DatabasePostgres", func(c *Config) { c.Database.URL = "postgres://u:secret@db:5432/scim?sslmode=disable" }, "", ""},
		{"DatabasePostgresSocket", func(c *Config) { c.Database.URL = "postgresql:///scim?host=/run/postgresql" }, "", ""},
		{"DatabaseScheme", func(c *Config) { c.Database.URL = "mysql://u:secret@db/scim" }, "database.url", `"mysql"`},
		{"DatabaseKeyValue", func(c *Config) { c.Database.URL = "host=db password=secret" }, "database.url", "postgres://"},
		{"MaxOpenConns", func(c *Config) { c.Database.MaxOpenConns = 0 }, "database.max_open_conns", "at least 1"},
		{"StatementTimeout", func(c *Config) { c.Database.StatementTimeout = 0 }, "database.statement_timeout", "positive"},
		{"LogLevel", func(c *Config) { c.Log.Level = "INFO" }, "log.level", "debug, info"},
		{"LogFormat", func(c *Config) { c.Log.Format = "logfmt" }, "log.format", "text, json"},
		{"TLSBoth", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = "/c", "/k" }, "", ""},
		{"TLSKeyOnly", func(c *Config) { c.TLSKeyFile = "/k" }, "tls_cert_file", "tls_key_file"},
		{"TrustedProxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "::1", "fe80::1%eth0"} }, "", ""},
		{"TrustedProxyBad", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.300"} }, "trusted_proxies", `"10.0.0.300"`},
		{"WebhookCIDRs", func(c *Config) { c.Webhooks.AllowedCIDRs = []string{"127.0.0.0/8", "::1"} }, "", ""},
		{"WebhookCIDRBad", func(c *Config) { c.Webhooks.AllowedCIDRs = []string{"10.0.0.0/33"} }, "webhooks.allowed_cidrs", `"10.0.0.0/33"`},
		{"WebhookTimeoutZero", func(c *Config) { c.Webhooks.Timeout = 0 }, "webhooks.timeout", ""},
		{"WebhookTimeoutLong", func(c *Config) { c.Webhooks.Timeout = Duration(time.Hour) }, "webhooks.timeout", "at most 5m"},
		{"PreviousKeysWithoutKeyFile", func(c *Config) { c.EncryptionPreviousKeys = []string{"/old"} }, "", ""},
		{"PreviousKeysEmptyEntry", func(c *Config) { c.EncryptionPreviousKeys = []string{"/old", " "} }, "encryption_previous_keys", "entry 2"},
		{"GoogleHTTP", func(c *Config) { c.Google.APIEndpoint = "http://127.0.0.1:9999/" }, "", ""},
		{"GoogleNoHost", func(c *Config) { c.Google.TokenURL = "https:///token" }, "google.token_url", "host"},
		{"GoogleAuthURL", func(c *Config) { c.Google.AuthURL = "javascript:alert(1)" }, "google.auth_url", "http"},
		{"GoogleOAuthSecretWithoutClient", func(c *Config) { c.Google.OAuthClientSecretFile = "/etc/secret" }, "google.oauth_client_id", "required"},
		{"GoogleOAuthClientSpaces", func(c *Config) { c.Google.OAuthClientID = "a b" }, "google.oauth_client_id", "spaces"},
		{"GoogleEmpty", func(c *Config) { c.Google.APIEndpoint = "" }, "google.api_endpoint", "required"},
		{"EventsRetentionZero", func(c *Config) { c.Events.Retention = 0 }, "events.retention", "positive"},
		{"EventsBufferZero", func(c *Config) { c.Events.Buffer = 0 }, "events.buffer", "at least 1"},
		{"EventsBufferBytesSmall", func(c *Config) { c.Events.BufferBytes = 4096 }, "events.buffer_bytes", "at least 1048576"},
		{"ReportsRetentionNegative", func(c *Config) { c.Reports.Retention = -1 }, "reports.retention", "positive"},
		{"ShutdownTimeoutZero", func(c *Config) { c.ShutdownTimeout = 0 }, "shutdown_timeout", "positive"},
		{"RateLimitNegative", func(c *Config) { c.SCIM.RateLimit = -1 }, "scim.rate_limit", "0 or more"},
		{"RateLimitNaN", func(c *Config) { c.SCIM.RateLimit = math.NaN() }, "scim.rate_limit", "0 or more"},
		{"RateBurstZero", func(c *Config) { c.SCIM.RateBurst = 0 }, "scim.rate_burst", "at least 1"},
		{"RateDisabledBurstZero", func(c *Config) { c.SCIM.RateLimit, c.SCIM.RateBurst = 0, 0 }, "", ""},
		{"AuthFailureLimitNegative", func(c *Config) { c.SCIM.AuthFailureLimit = -1 }, "scim.auth_failure_limit", "0 or more"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Default(baseEnv().get)
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantKeys(t, err, tt.want)
			if msg := err.Error(); !strings.Contains(msg, tt.substr) {
				t.Errorf("error %q lacks %q", msg, tt.substr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error repeats a database password: %v", err)
			}
		})
	}
}

func TestConfig_IsLoopbackListen(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:8080":  true,
		"127.1.2.3:8080":  true,
		"[::1]:8080":      true,
		"localhost:8080":  true,
		"LocalHost:8080":  true,
		":8080":           false,
		"0.0.0.0:8080":    false,
		"[::]:8080":       false,
		"192.0.2.1:8080":  false,
		"scim.example:80": false,
		"garbage":         false,
	} {
		if got := (Config{Listen: listen}).IsLoopbackListen(); got != want {
			t.Errorf("IsLoopbackListen(%q) = %v, want %v", listen, got, want)
		}
	}
}

func TestConfig_Database(t *testing.T) {
	for _, tt := range []struct{ url, dialect, path string }{
		{"sqlite:///var/lib/scimbridge/scimbridge.db", "sqlite", "/var/lib/scimbridge/scimbridge.db"},
		{"sqlite:///srv/a%20b/x.db", "sqlite", "/srv/a b/x.db"},
		{"SQLITE:///x.db", "sqlite", "/x.db"},
		{"sqlite://relative.db", "sqlite", ""},
		{"postgres://db/scim", "postgres", ""},
		{"postgresql://db/scim", "postgres", ""},
		{"mysql://db/scim", "", ""},
		{"", "", ""},
	} {
		c := Config{Database: Database{URL: tt.url}}
		if got := c.DatabaseDialect(); got != tt.dialect {
			t.Errorf("DatabaseDialect(%q) = %q, want %q", tt.url, got, tt.dialect)
		}
		if got := c.SQLitePath(); got != tt.path {
			t.Errorf("SQLitePath(%q) = %q, want %q", tt.url, got, tt.path)
		}
	}
}

func TestConfig_TrustedProxyPrefixes(t *testing.T) {
	c := Config{TrustedProxies: []string{"10.1.2.3/8", "192.0.2.7", "2001:db8::1", "fe80::1%eth0", "bad", "fd00::/8"}}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::1/128"),
		netip.MustParsePrefix("fe80::1/128"),
		netip.MustParsePrefix("fd00::/8"),
	}
	if got := c.TrustedProxyPrefixes(); !slices.Equal(got, want) {
		t.Errorf("TrustedProxyPrefixes = %v, want %v", got, want)
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"90d", 90 * day, "90d"},
		{"0d", 0, "0s"},
		{"30s", 30 * time.Second, "30s"},
		{"48h", 2 * day, "2d"},
		{"1h30m", 90 * time.Minute, "1h30m0s"},
		{" 7d ", 7 * day, "7d"},
		{"-1d", -day, "-1d"},
	} {
		d, err := ParseDuration(tt.in)
		if err != nil || d.Duration() != tt.want || d.String() != tt.str {
			t.Errorf("ParseDuration(%q) = %v (%q), %v; want %v (%q)", tt.in, d.Duration(), d, err, tt.want, tt.str)
		}
	}
	for _, in := range []string{"", "d", "1.5d", "90", "1d12h", "ninety days", "999999999999d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q): no error", in)
		}
	}

	t.Run("YAML", func(t *testing.T) {
		var v struct {
			R Duration `yaml:"r"`
		}
		if err := yaml.Unmarshal([]byte("r: 180d\n"), &v); err != nil || v.R.Duration() != 180*day {
			t.Fatalf("unmarshal: %v, %v", v.R, err)
		}
		out, err := yaml.Marshal(v)
		if err != nil || string(out) != "r: 180d\n" {
			t.Errorf("marshal = %q, %v", out, err)
		}
		if err := yaml.Unmarshal([]byte("r: [1]\n"), &v); err == nil {
			t.Error("unmarshal of a list: no error")
		}
	})
}
