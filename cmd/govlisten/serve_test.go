package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/telemetry"
)

// TestServe runs `govlisten serve` on a free port against imported
// mentions and reads the dashboard and its JSON as a browser and a script
// would, then stops it with an interrupt.
func TestServe(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	e.importSynth(11, 300)
	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process exited %d: %s", code, stderr)
	}
	p, logs := e.start("serve", "--http-addr", "127.0.0.1:0")
	base := ""
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var l struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "dashboard" {
				base = strings.TrimSuffix(l.URL, "/")
			}
		}
	}
	if base == "" {
		t.Fatalf("serve never said where it listens:\n%s", logs.String())
	}
	// synth's mentions are in November 2026.
	resp, err := http.Get(base + "/?range=custom&from=2026-11-01&to=2026-11-30")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<h1>Public mentions</h1>") || !strings.Contains(string(body), "300 mentions in this range.") {
		t.Errorf("GET /: %d\n%.2000s", resp.StatusCode, body)
	}
	resp, err = http.Get(base + "/api/summary?from=2026-11-01&to=2026-11-30&platform=bluesky")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "platform") {
		t.Errorf("a bad platform: %d %s", resp.StatusCode, body)
	}
	if err := p.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Errorf("serve after an interrupt: %v\n%s", err, logs.String())
	}
}

// TestServeMux checks serve's one mux: /healthz and /readyz are served
// outside the dashboard's authentication, the dashboard keeps every other
// path, and basic auth guards it.
func TestServeMux(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	cfg := config.Default()
	users := filepath.Join(t.TempDir(), "users")
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err := os.WriteFile(users, []byte("director:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Auth = config.Auth{Mode: "basic", UsersFile: users}
	log := slog.New(slog.DiscardHandler)
	tel := telemetry.New(log)
	tel.Health.Require("clickhouse")
	tel.Health.Set("clickhouse", e.store.Ping)
	mux := http.NewServeMux()
	tel.Mount(mux)
	if err := mountDashboard(mux, &cfg, e.store, log); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(mux)
	defer ts.Close()
	get := func(path, user string) (int, string) {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if user != "" {
			req.SetBasicAuth(user, "pw")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz", ""); code != 200 || !strings.Contains(body, "ok") {
		t.Errorf("/healthz without credentials: %d %q", code, body)
	}
	if code, body := get("/readyz", ""); code != 200 {
		t.Errorf("/readyz without credentials: %d %q", code, body)
	}
	if code, _ := get("/", ""); code != http.StatusUnauthorized {
		t.Errorf("/ without credentials: %d, want 401", code)
	}
	if code, body := get("/", "director"); code != 200 || !strings.Contains(body, "<h1>Public mentions</h1>") {
		t.Errorf("/ as director: %d %.300s", code, body)
	}
}
