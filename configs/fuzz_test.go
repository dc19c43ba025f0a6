package configs

import (
	"errors"
	"testing"
)

// FuzzLoadYAML feeds arbitrary configuration files to the decoder and the
// validation: they never panic, and every problem reported names its key
// or, for the file as a whole, says what is wrong.
func FuzzLoadYAML(f *testing.F) {
	for _, seed := range []string{
		"listen: 127.0.0.1:8080\ndatabase:\n  url: sqlite:///tmp/x.db\n",
		"log:\n  level: loud\nscim:\n  rate_limit: -1\n",
		"events:\n  retention: 90d\n  buffer: 0\n",
		"unknown_key: 1\n",
		"listen: [1, 2]\n",
		"{",
	} {
		f.Add([]byte(seed))
	}
	getenv := func(string) string { return "" }
	f.Fuzz(func(t *testing.T, data []byte) {
		c := defaults(getenv)
		problems := decodeYAML(data, &c)
		for _, p := range problems {
			if p.Message == "" {
				t.Fatalf("problem with key %q has no message", p.Key)
			}
		}
		c.derive()
		var ve *ValidationError
		if err := c.Validate(); err != nil && !errors.As(err, &ve) {
			t.Fatalf("Validate returned %T, want *ValidationError: %v", err, err)
		}
	})
}
