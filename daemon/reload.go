package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/configs"
)

// reloadableKeys are the settings a SIGHUP applies to a running serve;
// every other change waits for a restart.
var reloadableKeys = []string{"log.level", "trusted_proxies", "scim.rate_limit", "scim.rate_burst"}

// scimSettings are the SCIM server's settings that change while it runs.
type scimSettings interface {
	SetTrustedProxies(prefixes []netip.Prefix)
	SetRateLimit(rate float64, burst int)
}

// reloader applies the changeable settings of a newly loaded configuration
// (SIGHUP) and logs what changed.
type reloader struct {
	logger *slog.Logger
	// level is the logger's level; nil when the caller supplied the
	// logger, whose level serve does not own.
	level *slog.LevelVar
	scim  scimSettings // nil when the SCIM server cannot change
	// running is the configuration in effect.
	running configs.Config
	// load reads the configuration again, from the same file and
	// environment as at start.
	load func() (configs.Config, error)
}

// reload loads the configuration and applies what can change. A
// configuration that does not load or validate changes nothing.
func (r *reloader) reload() {
	if r.load == nil {
		r.logger.Warn("configuration reload not possible: serve was started without a configuration source")
		return
	}
	next, err := r.load()
	if err != nil {
		r.logger.Error("configuration reload failed: keeping the running configuration", "err", configProblems(err))
		return
	}
	applied, restart := r.apply(next)
	switch {
	case len(applied) == 0 && len(restart) == 0:
		r.logger.Info("configuration reloaded: nothing changed")
	case len(restart) == 0:
		r.logger.Info("configuration reloaded", "changed", strings.Join(applied, "; "))
	default:
		r.logger.Warn("configuration reloaded; some changes need a restart", "changed", strings.Join(applied, "; "),
			"needs_restart", strings.Join(restart, ", "))
	}
}

// apply takes over next's reloadable settings and returns what it changed
// ("key: old -> new") and the keys that differ but need a restart (their
// values are not shown: the database URL may hold a password).
func (r *reloader) apply(next configs.Config) (applied, restart []string) {
	cur := &r.running
	if next.Log.Level != cur.Log.Level {
		if r.level != nil {
			r.level.Set(parseLevel(next.Log.Level))
			applied = append(applied, fmt.Sprintf("log.level: %s -> %s", cur.Log.Level, next.Log.Level))
			cur.Log.Level = next.Log.Level
		} else {
			restart = append(restart, "log.level")
		}
	}
	proxies := !slices.Equal(cur.TrustedProxyPrefixes(), next.TrustedProxyPrefixes())
	rate := cur.SCIM.RateLimit != next.SCIM.RateLimit || cur.SCIM.RateBurst != next.SCIM.RateBurst
	switch {
	case r.scim == nil && (proxies || rate):
		if proxies {
			restart = append(restart, "trusted_proxies")
		}
		if rate {
			restart = append(restart, "scim.rate_limit")
		}
	default:
		if proxies {
			r.scim.SetTrustedProxies(next.TrustedProxyPrefixes())
			applied = append(applied, fmt.Sprintf("trusted_proxies: [%s] -> [%s]",
				strings.Join(cur.TrustedProxies, ", "), strings.Join(next.TrustedProxies, ", ")))
			cur.TrustedProxies = next.TrustedProxies
		}
		if rate {
			r.scim.SetRateLimit(next.SCIM.RateLimit, next.SCIM.RateBurst)
			if cur.SCIM.RateLimit != next.SCIM.RateLimit {
				applied = append(applied, fmt.Sprintf("scim.rate_limit: %g -> %g", cur.SCIM.RateLimit, next.SCIM.RateLimit))
			}
			if cur.SCIM.RateBurst != next.SCIM.RateBurst {
				applied = append(applied, fmt.Sprintf("scim.rate_burst: %d -> %d", cur.SCIM.RateBurst, next.SCIM.RateBurst))
			}
			cur.SCIM.RateLimit, cur.SCIM.RateBurst = next.SCIM.RateLimit, next.SCIM.RateBurst
		}
	}
	for _, key := range changedKeys(reflect.ValueOf(*cur), reflect.ValueOf(next), "") {
		if !slices.Contains(reloadableKeys, key) {
			restart = append(restart, key)
		}
	}
	return applied, restart
}

// changedKeys lists the configuration keys (yaml paths) whose values
// differ between a and b.
func changedKeys(a, b reflect.Value, prefix string) []string {
	var out []string
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		av, bv := a.Field(i), b.Field(i)
		if f.Type.Kind() == reflect.Struct && !f.Type.Implements(reflect.TypeFor[fmt.Stringer]()) {
			out = append(out, changedKeys(av, bv, key)...)
			continue
		}
		if !reflect.DeepEqual(av.Interface(), bv.Interface()) {
			out = append(out, key)
		}
	}
	return out
}

// configProblems is a configuration error as one line: every problem of a
// validation error, with its key.
func configProblems(err error) string {
	var ve *configs.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	ps := make([]string, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		ps = append(ps, p.String())
	}
	return strings.Join(ps, "; ")
}
