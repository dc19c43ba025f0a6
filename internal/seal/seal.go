// Package seal encrypts the Google bridge credentials at rest. Each sealed
// value is AES-256-GCM under a 32-byte key, records the id of that key, and
// binds the organization id as associated data, so a ciphertext copied to
// another organization does not open. Previous keys still decrypt; re-sealing
// under the current key is how keys are rotated.
//
// Sealed layout (binary):
//
//	version (1 byte, 1) | key id (4 bytes) | nonce (12 bytes) | ciphertext+tag
//
// The associated data is the 5 header bytes followed by the organization id.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// KeySize is the size of an encryption key in bytes.
const KeySize = 32

// KeyFileName is the name of the key EnsureKeyFile generates in the data
// directory (and the name systemd's LoadCredential= should use).
const KeyFileName = "encryption-key"

const (
	formatVersion = 1
	keyIDLen      = 4
	headerLen     = 1 + keyIDLen
)

// ErrCannotDecrypt is returned (wrapped) by Open when the sealed value cannot
// be opened: its key is not loaded, it was sealed for another organization,
// or it was altered. The bridge shows it as its status.
var ErrCannotDecrypt = errors.New("cannot decrypt credentials")

type key struct {
	id   [keyIDLen]byte
	aead cipher.AEAD
}

// Keyring holds the current key, which seals, and previous keys, which only
// open. It is safe for concurrent use: it is never modified after loading.
type Keyring struct {
	current  *key
	previous []*key
}

// LoadKeyring reads the current key file and any previous key files. A key
// file holds exactly 32 raw bytes, or the standard base64 encoding of 32 bytes
// (44 characters; surrounding whitespace is ignored).
func LoadKeyring(currentKeyFile string, previousKeyFiles []string) (*Keyring, error) {
	if currentKeyFile == "" {
		return nil, errors.New("load keyring: no encryption key file")
	}
	cur, err := readKey(currentKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load keyring: %w", err)
	}
	raws := make([][]byte, 0, len(previousKeyFiles))
	for _, f := range previousKeyFiles {
		if f == "" {
			continue
		}
		raw, err := readKey(f)
		if err != nil {
			return nil, fmt.Errorf("load keyring: %w", err)
		}
		raws = append(raws, raw)
	}
	return NewKeyring(cur, raws...)
}

// NewKeyring builds a keyring from raw 32-byte keys: current seals and opens,
// previous only open.
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	cur, err := newKey(current)
	if err != nil {
		return nil, fmt.Errorf("new keyring: current key: %w", err)
	}
	k := &Keyring{current: cur}
	seen := map[[keyIDLen]byte]bool{cur.id: true}
	for i, raw := range previous {
		pk, err := newKey(raw)
		if err != nil {
			return nil, fmt.Errorf("new keyring: previous key %d: %w", i+1, err)
		}
		if seen[pk.id] {
			continue
		}
		seen[pk.id] = true
		k.previous = append(k.previous, pk)
	}
	return k, nil
}

// KeyID returns the id of the current key: the first 8 hex characters of the
// SHA-256 of the key.
func (k *Keyring) KeyID() string { return hex.EncodeToString(k.current.id[:]) }

// KeyIDs returns the ids of every loaded key, current first.
func (k *Keyring) KeyIDs() []string {
	ids := []string{k.KeyID()}
	for _, p := range k.previous {
		ids = append(ids, hex.EncodeToString(p.id[:]))
	}
	return ids
}

// Seal encrypts plaintext for the organization under the current key.
func (k *Keyring) Seal(orgID string, plaintext []byte) ([]byte, error) {
	if orgID == "" {
		return nil, errors.New("seal credentials: empty organization id")
	}
	aead := k.current.aead
	out := make([]byte, headerLen+aead.NonceSize(), headerLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = formatVersion
	copy(out[1:headerLen], k.current.id[:])
	nonce := out[headerLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal credentials: read nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, associatedData(out[:headerLen], orgID)), nil
}

// Open decrypts a value sealed for the organization with the current or a
// previous key. Any failure wraps ErrCannotDecrypt.
func (k *Keyring) Open(orgID string, sealed []byte) ([]byte, error) {
	id, err := sealedKeyID(sealed)
	if err != nil {
		return nil, err
	}
	kk := k.find(id)
	if kk == nil {
		return nil, fmt.Errorf("%w: key %s is not loaded", ErrCannotDecrypt, hex.EncodeToString(id[:]))
	}
	ns := kk.aead.NonceSize()
	if len(sealed) < headerLen+ns+kk.aead.Overhead() {
		return nil, fmt.Errorf("%w: sealed value too short", ErrCannotDecrypt)
	}
	nonce := sealed[headerLen : headerLen+ns]
	plain, err := kk.aead.Open(nil, nonce, sealed[headerLen+ns:], associatedData(sealed[:headerLen], orgID))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrCannotDecrypt)
	}
	return plain, nil
}

// NeedsReseal reports whether sealed was not sealed under the current key
// (including values that cannot be parsed at all).
func (k *Keyring) NeedsReseal(sealed []byte) bool {
	id, err := sealedKeyID(sealed)
	return err != nil || id != k.current.id
}

// Reseal opens sealed and seals the plaintext again under the current key.
func (k *Keyring) Reseal(orgID string, sealed []byte) ([]byte, error) {
	plain, err := k.Open(orgID, sealed)
	if err != nil {
		return nil, fmt.Errorf("reseal credentials: %w", err)
	}
	defer clear(plain)
	return k.Seal(orgID, plain)
}

// SealedKeyID returns the id of the key a value was sealed with.
func SealedKeyID(sealed []byte) (string, error) {
	id, err := sealedKeyID(sealed)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(id[:]), nil
}

// EnsureKeyFile returns <dataDir>/encryption-key, generating a random 32-byte
// key there (mode 0600) when none exists. An existing file is left as is.
func EnsureKeyFile(dataDir string) (string, error) {
	path := filepath.Join(dataDir, KeyFileName)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("ensure key file: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("ensure key file: %w", err)
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("ensure key file: read random: %w", err)
	}
	// Write a temporary file and link it into place: the key path never
	// holds a partial key, and a concurrent creator's key wins intact.
	tmp, err := os.CreateTemp(dataDir, "."+KeyFileName+"-*")
	if err != nil {
		return "", fmt.Errorf("ensure key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("ensure key file: %w", err)
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return "", fmt.Errorf("ensure key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("ensure key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("ensure key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("ensure key file: %w", err)
	}
	return path, nil
}

func (k *Keyring) find(id [keyIDLen]byte) *key {
	if k.current.id == id {
		return k.current
	}
	for _, p := range k.previous {
		if p.id == id {
			return p
		}
	}
	return nil
}

func sealedKeyID(sealed []byte) ([keyIDLen]byte, error) {
	var id [keyIDLen]byte
	if len(sealed) < headerLen {
		return id, fmt.Errorf("%w: sealed value too short", ErrCannotDecrypt)
	}
	if sealed[0] != formatVersion {
		return id, fmt.Errorf("%w: unknown format version %d", ErrCannotDecrypt, sealed[0])
	}
	copy(id[:], sealed[1:headerLen])
	return id, nil
}

func associatedData(header []byte, orgID string) []byte {
	ad := make([]byte, 0, len(header)+len(orgID))
	ad = append(ad, header...)
	return append(ad, orgID...)
}

func newKey(raw []byte) (*key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	k := &key{aead: aead}
	copy(k.id[:], sum[:keyIDLen])
	return k, nil
}

func readKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	raw, err := decodeKey(data)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	return raw, nil
}

// decodeKey accepts exactly 32 raw bytes or 44 characters of standard base64.
func decodeKey(data []byte) ([]byte, error) {
	if len(data) == KeySize {
		return data, nil
	}
	text := bytes.TrimSpace(data)
	if len(text) == base64.StdEncoding.EncodedLen(KeySize) {
		raw := make([]byte, KeySize+2)
		n, err := base64.StdEncoding.Decode(raw, text)
		if err == nil && n == KeySize {
			return raw[:n], nil
		}
	}
	return nil, fmt.Errorf("want exactly %d raw bytes or %d characters of base64, got %d bytes",
		KeySize, base64.StdEncoding.EncodedLen(KeySize), len(data))
}

// Explain says which key a value needs and which are loaded, for the
// "cannot decrypt credentials" status: "needs key 1a2b3c4d; keys loaded:
// 5e6f7a8b". k may be nil (no key loaded).
func Explain(k *Keyring, sealed []byte) string {
	need := "a key it cannot name (the value is not sealed)"
	if id, err := SealedKeyID(sealed); err == nil {
		need = "key " + id
	}
	loaded := "none"
	if k != nil {
		loaded = strings.Join(k.KeyIDs(), ", ")
	}
	return "needs " + need + "; keys loaded: " + loaded
}

// MissingKeyIDs returns the ids among want that k does not hold (all of
// them when k is nil).
func MissingKeyIDs(k *Keyring, want []string) []string {
	var have []string
	if k != nil {
		have = k.KeyIDs()
	}
	var missing []string
	for _, id := range want {
		if !slices.Contains(have, id) {
			missing = append(missing, id)
		}
	}
	return missing
}
