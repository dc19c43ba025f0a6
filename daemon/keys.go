package daemon

// Loading the encryption keys that seal stored secrets, and refusing to
// run without one the database records (PRODUCT.md, "Sealing").

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/configs"
	"github.com/scimbridge/scimbridge/internal/seal"
)

// keyUse is what a process does with the keys.
type keyUse int

const (
	// keysServe: serve. It refuses to start when the database records a
	// key it does not have; on SQLite with no key anywhere it generates
	// one in the data directory while the database records none.
	keysServe keyUse = iota
	// keysNeeded: a command that opens sealed secrets (bridge sync, keys
	// rotate, reports approve). It refuses to run when the database
	// records a key it does not have, and never generates one.
	keysNeeded
	// keysSeal: it seals new secrets (bridge google set). It does not
	// refuse over a recorded key, since giving the credentials again is
	// how a lost key is replaced; on SQLite it generates the data
	// directory's key when there is none.
	keysSeal
	// keysInspect: it only reports (bridge status); it never generates.
	keysInspect
)

// keyFileProblem is the configuration key the problems with the keys are
// reported under.
const keyFileProblem = "encryption_key_file"

// openKeyring loads the keys that seal stored secrets: encryption_key_file,
// else $CREDENTIALS_DIRECTORY/encryption-key, else on SQLite only the key
// in the data directory; plus encryption_previous_keys. On PostgreSQL a key
// must be configured: replicas share it, so none is ever generated. It
// then checks that every key the database records is loaded.
func openKeyring(ctx context.Context, cfg configs.Config, getenv func(string) string, db scimbridge.Store, use keyUse) (*seal.Keyring, error) {
	recorded, err := db.SealingKeyIDs(ctx)
	if err != nil {
		return nil, err
	}
	generate := use == keysSeal || use == keysServe && len(recorded) == 0
	k, err := loadKeyring(cfg, getenv, generate)
	needed := use == keysServe || use == keysNeeded
	switch {
	case err != nil && needed && len(recorded) > 0:
		// Say which key is wanted as well as why none was loaded.
		ve := &configs.ValidationError{}
		if !errors.As(err, &ve) {
			ve = &configs.ValidationError{Problems: []configs.Problem{{Key: keyFileProblem, Message: err.Error()}}}
		}
		var missing *configs.ValidationError
		errors.As(checkSealingKeys(nil, recorded), &missing)
		return nil, &configs.ValidationError{Problems: append(slices.Clone(ve.Problems), missing.Problems...)}
	case err != nil:
		return nil, err
	case needed:
		if err := checkSealingKeys(k, recorded); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// loadKeyring loads the keys as openKeyring says, generating the data
// directory's key on SQLite when generate is set and there is none.
func loadKeyring(cfg configs.Config, getenv func(string) string, generate bool) (*seal.Keyring, error) {
	path := cfg.EncryptionKeyFile
	if path == "" {
		if dir := getenv("CREDENTIALS_DIRECTORY"); dir != "" {
			if p := filepath.Join(dir, seal.KeyFileName); fileExists(p) {
				path = p
			}
		}
	}
	if path == "" && cfg.DatabaseDialect() == "postgres" {
		return nil, keyProblem("required with PostgreSQL: set it (or give systemd's LoadCredential=%s:FILE) "+
			"to one key file, the same on every replica", seal.KeyFileName)
	}
	if path == "" {
		p := filepath.Join(cfg.DataDir, seal.KeyFileName)
		switch {
		case fileExists(p):
			path = p
		case generate:
			var err error
			if path, err = seal.EnsureKeyFile(cfg.DataDir); err != nil {
				return nil, fmt.Errorf("create encryption key: %w", err)
			}
		default:
			return nil, fmt.Errorf("no encryption key: set encryption_key_file or create %s", p)
		}
	}
	return seal.LoadKeyring(path, cfg.EncryptionPreviousKeys)
}

// checkSealingKeys refuses a keyring that lacks a key the database
// records, naming it.
func checkSealingKeys(k *seal.Keyring, recorded []string) error {
	missing := seal.MissingKeyIDs(k, recorded)
	if len(missing) == 0 {
		return nil
	}
	noun := "key " + missing[0] + ", which is"
	if len(missing) > 1 {
		noun = "keys " + strings.Join(missing, ", ") + ", which are"
	}
	loaded := "none"
	if k != nil {
		loaded = strings.Join(k.KeyIDs(), ", ")
	}
	return keyProblem("the database has secrets sealed with %s not loaded (keys loaded: %s): "+
		"configure it here or in encryption_previous_keys; every replica needs the same keys",
		noun, loaded)
}

func keyProblem(format string, args ...any) error {
	return &configs.ValidationError{Problems: []configs.Problem{{Key: keyFileProblem, Message: fmt.Sprintf(format, args...)}}}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, fs.ErrNotExist)
}
