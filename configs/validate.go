package configs

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Key is the key path ("database.url"), or the environment variable
	// name for an unknown SCIMBRIDGE_* variable, or "" for a problem with
	// the file as a whole.
	Key     string
	Message string
}

func (p Problem) String() string {
	if p.Key == "" {
		return p.Message
	}
	return p.Key + ": " + p.Message
}

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems one per line, as "key: message".
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks every key and returns a *ValidationError listing all
// problems, or nil. It touches no files and no network.
func (c Config) Validate() error {
	var v validator
	v.hostPort("listen", c.Listen)
	v.hostPort("ops_listen", c.OpsListen)
	if _, port, err := net.SplitHostPort(c.Listen); err == nil && port != "0" && c.Listen == c.OpsListen {
		v.add("ops_listen", "must differ from listen")
	}
	if c.AdminListen != "" {
		v.hostPort("admin_listen", c.AdminListen)
		if _, port, err := net.SplitHostPort(c.AdminListen); err == nil && port != "0" &&
			(c.AdminListen == c.Listen || c.AdminListen == c.OpsListen) {
			v.add("admin_listen", "must differ from listen and ops_listen (leave it unset to serve the admin API on listen)")
		}
	}
	for _, s := range c.AdminAllowedCIDRs {
		if _, err := parsePrefix(s); err != nil {
			v.add("admin_allowed_cidrs", "%q is not a CIDR or IP address", s)
		}
	}
	if u := v.httpURL("public_url", c.PublicURL); u != nil {
		if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			v.add("public_url", "must not have a query or fragment")
		}
		if u.User != nil {
			v.add("public_url", "must not contain a user or password")
		}
	}
	dataDirOK := false
	switch {
	case c.DataDir == "":
		v.add("data_dir", "required: set it, or $STATE_DIRECTORY, $XDG_DATA_HOME or $HOME")
	case !filepath.IsAbs(c.DataDir):
		v.add("data_dir", "must be an absolute path, got %q", c.DataDir)
	default:
		dataDirOK = true
	}
	if c.Database.URL != "" || dataDirOK {
		v.databaseURL(c.Database.URL)
	}
	if c.Database.MaxOpenConns < 1 {
		v.add("database.max_open_conns", "must be at least 1, got %d", c.Database.MaxOpenConns)
	}
	v.positive("database.statement_timeout", c.Database.StatementTimeout)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	if c.TLSCertFile != "" && c.TLSKeyFile == "" {
		v.add("tls_key_file", "required when tls_cert_file is set")
	}
	if c.TLSKeyFile != "" && c.TLSCertFile == "" {
		v.add("tls_cert_file", "required when tls_key_file is set")
	}
	for _, s := range c.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			v.add("trusted_proxies", "%q is not a CIDR or IP address", s)
		}
	}
	for i, s := range c.EncryptionPreviousKeys {
		if strings.TrimSpace(s) == "" {
			v.add("encryption_previous_keys", "entry %d is empty", i+1)
		}
	}
	v.httpURL("google.api_endpoint", c.Google.APIEndpoint)
	v.httpURL("google.token_url", c.Google.TokenURL)
	v.httpURL("google.auth_url", c.Google.AuthURL)
	switch id := c.Google.OAuthClientID; {
	case id != strings.TrimSpace(id) || strings.ContainsAny(id, " \t\r\n"):
		v.add("google.oauth_client_id", "must not contain spaces, got %q", id)
	case id == "" && c.Google.OAuthClientSecretFile != "":
		v.add("google.oauth_client_id", "required when the OAuth client's credential file is set")
	}
	v.positive("events.retention", c.Events.Retention)
	if c.Events.Buffer < 1 {
		v.add("events.buffer", "must be at least 1 event, got %d", c.Events.Buffer)
	}
	if c.Events.BufferBytes < 1<<20 {
		v.add("events.buffer_bytes", "must be at least 1048576 (1 MiB), got %d", c.Events.BufferBytes)
	}
	v.positive("reports.retention", c.Reports.Retention)
	v.positive("changes.retention", c.Changes.Retention)
	v.positive("shutdown_timeout", c.ShutdownTimeout)
	switch r := c.SCIM.RateLimit; {
	case math.IsNaN(r) || math.IsInf(r, 0) || r < 0:
		v.add("scim.rate_limit", "must be a number of requests per second, 0 or more (0 disables), got %v", r)
	case r > 0 && c.SCIM.RateBurst < 1:
		v.add("scim.rate_burst", "must be at least 1 when scim.rate_limit is above 0, got %d", c.SCIM.RateBurst)
	}
	for _, s := range c.Webhooks.AllowedCIDRs {
		if _, err := parsePrefix(s); err != nil {
			v.add("webhooks.allowed_cidrs", "%q is not a CIDR or IP address", s)
		}
	}
	v.positive("webhooks.timeout", c.Webhooks.Timeout)
	if c.Webhooks.Timeout.Duration() > 5*time.Minute {
		v.add("webhooks.timeout", "must be at most 5m, got %s", c.Webhooks.Timeout.Duration())
	}
	if c.SCIM.AuthFailureLimit < 0 {
		v.add("scim.auth_failure_limit", "must be 0 or more (0 disables), got %d", c.SCIM.AuthFailureLimit)
	}
	return v.err()
}

// validator collects problems in the order found.
type validator struct {
	problems []Problem
}

func (v *validator) add(key, format string, args ...any) {
	v.problems = append(v.problems, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func (v *validator) hostPort(key, s string) {
	if s == "" {
		v.add(key, "required, as host:port")
		return
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		v.add(key, "want host:port like \"127.0.0.1:8080\", got %q", s)
		return
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		v.add(key, "port must be a number from 0 to 65535, got %q", port)
	}
}

// httpURL checks s is an absolute http(s) URL with a host and returns it
// parsed, or nil after adding a problem.
func (v *validator) httpURL(key, s string) *url.URL {
	if s == "" {
		v.add(key, "required")
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		v.add(key, "not a valid URL: %q", s)
		return nil
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		v.add(key, "must be an absolute http:// or https:// URL, got %q", s)
		return nil
	}
	if u.Host == "" {
		v.add(key, "has no host: %q", s)
		return nil
	}
	return u
}

// databaseURL checks the scheme and, for SQLite, the path. Messages never
// repeat the URL: it may carry a password.
func (v *validator) databaseURL(s string) {
	const key = "database.url"
	const want = "use sqlite:///absolute/path.db or postgres://user@host/dbname"
	if s == "" {
		v.add(key, "required: %s", want)
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		v.add(key, "not a valid URL: %s", want)
		return
	}
	switch u.Scheme {
	case "postgres", "postgresql":
	case "sqlite":
		switch {
		case u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasSuffix(u.Path, "/"):
			v.add(key, "a sqlite URL needs an absolute file path, like sqlite:///var/lib/scimbridge/scimbridge.db")
		case u.RawQuery != "" || u.Fragment != "":
			v.add(key, "a sqlite URL takes no query: scimbridge sets the SQLite options itself")
		}
	default:
		v.add(key, "unsupported scheme %q: %s", u.Scheme, want)
	}
}

func (v *validator) oneOf(key, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.add(key, "must be one of %s, got %q", strings.Join(allowed, ", "), s)
}

func (v *validator) positive(key string, d Duration) {
	if d <= 0 {
		v.add(key, "must be positive, got %s", d)
	}
}
