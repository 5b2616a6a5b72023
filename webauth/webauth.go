// Package webauth guards the dashboard: who may see it, and under which
// name their requests are logged. New returns an HTTP middleware for one of
// three modes (config http.auth.mode):
//
//   - none: everyone (fine on loopback, or behind something that already
//     restricts access);
//   - basic: HTTP basic authentication against a users file of
//     "name:bcrypt-hash" lines, as `htpasswd -B` writes them;
//   - proxy: a reverse proxy (oauth2-proxy, Apache, nginx with an SSO
//     module) authenticates and passes the user's name in a header, which is
//     believed only from the configured proxy addresses.
//
// Passwords are checked with golang.org/x/crypto/bcrypt, the Go project's
// own implementation of the scheme htpasswd -B writes: nothing hand-rolled
// touches a password. MD5 ($apr1$), SHA-1 ({SHA}), crypt and plain-text
// entries are refused with the line number, because they are cheap to
// crack if the file leaks. An unknown user is checked against a dummy hash
// of the same cost, so the answer takes as long as for a wrong password and
// does not tell which names exist. A successful check is remembered for a
// few minutes (keyed by an HMAC of name, password and hash under a random
// per-process key) so a dashboard page's many requests do not each cost a
// bcrypt. The users file is read again when its modification time or size
// changes (checked at most once a second); a file that no longer parses is
// logged and the users already loaded stay.
//
// The middleware guards whatever it wraps, nothing else: the caller mounts
// /healthz, /readyz and /metrics outside it (probes and Prometheus do not
// log in), and wraps only the dashboard:
//
//	mw, err := webauth.New(cfg.HTTP.Auth, log)
//	mux.Handle("/healthz", health)
//	mux.Handle("/metrics", metrics)
//	mux.Handle("/", mw(dashboard))
//
// Handlers read the signed-in name with User(r.Context()), never from the
// request's headers. Passwords and hashes are never logged; a failed login
// is logged with the remote address and the name only when the name is a
// known user (a name typed in the wrong box may be a password).
package webauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/govlisten/govlisten/config"
)

type userKey struct{}

// User is the authenticated user's name, "" when there is none (mode none,
// or a request that did not pass through the middleware).
func User(ctx context.Context) string {
	s, _ := ctx.Value(userKey{}).(string)
	return s
}

// WithUser returns ctx carrying the user's name, as the middleware does.
func WithUser(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, userKey{}, name)
}

// Realm is the basic-auth realm browsers show.
const Realm = "govlisten"

// New returns the middleware for cfg. It fails on an unknown mode, a users
// file that cannot be read or holds a bad line (the error names the line),
// or a trusted proxy that is not an address or CIDR. log receives failed
// logins and reload problems.
func New(cfg config.Auth, log *slog.Logger) (func(http.Handler) http.Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch cfg.Mode {
	case "", "none":
		return func(h http.Handler) http.Handler { return h }, nil
	case "basic":
		b, err := newBasic(cfg.UsersFile, log)
		if err != nil {
			return nil, err
		}
		return b.wrap, nil
	case "proxy":
		p, err := newProxy(cfg, log)
		if err != nil {
			return nil, err
		}
		return p.wrap, nil
	}
	return nil, fmt.Errorf("http.auth.mode: %q is not none, basic or proxy", cfg.Mode)
}

// proxy trusts a header set by a reverse proxy at a trusted address.
type proxy struct {
	header  string
	trusted []netip.Prefix
	log     *slog.Logger
}

func newProxy(cfg config.Auth, log *slog.Logger) (*proxy, error) {
	p := &proxy{header: http.CanonicalHeaderKey(cfg.ProxyHeader), log: log}
	if p.header == "" {
		return nil, errors.New("http.auth.proxy_header: proxy auth needs the header the proxy sets")
	}
	for _, s := range cfg.TrustedProxies {
		pre, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("http.auth.trusted_proxies: %q is not an address or CIDR", s)
			}
			pre = netip.PrefixFrom(a, a.BitLen())
		}
		p.trusted = append(p.trusted, pre.Masked())
	}
	if len(p.trusted) == 0 {
		return nil, errors.New("http.auth.trusted_proxies: proxy auth needs the proxies' addresses")
	}
	return p, nil
}

// trusts says whether the request comes straight from a trusted proxy. Only
// the connection's address counts: X-Forwarded-For is written by clients too.
func (p *proxy) trusts(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, pre := range p.trusted {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

func (p *proxy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.trusts(r.RemoteAddr) {
			p.log.Warn("dashboard request refused: not from a trusted proxy", "remote", r.RemoteAddr, "with_header", r.Header.Get(p.header) != "")
			http.Error(w, "forbidden: requests must come through the authenticating proxy", http.StatusForbidden)
			return
		}
		vals := r.Header.Values(p.header)
		switch {
		case len(vals) == 0 || strings.TrimSpace(vals[0]) == "":
			http.Error(w, "not signed in: the proxy sent no "+p.header, http.StatusUnauthorized)
			return
		case len(vals) > 1:
			http.Error(w, "bad request: more than one "+p.header, http.StatusBadRequest)
			return
		}
		name := strings.TrimSpace(vals[0])
		if !validName(name) {
			http.Error(w, "bad request: "+p.header+" is not a user name", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), name)))
	})
}

// validName: printable UTF-8, at most 256 bytes.
func validName(s string) bool {
	if s == "" || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}
