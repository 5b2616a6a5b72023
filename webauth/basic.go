package webauth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Tunables, variables so tests can shorten them.
var (
	// reloadEvery is how often, at most, the users file is looked at.
	reloadEvery = time.Second
	// cacheFor is how long a successful password check is remembered.
	cacheFor = 5 * time.Minute
	// compare checks a password; tests count its calls.
	compare = bcrypt.CompareHashAndPassword
)

// cacheMax bounds the remembered checks; the cache is emptied when full.
const cacheMax = 1024

// basic is HTTP basic authentication against a users file.
type basic struct {
	path string
	log  *slog.Logger

	mu    sync.RWMutex
	users map[string][]byte // name -> bcrypt hash
	dummy []byte            // hash of a random password, at the users' cost
	stamp fileStamp

	lastLook atomic.Int64 // unix nanoseconds of the last stat
	reloadMu sync.Mutex

	cacheMu  sync.Mutex
	cache    map[[32]byte]time.Time
	cacheKey [32]byte
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func newBasic(path string, log *slog.Logger) (*basic, error) {
	if path == "" {
		return nil, errors.New("http.auth.users_file: basic auth needs a users file (lines of name:bcrypt-hash, htpasswd -B)")
	}
	b := &basic{path: path, log: log, cache: map[[32]byte]time.Time{}}
	if _, err := rand.Read(b.cacheKey[:]); err != nil {
		return nil, err
	}
	if err := b.load(); err != nil {
		return nil, err
	}
	b.lastLook.Store(time.Now().UnixNano())
	return b, nil
}

// load reads the users file and, if it is good, puts it in use.
func (b *basic) load() error {
	st, err := os.Stat(b.path)
	if err != nil {
		return fmt.Errorf("http.auth.users_file: %w", err)
	}
	data, err := os.ReadFile(b.path)
	if err != nil {
		return fmt.Errorf("http.auth.users_file: %w", err)
	}
	users, cost, err := parseUsers(data)
	if err != nil {
		return fmt.Errorf("http.auth.users_file %s: %w", b.path, err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	dummy, err := bcrypt.GenerateFromPassword(secret, cost)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.users, b.dummy, b.stamp = users, dummy, fileStamp{st.ModTime(), st.Size()}
	b.mu.Unlock()
	b.cacheMu.Lock()
	clear(b.cache)
	b.cacheMu.Unlock()
	return nil
}

// parseUsers reads "name:hash" lines; blank lines and # comments are
// skipped. It returns the users and the highest bcrypt cost among them.
// Errors name the line and the user, never the hash or password.
func parseUsers(data []byte) (map[string][]byte, int, error) {
	users := map[string][]byte{}
	cost := bcrypt.MinCost
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok || name == "" {
			return nil, 0, fmt.Errorf("line %d: not name:bcrypt-hash", n)
		}
		if !validName(name) {
			return nil, 0, fmt.Errorf("line %d: the user name is not printable text", n)
		}
		if kind := weakHash(hash); kind != "" {
			return nil, 0, fmt.Errorf("line %d (user %s): %s is refused; write a bcrypt hash with htpasswd -B", n, name, kind)
		}
		c, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return nil, 0, fmt.Errorf("line %d (user %s): not a valid bcrypt hash", n, name)
		}
		if _, dup := users[name]; dup {
			return nil, 0, fmt.Errorf("line %d: user %s appears twice", n, name)
		}
		users[name] = []byte(hash)
		cost = max(cost, c)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	if len(users) == 0 {
		return nil, 0, errors.New("no users")
	}
	return users, cost, nil
}

// weakHash names a hash scheme that is not bcrypt, "" for bcrypt.
func weakHash(h string) string {
	switch {
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		return ""
	case strings.HasPrefix(h, "$apr1$"), strings.HasPrefix(h, "$1$"):
		return "an MD5 hash"
	case strings.HasPrefix(h, "{SHA}"):
		return "a SHA-1 hash"
	case strings.HasPrefix(h, "$5$"), strings.HasPrefix(h, "$6$"):
		return "a SHA-crypt hash"
	case strings.HasPrefix(h, "$"):
		return "an unknown hash scheme"
	case len(h) == 13:
		return "a crypt(3) hash or a plain-text password"
	}
	return "a plain-text password"
}

// maybeReload reads the users file again when it changed, at most once
// per reloadEvery. A file that no longer parses keeps the users in use.
func (b *basic) maybeReload() {
	now := time.Now().UnixNano()
	last := b.lastLook.Load()
	if now-last < int64(reloadEvery) || !b.lastLook.CompareAndSwap(last, now) {
		return
	}
	b.reloadMu.Lock()
	defer b.reloadMu.Unlock()
	st, err := os.Stat(b.path)
	if err != nil {
		b.log.Error("users file unreadable; keeping the users already loaded", "file", b.path, "err", err)
		return
	}
	b.mu.RLock()
	same := b.stamp == fileStamp{st.ModTime(), st.Size()}
	b.mu.RUnlock()
	if same {
		return
	}
	if err := b.load(); err != nil {
		b.log.Error("users file changed but cannot be used; keeping the users already loaded", "err", err)
		return
	}
	b.log.Info("users file reloaded", "file", b.path)
}

// check says whether name and password are a user's. It costs one bcrypt
// comparison whether or not the user exists, unless a recent identical
// successful check is remembered.
func (b *basic) check(name, password string) (known, ok bool) {
	b.maybeReload()
	b.mu.RLock()
	hash, known := b.users[name]
	dummy := b.dummy
	b.mu.RUnlock()
	if !known {
		hash = dummy
	}
	key := b.key(name, password, hash)
	if known && b.remembered(key) {
		return true, true
	}
	good := compare(hash, []byte(password)) == nil
	if good && known {
		b.remember(key)
		return true, true
	}
	return known, false
}

func (b *basic) key(name, password string, hash []byte) [32]byte {
	m := hmac.New(sha256.New, b.cacheKey[:])
	for _, p := range [][]byte{[]byte(name), []byte(password), hash} {
		m.Write([]byte{byte(len(p) >> 24), byte(len(p) >> 16), byte(len(p) >> 8), byte(len(p))})
		m.Write(p)
	}
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}

// remembered looks k up. The keys are HMACs under a key of this process,
// so how long a lookup takes tells nothing about any password.
func (b *basic) remembered(k [32]byte) bool {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	until, ok := b.cache[k]
	return ok && time.Now().Before(until)
}

func (b *basic) remember(k [32]byte) {
	b.cacheMu.Lock()
	defer b.cacheMu.Unlock()
	if len(b.cache) >= cacheMax {
		clear(b.cache)
	}
	b.cache[k] = time.Now().Add(cacheFor)
}

func (b *basic) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, password, given := r.BasicAuth()
		if given {
			known, ok := b.check(name, password)
			if ok {
				next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), name)))
				return
			}
			if known {
				b.log.Warn("dashboard sign-in failed: wrong password", "user", name, "remote", r.RemoteAddr)
			} else {
				b.log.Warn("dashboard sign-in failed: unknown user", "remote", r.RemoteAddr)
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`", charset="UTF-8"`)
		http.Error(w, "sign in to see the dashboard", http.StatusUnauthorized)
	})
}
