package facebook

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
)

func TestUsageGate(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	app := func(v string) http.Header { return http.Header{"X-App-Usage": {v}} }
	tests := []struct {
		name    string
		headers []http.Header // observed in turn, one second apart
		wait    time.Duration // check at the last observation's time
		pace    time.Duration
	}{
		{name: "low", headers: []http.Header{app(`{"call_count":28,"total_cputime":9,"total_time":12}`)}},
		{name: "no headers keep the state", headers: []http.Header{app(`{"call_count":99}`), {}}, wait: time.Minute - time.Second},
		{name: "pacing at 87.5%", headers: []http.Header{app(`{"call_count":10,"total_cputime":87.5,"total_time":12}`)}, pace: maxPace / 2},
		{name: "page usage counts", headers: []http.Header{{"X-Page-Usage": {`{"call_count":95,"total_cputime":1,"total_time":1}`}}}, wait: time.Minute},
		{name: "backoff doubles while high", headers: []http.Header{app(`{"call_count":96}`), app(`{"call_count":97}`)}, wait: 2 * time.Minute},
		{name: "backoff is capped", headers: []http.Header{
			app(`{"call_count":96}`), app(`{"call_count":96}`), app(`{"call_count":96}`), app(`{"call_count":96}`), app(`{"call_count":96}`), app(`{"call_count":96}`),
		}, wait: maxBackoff},
		{name: "backoff resets when usage falls", headers: []http.Header{app(`{"call_count":96}`), app(`{"call_count":50}`), app(`{"call_count":96}`)}, wait: time.Minute},
		{name: "regain time wins", headers: []http.Header{{
			"X-Business-Use-Case-Usage": {`{"100000000000001":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":18,"estimated_time_to_regain_access":7}]}`},
			"X-App-Usage":               {`{"call_count":5}`},
		}}, wait: 7*time.Minute + minuteSlack},
		{name: "regain time in fractions", headers: []http.Header{{
			"X-Business-Use-Case-Usage": {`{"1":[{"type":"pages","call_count":96,"estimated_time_to_regain_access":0.05}]}`},
		}}, wait: 3*time.Second + minuteSlack},
		{name: "garbage headers are ignored", headers: []http.Header{app(`{"call_count":"lots"`), {"X-Business-Use-Case-Usage": {`[]`}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g usageGate
			var at time.Time
			for i, h := range tt.headers {
				at = t0.Add(time.Duration(i) * time.Second)
				g.observe(h, at)
			}
			wait, pace, why := g.check(at)
			if wait != tt.wait || pace != tt.pace {
				t.Errorf("wait %v, pace %v (%s); want %v, %v", wait, pace, why, tt.wait, tt.pace)
			}
			if wait > 0 && !strings.Contains(why, "%") {
				t.Errorf("reason %q does not say the usage", why)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	c := &client{token: testToken}
	tests := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
		want   string
	}{
		{"throttled page", 400, `{"error":{"message":"(#80001) too many calls","type":"OAuthException","code":80001,"is_transient":true}}`, isRateLimit(throttleWait), "rate limit 60s"},
		{"throttled app", 403, `{"error":{"code":4,"message":"(#4) Application request limit reached"}}`, isRateLimit(throttleWait), "rate limit 60s"},
		{"throttled user", 400, `{"error":{"code":17}}`, isRateLimit(throttleWait), "rate limit 60s"},
		{"throttled custom", 400, `{"error":{"code":613}}`, isRateLimit(throttleWait), "rate limit 60s"},
		{"application limit", 400, `{"error":{"code":341}}`, isRateLimit(throttleWait), "rate limit 60s"},
		{"policy block", 400, `{"error":{"code":368,"message":"temporarily blocked"}}`, isRateLimit(time.Hour), "rate limit 1h"},
		{"expired token", 400, `{"error":{"code":190,"error_subcode":463,"message":"Session has expired"}}`, isAuth, "ErrAuth"},
		{"password changed", 401, `{"error":{"code":190,"error_subcode":460}}`, isAuth, "ErrAuth"},
		{"no token", 400, `{"error":{"code":104}}`, isAuth, "ErrAuth"},
		{"proxy 401", 401, `Unauthorized`, isAuth, "ErrAuth"},
		{"deleted object", 400, `{"error":{"code":100,"error_subcode":33}}`, isPermanent, "permanent"},
		{"permission", 403, `{"error":{"code":10,"message":"(#10) Permission denied"}}`, isPermanent, "permanent"},
		{"permission 2xx code", 403, `{"error":{"code":283}}`, isPermanent, "permanent"},
		{"unknown 4xx code", 400, `{"error":{"code":12345}}`, isPermanent, "permanent"},
		{"unknown transient", 400, `{"error":{"code":12345,"is_transient":true}}`, isTransient, "transient"},
		{"server 1", 500, `{"error":{"code":1,"message":"An unknown error occurred"}}`, isTransient, "transient"},
		{"server 2", 500, `{"error":{"code":2,"is_transient":true}}`, isTransient, "transient"},
		{"proxy 502", 502, `<html>Bad Gateway</html>`, isTransient, "transient"},
		{"proxy 429", 429, `slow down`, isRateLimit(throttleWait), "rate limit 60s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.classify("/100000000000001/feed", tt.status, []byte(tt.body))
			if !tt.check(err) {
				t.Errorf("%v (%T): want %s", err, err, tt.want)
			}
		})
	}
	// A message that echoes the token is redacted.
	err := c.classify("/x/feed", 400, []byte(`{"error":{"code":190,"message":"Malformed access token `+testToken+`"}}`))
	if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("token not redacted: %v", err)
	}
}

func isRateLimit(wait time.Duration) func(error) bool {
	return func(err error) bool {
		var rl *collectors.RateLimitError
		return errors.As(err, &rl) && rl.Wait == wait
	}
}

func isAuth(err error) bool { return errors.Is(err, collectors.ErrAuth) }

func isPermanent(err error) bool {
	var pe *collectors.PermanentError
	return errors.As(err, &pe) && !errors.Is(err, collectors.ErrAuth)
}

func isTransient(err error) bool {
	var rl *collectors.RateLimitError
	return err != nil && !errors.As(err, &rl) && !isPermanent(err) && !isAuth(err)
}

func TestNew(t *testing.T) {
	noEnv := func(string) string { return "" }
	cfg := config.Default()
	_, err := New(&cfg, noEnv, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "GOVLISTEN_FACEBOOK_ACCESS_TOKEN") {
		t.Errorf("no token: %v, want an error naming the variable", err)
	}

	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Facebook.AccessTokenFile = file
	c, err := New(&cfg, noEnv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.client.token != testToken || c.client.base != "https://graph.facebook.com/v23.0" || c.client.basePath != "/v23.0" || c.client.hc.Timeout != requestTimeout {
		t.Errorf("client %q, %v", c.client.base, c.client.hc.Timeout)
	}

	for _, bad := range []config.Facebook{
		{BaseURL: "graph.facebook.com", APIVersion: "v23.0", AccessTokenFile: file},
		{BaseURL: "https://graph.facebook.com", AccessTokenFile: file},
		{BaseURL: "https://graph.facebook.com", APIVersion: "v23.0", AccessTokenFile: filepath.Join(t.TempDir(), "missing")},
	} {
		cfg.Facebook = bad
		if _, err := New(&cfg, noEnv, nil, nil); err == nil {
			t.Errorf("%+v: no error", bad)
		} else if strings.Contains(err.Error(), testToken) {
			t.Errorf("error shows the token: %v", err)
		}
	}
}
