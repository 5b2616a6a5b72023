// Package privacy pseudonymises the authors of mentions before they are
// stored, so that analysts can still count and follow an author ("the same
// account posted 40 times today") without the store holding who it is.
//
// A Pseudonymiser replaces an author id or handle with a keyed hash:
// HMAC-SHA-256 (crypto/hmac, crypto/sha256 from the standard library: the
// well-reviewed construction for a keyed, one-way, deterministic mapping;
// a plain hash would be reversible by hashing every known handle), truncated
// to 100 bits and written as "p_" followed by 20 lower-case base32
// characters, so a pseudonym is recognisable wherever it turns up. The
// input is normalised first — surrounding spaces and one leading '@'
// removed, lower-cased — so "@Foo", "foo" and "FOO" are one author. Ids go
// through the same normalisation: X and Facebook ids are digits, and two
// YouTube channel ids differing only in case do not occur in practice.
//
// Without the key nobody can tell who a pseudonym stands for, and with it
// only by guessing: erasure requests are looked up with Author. Losing or
// changing the key makes every later pseudonym differ from the stored ones
// (counts per author then split at the change); keep it like any other
// secret, outside the configuration file.
//
// Apply also clears the display name, makes the permalink stop naming the
// author, and scrubs the author fields inside the platform's original JSON
// (mention.Raw) — every author there, not only the mention's own, so a
// YouTube thread's replies are pseudonymised too. @handles written in the
// text are what the author said about someone else and stay as they are.
// A raw value that cannot be parsed is dropped rather than stored
// unscrubbed.
//
// The package never logs and never puts the key in an error.
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// MinKeyBytes is the shortest key New accepts: 256 bits, HMAC-SHA-256's
// own strength. `openssl rand -base64 48` makes a good one.
const MinKeyBytes = 32

// Prefix starts every pseudonym.
const Prefix = "p_"

// pseudonymChars is the length of a pseudonym after Prefix: 20 base32
// characters carry 100 bits, ample against collisions among the accounts
// one deployment ever sees.
const pseudonymChars = 20

// domain separates this use of the key from any other.
const domain = "govlisten/author/v1\x00"

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrNoKey is returned by Load when pseudonymisation is on and no key is set.
var ErrNoKey = errors.New("privacy.pseudonymise is on but no key is set")

// Pseudonymiser maps authors to pseudonyms with one key. It is safe for
// concurrent use. A nil *Pseudonymiser leaves mentions unchanged, so callers
// can hold one whether pseudonymisation is on or off.
type Pseudonymiser struct {
	key []byte
}

// New returns a Pseudonymiser for key, which must be at least MinKeyBytes
// long. The error never contains the key.
func New(key []byte) (*Pseudonymiser, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("privacy key is %d bytes; it must be at least %d (e.g. openssl rand -base64 48)", len(key), MinKeyBytes)
	}
	return &Pseudonymiser{key: append([]byte(nil), key...)}, nil
}

// Load returns the Pseudonymiser configured in cfg.Privacy: nil when
// privacy.pseudonymise is off, an error naming the setting when it is on and
// the key (privacy.key_env, else privacy.key_file, via config.Secret) is
// missing or too short. Processors must refuse to start on that error.
func Load(cfg config.Privacy, getenv func(string) string) (*Pseudonymiser, error) {
	if !cfg.Pseudonymise {
		return nil, nil
	}
	key, err := config.Secret(getenv, cfg.KeyEnv, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("privacy.key_file: %w", err)
	}
	if key == "" {
		return nil, fmt.Errorf("%w: set %s or privacy.key_file", ErrNoKey, keySource(cfg))
	}
	p, err := New([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keySource(cfg), err)
	}
	return p, nil
}

func keySource(cfg config.Privacy) string {
	if cfg.KeyEnv != "" {
		return "privacy.key_env (" + cfg.KeyEnv + ")"
	}
	return "privacy.key_file"
}

// Normalise is how an author id or handle is compared: surrounding spaces
// and one leading '@' removed, lower-cased.
func Normalise(idOrHandle string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(idOrHandle), "@"))
}

// IsPseudonym says whether s has the shape of a pseudonym.
func IsPseudonym(s string) bool {
	if len(s) != len(Prefix)+pseudonymChars || !strings.HasPrefix(s, Prefix) {
		return false
	}
	for _, c := range s[len(Prefix):] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// Author returns the pseudonym of an author id or handle (normalised
// first, see Normalise), "" for "". A value that already is a pseudonym is
// returned as it is, so Apply may run twice and an erasure may be asked
// for by pseudonym. On a nil Pseudonymiser it returns idOrHandle unchanged.
func (p *Pseudonymiser) Author(idOrHandle string) string {
	if p == nil {
		return idOrHandle
	}
	n := Normalise(idOrHandle)
	if n == "" {
		return ""
	}
	if IsPseudonym(n) {
		return n
	}
	h := hmac.New(sha256.New, p.key)
	h.Write([]byte(domain))
	h.Write([]byte(n))
	sum := h.Sum(nil)
	return Prefix + strings.ToLower(encoding.EncodeToString(sum[:13]))[:pseudonymChars]
}

// Apply pseudonymises m in place: AuthorID and AuthorHandle become their
// pseudonyms, AuthorName is cleared, a permalink that names the author no
// longer does, and the author fields inside m.Raw are scrubbed (see the
// package comment); m.Raw is dropped when it is not valid JSON. Text,
// tags and everything else stay. A nil Pseudonymiser does nothing.
//
// Call it after tagging (rules such as author:handle match the real
// handle) and before the mention is stored.
func (p *Pseudonymiser) Apply(m *mention.Mention) {
	if p == nil || m == nil {
		return
	}
	own := ownAuthor{id: Normalise(m.AuthorID), handle: Normalise(m.AuthorHandle)}
	m.URL = p.scrubURL(m.URL, m.Platform, own)
	if len(m.Raw) > 0 {
		m.Raw = p.scrubRaw(m.Raw, own)
	}
	m.AuthorID = p.Author(m.AuthorID)
	m.AuthorHandle = p.Author(m.AuthorHandle)
	m.AuthorName = ""
}

// ownAuthor is the mention's author as the platform gave it, normalised.
type ownAuthor struct{ id, handle string }

func (o ownAuthor) is(s string) bool {
	n := Normalise(s)
	return n != "" && (n == o.id || n == o.handle)
}

// scrubURL rewrites a URL so that it no longer names the author: an X
// permalink https://x.com/<handle>/status/<id> becomes the equivalent
// https://x.com/i/web/status/<id>; elsewhere a path segment or query value
// naming the author is replaced by the pseudonym (the link then no longer
// resolves, which is the point). A URL that does not parse is dropped.
func (p *Pseudonymiser) scrubURL(s, platform string, own ownAuthor) string {
	if s == "" || own.id == "" && own.handle == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	changed := false
	segs := strings.Split(u.Path, "/")
	for i, seg := range segs {
		if !own.is(seg) {
			continue
		}
		changed = true
		if platform == mention.Twitter && i+1 < len(segs) && segs[i+1] == "status" {
			segs[i] = "i/web"
		} else {
			segs[i] = p.Author(seg)
		}
	}
	if changed {
		u.Path = strings.Join(segs, "/")
		u.RawPath = ""
	}
	q := u.Query()
	qChanged := false
	for k, vs := range q {
		for i, v := range vs {
			if own.is(v) {
				vs[i] = p.Author(v)
				qChanged = true
			}
		}
		q[k] = vs
	}
	if qChanged {
		u.RawQuery = q.Encode()
	}
	if !changed && !qChanged {
		return s
	}
	return u.String()
}
