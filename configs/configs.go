// Package configs loads, defaults and validates the scimbridge configuration.
//
// The configuration is one YAML file (scimbridge.example.yaml in this
// directory documents every key) whose keys can each be overridden by a
// SCIMBRIDGE_* environment variable. Load reports every unknown key and
// invalid value together, each with its key, so a bad configuration is fixed
// in one pass before anything starts.
package configs

import (
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Defaults that do not depend on the environment.
const (
	defaultListen           = "127.0.0.1:8080"
	defaultOpsListen        = "127.0.0.1:9090"
	defaultMaxOpenConns     = 20
	defaultStatementTimeout = Duration(30 * time.Second)
	defaultLogLevel         = "info"
	defaultLogFormat        = "text"
	defaultGoogleAPI        = "https://admin.googleapis.com/"
	defaultGoogleTokenURL   = "https://oauth2.googleapis.com/token"
	defaultGoogleAuthURL    = "https://accounts.google.com/o/oauth2/v2/auth"
	defaultEventsRetention  = Duration(90 * day)
	defaultEventsBuffer     = 100_000
	defaultEventsBufferMiB  = 64
	defaultReportsRetention = Duration(180 * day)
	defaultChangesRetention = Duration(30 * day)
	defaultRateLimit        = 50
	defaultRateBurst        = 200
	defaultAuthFailureLimit = 20
	defaultShutdownTimeout  = Duration(30 * time.Second)
	sqliteFileName          = "scimbridge.db"
	defaultWebhookTimeout   = Duration(15 * time.Second)
)

// Config is the whole scimbridge configuration. The yaml tags are the key
// names; nested structs are key paths (Database.URL is database.url).
type Config struct {
	// Listen is the host:port of the main listener: the SCIM API.
	Listen string `yaml:"listen"`
	// OpsListen is the host:port serving /healthz, /readyz and /metrics.
	OpsListen string `yaml:"ops_listen"`
	// AdminListen, when set, is the host:port serving the admin API (and
	// the console) on their own, instead of the main listener.
	AdminListen string `yaml:"admin_listen"`
	// AdminAllowedCIDRs, when set, are the only client addresses (CIDRs or
	// single IPs) the admin API and console answer; others get 403. Use
	// AdminAllowedPrefixes for the parsed form.
	AdminAllowedCIDRs []string `yaml:"admin_allowed_cidrs"`
	// PublicURL is the base URL clients use to reach the main listener.
	// Unset, it is derived from Listen.
	PublicURL string `yaml:"public_url"`
	// DataDir holds the SQLite database and bootstrap credentials.
	DataDir string `yaml:"data_dir"`

	Database Database `yaml:"database"`
	Log      Log      `yaml:"log"`

	// TLSCertFile and TLSKeyFile enable TLS on the main listener; both or
	// neither.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// TrustedProxies are the CIDRs (or single IPs) whose X-Forwarded-For is
	// believed. Use TrustedProxyPrefixes for the parsed form.
	TrustedProxies []string `yaml:"trusted_proxies"`

	// EncryptionKeyFile holds the key that seals stored credentials. Unset,
	// the daemon uses $CREDENTIALS_DIRECTORY/encryption-key, else with
	// SQLite a key it generates in DataDir; PostgreSQL requires a key.
	EncryptionKeyFile string `yaml:"encryption_key_file"`
	// EncryptionPreviousKeys are files of retired keys, kept to decrypt
	// secrets written before a rotation.
	EncryptionPreviousKeys []string `yaml:"encryption_previous_keys"`

	Google  Google  `yaml:"google"`
	Events  Events  `yaml:"events"`
	Reports Reports `yaml:"reports"`
	SCIM    SCIM    `yaml:"scim"`
	Changes Changes `yaml:"changes"`
	// Webhooks configures the delivery of changes to webhook endpoints.
	Webhooks Webhooks `yaml:"webhooks"`

	// BootstrapSetting is the bootstrap key as written, nil when unset. Read
	// the effective value with Bootstrap.
	BootstrapSetting *bool `yaml:"bootstrap,omitempty"`
	// ShutdownTimeout bounds draining requests and stopping a reconcile on
	// SIGTERM.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// Database configures the store.
type Database struct {
	// URL is sqlite:///absolute/path.db or postgres:// (postgresql://).
	// Unset, it is the file scimbridge.db in DataDir.
	URL string `yaml:"url"`
	// MaxOpenConns caps open connections (for SQLite, the read pool).
	MaxOpenConns int `yaml:"max_open_conns"`
	// StatementTimeout bounds every PostgreSQL statement, commit and
	// rollback.
	StatementTimeout Duration `yaml:"statement_timeout"`
}

// Log configures the process logger.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// Google configures the Google Workspace bridge endpoints; tests point them
// at a local fake.
type Google struct {
	APIEndpoint string `yaml:"api_endpoint"`
	TokenURL    string `yaml:"token_url"`
	// AuthURL is the OAuth authorisation endpoint of "Connect Google
	// Workspace".
	AuthURL string `yaml:"auth_url"`
	// OAuthClientID is the operator's OAuth client ("web application")
	// organizations connect through; unset, the OAuth connection is not
	// offered.
	OAuthClientID string `yaml:"oauth_client_id"`
	// OAuthClientSecretFile holds the client's secret. Unset, the daemon
	// reads $CREDENTIALS_DIRECTORY/google-oauth-client-secret.
	OAuthClientSecretFile string `yaml:"oauth_client_secret_file"`
}

// Events configures the SCIM events log.
type Events struct {
	Retention Duration `yaml:"retention"`
	// Buffer and BufferBytes bound the queue of SCIM events kept while the
	// database is unavailable, in events and in bytes (bodies included);
	// events beyond either are dropped and counted.
	Buffer      int `yaml:"buffer"`
	BufferBytes int `yaml:"buffer_bytes"`
}

// Reports configures reconcile reports.
type Reports struct {
	Retention Duration `yaml:"retention"`
}

// Changes configures the changes feed.
type Changes struct {
	// Retention is how long change records are kept; a cursor older than
	// the records kept is refused (410) and the consumer snapshots again.
	Retention Duration `yaml:"retention"`
}

// SCIM configures the SCIM server's limits.
type SCIM struct {
	// RateLimit is requests per second per token; 0 disables the limit.
	RateLimit float64 `yaml:"rate_limit"`
	// RateBurst is the token bucket size when RateLimit is above 0.
	RateBurst int `yaml:"rate_burst"`
	// AuthFailureLimit is failed-authentication requests per minute per
	// client IP and token prefix before further refused requests get 429
	// instead of 401 (a valid token is never blocked); 0 disables it.
	AuthFailureLimit int `yaml:"auth_failure_limit"`
}

// Webhooks configures webhook delivery.
type Webhooks struct {
	// AllowedCIDRs are ranges deliveries may reach though private,
	// loopback, link-local or metadata; plain http goes only to loopback
	// addresses among them (development). Use AllowedPrefixes for the
	// parsed form.
	AllowedCIDRs []string `yaml:"allowed_cidrs"`
	// CAFile is a PEM file of CA certificates trusted besides the
	// system's for receivers' certificates.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds one delivery attempt.
	Timeout Duration `yaml:"timeout"`
}

// AllowedPrefixes returns webhooks.allowed_cidrs parsed, a bare IP as a
// single-address prefix. Entries that do not parse are left out; Validate
// reports them.
func (w Webhooks) AllowedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range w.AllowedCIDRs {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Default returns the configuration used when no file and no SCIMBRIDGE_*
// variables are given. getenv supplies STATE_DIRECTORY, XDG_DATA_HOME and
// HOME for the data directory; nil means an empty environment.
func Default(getenv func(string) string) Config {
	c := defaults(getenv)
	c.derive()
	return c
}

// defaults is Default without the values derived from other keys, so that
// overrides of listen or data_dir carry into public_url and database.url.
func defaults(getenv func(string) string) Config {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return Config{
		Listen:    defaultListen,
		OpsListen: defaultOpsListen,
		DataDir:   defaultDataDir(getenv),
		Database:  Database{MaxOpenConns: defaultMaxOpenConns, StatementTimeout: defaultStatementTimeout},
		Log:       Log{Level: defaultLogLevel, Format: defaultLogFormat},
		Google:    Google{APIEndpoint: defaultGoogleAPI, TokenURL: defaultGoogleTokenURL, AuthURL: defaultGoogleAuthURL},
		Events: Events{Retention: defaultEventsRetention, Buffer: defaultEventsBuffer,
			BufferBytes: defaultEventsBufferMiB << 20},
		Reports: Reports{Retention: defaultReportsRetention},
		Changes: Changes{Retention: defaultChangesRetention},
		SCIM: SCIM{
			RateLimit:        defaultRateLimit,
			RateBurst:        defaultRateBurst,
			AuthFailureLimit: defaultAuthFailureLimit,
		},
		Webhooks:        Webhooks{Timeout: defaultWebhookTimeout},
		ShutdownTimeout: defaultShutdownTimeout,
	}
}

// defaultDataDir is $STATE_DIRECTORY (its first entry: systemd joins several
// with ':'), else $XDG_DATA_HOME/scimbridge, else ~/.local/share/scimbridge.
// Relative XDG_DATA_HOME is ignored, as the XDG spec says. It is "" when
// nothing applies; Validate then asks for data_dir.
func defaultDataDir(getenv func(string) string) string {
	if dir, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":"); dir != "" {
		return filepath.Clean(dir)
	}
	if xdg := getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "scimbridge")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "share", "scimbridge")
	}
	return ""
}

// derive fills public_url and database.url from listen and data_dir when
// they are still unset.
func (c *Config) derive() {
	if c.PublicURL == "" && c.Listen != "" {
		c.PublicURL = derivePublicURL(c.Listen, c.TLSCertFile != "")
	}
	if c.Database.URL == "" && filepath.IsAbs(c.DataDir) {
		u := url.URL{Scheme: "sqlite", Path: filepath.ToSlash(filepath.Join(c.DataDir, sqliteFileName))}
		c.Database.URL = u.String()
	}
}

// derivePublicURL turns a listen address into a URL a client can use: an
// empty or unspecified host (":8080", "0.0.0.0:8080") becomes localhost.
func derivePublicURL(listen string, tls bool) string {
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return scheme + listen // Validate reports listen.
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + net.JoinHostPort(host, port)
}

// Bootstrap reports whether the first start of an empty database creates the
// default organization and its tokens. Unset, it is true for SQLite and
// false for PostgreSQL.
func (c Config) Bootstrap() bool {
	if c.BootstrapSetting != nil {
		return *c.BootstrapSetting
	}
	return c.DatabaseDialect() == "sqlite"
}

// DatabaseDialect is "sqlite" or "postgres" from the database URL's scheme,
// or "" when the scheme is neither.
func (c Config) DatabaseDialect() string {
	scheme, _, _ := strings.Cut(c.Database.URL, ":")
	switch strings.ToLower(scheme) {
	case "sqlite":
		return "sqlite"
	case "postgres", "postgresql":
		return "postgres"
	}
	return ""
}

// SQLitePath is the database file path of a sqlite:// URL, or "" for any
// other database URL.
func (c Config) SQLitePath() string {
	if c.DatabaseDialect() != "sqlite" {
		return ""
	}
	u, err := url.Parse(c.Database.URL)
	if err != nil || u.Host != "" {
		return ""
	}
	return filepath.FromSlash(u.Path)
}

// IsLoopbackListen reports whether the main listener is bound to a loopback
// address (127.0.0.0/8, ::1 or localhost) and so unreachable from other
// machines.
func (c Config) IsLoopbackListen() bool {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// TrustedProxyPrefixes returns trusted_proxies parsed, a bare IP as a
// single-address prefix (/32 or /128). Entries that do not parse are left
// out; Validate reports them.
func (c Config) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// AdminAllowedPrefixes returns admin_allowed_cidrs parsed as
// TrustedProxyPrefixes parses trusted_proxies; nil allows every address.
func (c Config) AdminAllowedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.AdminAllowedCIDRs {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefix accepts a CIDR or a bare IP address and returns it masked.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(ip.WithZone(""), ip.BitLen()), nil
}
