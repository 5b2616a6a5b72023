package webauth

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/govlisten/govlisten/config"
)

// hashFor makes a users-file hash as `htpasswd -B` writes it ($2y$).
func hashFor(t *testing.T, password string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		t.Fatal(err)
	}
	return "$2y$" + strings.TrimPrefix(string(h), "$2a$")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// server serves a handler that answers with the signed-in user's name,
// behind the middleware for cfg.
func server(t *testing.T, cfg config.Auth, log *slog.Logger) *httptest.Server {
	t.Helper()
	mw, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "user="+User(r.Context()))
	})))
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	status int
	body   string
	header http.Header
}

func get(t *testing.T, url string, set func(*http.Request)) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		set(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, strings.TrimSpace(string(b)), resp.Header}
}

func basicAuth(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNone(t *testing.T) {
	srv := server(t, config.Auth{Mode: "none"}, nil)
	if r := get(t, srv.URL, nil); r.status != 200 || r.body != "user=" {
		t.Fatalf("mode none: %d %q", r.status, r.body)
	}
	if _, err := New(config.Auth{Mode: "ldap"}, nil); err == nil {
		t.Fatal("unknown mode: no error")
	}
}

func TestBasic(t *testing.T) {
	old := reloadEvery
	reloadEvery = 0
	t.Cleanup(func() { reloadEvery = old })
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	file := filepath.Join(t.TempDir(), "users")
	writeFile(t, file, "# dashboard users\nalice:"+hashFor(t, "correct horse", bcrypt.MinCost)+"\n\n")
	srv := server(t, config.Auth{Mode: "basic", UsersFile: file}, log)

	if r := get(t, srv.URL, basicAuth("alice", "correct horse")); r.status != 200 || r.body != "user=alice" {
		t.Fatalf("right password: %d %q", r.status, r.body)
	}
	for name, set := range map[string]func(*http.Request){
		"no credentials": nil,
		"wrong password": basicAuth("alice", "battery staple"),
		"unknown user":   basicAuth("mallory", "correct horse"),
		"empty password": basicAuth("alice", ""),
		"case of name":   basicAuth("Alice", "correct horse"),
	} {
		r := get(t, srv.URL, set)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm="govlisten", charset="UTF-8"` {
			t.Errorf("%s: %d, WWW-Authenticate %q; want 401 with the realm", name, r.status, r.header.Get("WWW-Authenticate"))
		}
	}
	if l := logs.String(); strings.Contains(l, "battery") || strings.Contains(l, "correct horse") || strings.Contains(l, "mallory") || strings.Contains(l, "$2") {
		t.Errorf("the log shows a password, hash or unknown name:\n%s", l)
	}
	if !strings.Contains(logs.String(), "wrong password") {
		t.Errorf("failed sign-in not logged:\n%s", logs.String())
	}

	// The file changes: a new user can sign in, a removed one cannot.
	writeFile(t, file, "bob:"+hashFor(t, "bob's password", bcrypt.MinCost)+"\n")
	future := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(file, future, future); err != nil {
		t.Fatal(err)
	}
	if r := get(t, srv.URL, basicAuth("bob", "bob's password")); r.status != 200 || r.body != "user=bob" {
		t.Fatalf("user added to the file: %d %q", r.status, r.body)
	}
	if r := get(t, srv.URL, basicAuth("alice", "correct horse")); r.status != 401 {
		t.Fatalf("user removed from the file still signs in (%d)", r.status)
	}
	// A broken file keeps the users in use, and says so.
	writeFile(t, file, "bob:plain-text-secret\n")
	future = future.Add(2 * time.Second)
	if err := os.Chtimes(file, future, future); err != nil {
		t.Fatal(err)
	}
	if r := get(t, srv.URL, basicAuth("bob", "bob's password")); r.status != 200 {
		t.Fatalf("a broken users file locked bob out (%d)", r.status)
	}
	if l := logs.String(); !strings.Contains(l, "cannot be used") || strings.Contains(l, "plain-text-secret") {
		t.Errorf("broken reload not logged, or logged with the secret:\n%s", l)
	}
}

// An unknown user costs a bcrypt comparison against a hash of the users'
// cost, like a known user with a wrong password, so the response time does
// not tell which names exist.
func TestBasicUnknownUserTakesTheSamePath(t *testing.T) {
	const cost = 6
	file := filepath.Join(t.TempDir(), "users")
	writeFile(t, file, "alice:"+hashFor(t, "correct horse", cost)+"\n")
	var (
		mu     sync.Mutex
		hashes []string
	)
	orig := compare
	compare = func(hash, password []byte) error {
		mu.Lock()
		hashes = append(hashes, string(hash))
		mu.Unlock()
		return orig(hash, password)
	}
	t.Cleanup(func() { compare = orig })
	srv := server(t, config.Auth{Mode: "basic", UsersFile: file}, nil)

	timeOf := func(user, pass string) time.Duration {
		var ds []time.Duration
		for range 5 {
			start := time.Now()
			if r := get(t, srv.URL, basicAuth(user, pass)); r.status != 401 {
				t.Fatalf("%s: %d, want 401", user, r.status)
			}
			ds = append(ds, time.Since(start))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[2]
	}
	known := timeOf("alice", "wrong")
	unknown := timeOf("nobody", "wrong")
	mu.Lock()
	defer mu.Unlock()
	if len(hashes) != 10 {
		t.Fatalf("%d bcrypt comparisons for 10 failed sign-ins, want 10", len(hashes))
	}
	for _, h := range hashes[5:] {
		c, err := bcrypt.Cost([]byte(h))
		if err != nil || c != cost || h == hashes[0] {
			t.Fatalf("unknown user compared against %.7s... (cost %d, %v); want a dummy hash of cost %d", h, c, err, cost)
		}
	}
	// Loose, so a loaded machine does not fail it: the same order of time.
	if unknown < known/3 {
		t.Errorf("unknown user answered in %s, a known one with a wrong password in %s", unknown, known)
	}
	t.Logf("median: known user, wrong password %s; unknown user %s", known, unknown)
	mu.Unlock()

	// A page's many requests cost one bcrypt: a success is remembered.
	for range 3 {
		if r := get(t, srv.URL, basicAuth("alice", "correct horse")); r.status != 200 {
			t.Fatalf("right password: %d", r.status)
		}
	}
	mu.Lock()
	if len(hashes) != 11 {
		t.Errorf("3 sign-ins with the right password cost %d bcrypt comparisons, want 1", len(hashes)-10)
	}
}

func TestBasicRefusesBadFiles(t *testing.T) {
	good := hashFor(t, "x", bcrypt.MinCost)
	for name, tc := range map[string]struct{ content, want string }{
		"plain text": {"alice:" + good + "\nbob:hunter2-secret\n", "line 2 (user bob): a plain-text password"},
		"MD5":        {"carol:$apr1$Vx4mUqRl$k5pEOhBnhrwQ9vDA5T9ve1\n", "line 1 (user carol): an MD5 hash"},
		"SHA1":       {"dave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "line 1 (user dave): a SHA-1 hash"},
		"crypt":      {"erin:rl0uE6BYzMCvg\n", "line 1 (user erin): a crypt(3) hash"},
		"broken":     {"frank:$2y$05$short\n", "line 1 (user frank): not a valid bcrypt hash"},
		"no colon":   {"\n\ngrace\n", "line 3: not name:bcrypt-hash"},
		"duplicate":  {"h:" + good + "\nh:" + good + "\n", "line 2: user h appears twice"},
		"empty":      {"# nobody\n", "no users"},
	} {
		file := filepath.Join(t.TempDir(), "users")
		writeFile(t, file, tc.content)
		_, err := New(config.Auth{Mode: "basic", UsersFile: file}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "$apr1$") || strings.Contains(err.Error(), "W6ph5") {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
	if _, err := New(config.Auth{Mode: "basic", UsersFile: filepath.Join(t.TempDir(), "missing")}, nil); err == nil {
		t.Error("missing users file: no error")
	}
	if _, err := New(config.Auth{Mode: "basic"}, nil); err == nil {
		t.Error("no users file: no error")
	}
}

func TestProxy(t *testing.T) {
	trusted := server(t, config.Auth{Mode: "proxy", ProxyHeader: "X-Forwarded-User", TrustedProxies: []string{"127.0.0.1", "::1/128"}}, nil)
	if r := get(t, trusted.URL, func(r *http.Request) { r.Header.Set("X-Forwarded-User", "alice@dwp.gov.uk") }); r.status != 200 || r.body != "user=alice@dwp.gov.uk" {
		t.Fatalf("from the proxy: %d %q", r.status, r.body)
	}
	if r := get(t, trusted.URL, nil); r.status != http.StatusUnauthorized {
		t.Errorf("from the proxy without the header: %d, want 401", r.status)
	}
	if r := get(t, trusted.URL, func(r *http.Request) { r.Header.Set("X-Forwarded-User", "  ") }); r.status != http.StatusUnauthorized {
		t.Errorf("blank header: %d, want 401", r.status)
	}
	if r := get(t, trusted.URL, func(r *http.Request) {
		r.Header.Add("X-Forwarded-User", "alice")
		r.Header.Add("X-Forwarded-User", "admin")
	}); r.status != http.StatusBadRequest {
		t.Errorf("two headers: %d, want 400", r.status)
	}
	if r := get(t, trusted.URL, func(r *http.Request) { r.Header.Set("X-Forwarded-User", "bad\u200bname") }); r.status != http.StatusBadRequest {
		t.Errorf("invisible character in the name: %d, want 400", r.status)
	}

	// The same request from an address that is not the proxy's: someone
	// setting the header themselves.
	outside := server(t, config.Auth{Mode: "proxy", ProxyHeader: "X-Forwarded-User", TrustedProxies: []string{"10.0.0.0/8"}}, nil)
	for name, set := range map[string]func(*http.Request){
		"spoofed header": func(r *http.Request) { r.Header.Set("X-Forwarded-User", "admin") },
		"spoofed chain": func(r *http.Request) {
			r.Header.Set("X-Forwarded-User", "admin")
			r.Header.Set("X-Forwarded-For", "10.1.2.3")
			r.Header.Set("X-Real-Ip", "10.1.2.3")
		},
		"no header": nil,
	} {
		if r := get(t, outside.URL, set); r.status != http.StatusForbidden || strings.Contains(r.body, "admin") {
			t.Errorf("%s from an untrusted address: %d %q, want 403", name, r.status, r.body)
		}
	}
	if _, err := New(config.Auth{Mode: "proxy", ProxyHeader: "X-User", TrustedProxies: []string{"proxy.local"}}, nil); err == nil {
		t.Error("a host name as trusted proxy: no error")
	}
	if _, err := New(config.Auth{Mode: "proxy", ProxyHeader: "X-User"}, nil); err == nil {
		t.Error("no trusted proxies: no error")
	}
}

func TestTrustsAddresses(t *testing.T) {
	p, err := newProxy(config.Auth{ProxyHeader: "X-User", TrustedProxies: []string{"127.0.0.1/32", "::1/128", "192.168.10.0/24"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"127.0.0.1:5000": true, "[::1]:5000": true, "[::ffff:127.0.0.1]:80": true, "192.168.10.77:1": true,
		"192.168.11.1:1": false, "127.0.0.2:1": false, "[::2]:1": false, "": false, "garbage": false, "127.0.0.1": false,
	} {
		if got := p.trusts(addr); got != want {
			t.Errorf("trusts(%q) = %v, want %v", addr, got, want)
		}
	}
}

// The middleware wraps only what the caller gives it: probes and metrics
// stay outside.
func ExampleNew() {
	mw, err := New(config.Auth{Mode: "proxy", ProxyHeader: "X-Forwarded-User", TrustedProxies: []string{"127.0.0.1/32"}}, nil)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.Handle("/", mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+User(r.Context()))
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/healthz", "/"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(path, resp.Status)
	}
	// Output:
	// /healthz 200 OK
	// / 401 Unauthorized
}
