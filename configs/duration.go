package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

const day = 24 * time.Hour

// Duration is a time.Duration written either as a Go duration ("30s",
// "12h") or as whole days ("90d"), in YAML and in environment variables.
type Duration time.Duration

// ParseDuration parses a Go duration or a whole number of days with a "d"
// suffix.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseInt(n, 10, 64)
		if err == nil && days <= int64(1<<63-1)/int64(day) && days >= -int64(1<<63-1)/int64(day) {
			return Duration(time.Duration(days) * day), nil
		}
	} else if d, err := time.ParseDuration(s); err == nil {
		return Duration(d), nil
	}
	return 0, fmt.Errorf("invalid duration %q: want a Go duration like \"30s\" or \"12h\", or whole days like \"90d\"", s)
}

// Duration returns d as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// String writes whole days as "90d" and anything else as a Go duration, so
// that it parses back with ParseDuration.
func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	return td.String()
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration must be a single value like \"90d\"", n.Line)
	}
	return d.UnmarshalText([]byte(n.Value))
}
