package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/scimbridge/scimbridge/configs"
)

// databasePasswordCredential is the systemd credential (LoadCredential=)
// holding the PostgreSQL password, so that it never sits in the
// environment or a configuration file.
const databasePasswordCredential = "database-password"

// withDatabasePassword returns cfg with the password from
// $CREDENTIALS_DIRECTORY/database-password put into a PostgreSQL
// database.url that names none. Without the credential, or when the URL
// has a password already, cfg is returned unchanged.
func withDatabasePassword(cfg configs.Config, getenv func(string) string) (configs.Config, error) {
	dir := getenv("CREDENTIALS_DIRECTORY")
	if dir == "" || cfg.DatabaseDialect() != "postgres" {
		return cfg, nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, databasePasswordCredential))
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	} else if err != nil {
		return cfg, fmt.Errorf("read database password credential: %w", err)
	}
	password := strings.TrimRight(string(raw), "\r\n")
	u, err := url.Parse(cfg.Database.URL)
	if err != nil {
		return cfg, fmt.Errorf("parse database url: %w", err) // Validate reported it already
	}
	if _, has := u.User.Password(); has || password == "" {
		return cfg, nil
	}
	user := ""
	if u.User != nil {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, password)
	cfg.Database.URL = u.String()
	return cfg, nil
}
