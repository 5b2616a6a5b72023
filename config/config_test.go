package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "govlisten.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleAndDesignConfigLoad(t *testing.T) {
	cfg, err := Load("../govlisten.example.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS.URL != "nats://127.0.0.1:4222" || len(cfg.Sources) != 3 || cfg.Sources[0].Every.D() != 5*time.Minute ||
		cfg.Sources[2].PageID != "100000000000001" || cfg.Facebook.APIVersion != "v23.0" {
		t.Fatalf("example config read as %+v", cfg)
	}
}

func TestPrecedence(t *testing.T) {
	p := write(t, "nats:\n  url: nats://file:4222\nprocess:\n  batch_size: 500\n  batch_timeout: 3s\n")
	cfg, err := Load(p, env(map[string]string{
		"GOVLISTEN_NATS_URL":                  "nats://env:4222",
		"GOVLISTEN_PROCESS_BATCH_TIMEOUT":     "250ms",
		"GOVLISTEN_NATS_CONSUMER_MAX_DELIVER": "5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS.URL != "nats://env:4222" || cfg.Process.BatchSize != 500 || cfg.Process.BatchTimeout.D() != 250*time.Millisecond || cfg.NATS.Consumer.MaxDeliver != 5 {
		t.Fatalf("got %+v", cfg)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"unknown key", "nats:\n  urll: x\n", "field urll not found"},
		{"bad duration", "process:\n  batch_timeout: soon\n", `"soon" is not a duration`},
		{"bad batch size", "process:\n  batch_size: 0\n", "process.batch_size"},
		{"bad block size", "process:\n  block_size: -1\n", "process.block_size"},
		{"batch timeout past the server's", "process:\n  batch_timeout: 10m\nnats:\n  consumer:\n    ack_wait: 20m\n", "process.batch_timeout"},
		{"bad url", "twitter:\n  base_url: ftp//nope\n", "twitter.base_url"},
		{"duplicate source", "sources:\n  - {name: a, platform: twitter, kind: search, query: x}\n  - {name: a, platform: twitter, kind: search, query: x}\n", "sources[1].name"},
		{"bad platform", "sources:\n  - {name: a, platform: myspace, kind: search}\n", "sources[0].platform"},
		{"bad kind", "sources:\n  - {name: a, platform: youtube, kind: page_posts}\n", "sources[0].kind"},
		{"missing query", "sources:\n  - {name: a, platform: twitter, kind: search}\n", "sources[0].query"},
		{"bad name", "sources:\n  - {name: 'dwp mentions', platform: twitter, kind: search, query: x}\n", "sources[0].name"},
		{"bad cron", "sources:\n  - {name: a, platform: twitter, kind: search, query: x, every: 5m, cron: '* * * * *'}\n", "sources[0].cron"},
		{"bad dsn", "clickhouse:\n  dsn: postgres://x\n", "clickhouse.dsn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.file), env(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	_, err := Load("", env(map[string]string{"GOVLISTEN_PROCESS_BATCH_SIZE": "lots"}))
	if err == nil || !strings.Contains(err.Error(), "GOVLISTEN_PROCESS_BATCH_SIZE") {
		t.Fatalf("bad env value: %v", err)
	}
}

func TestShowMasksSecrets(t *testing.T) {
	cfg, err := Load("", env(map[string]string{
		"GOVLISTEN_NATS_URL":       "nats://gov:s3cretpw@nats1:4222,nats://gov:s3cretpw@nats2:4222",
		"GOVLISTEN_CLICKHOUSE_DSN": "clickhouse://ingest:s3cretpw@ch:9000/govlisten?password=s3cretpw",
	}))
	if err != nil {
		t.Fatal(err)
	}
	out := cfg.Show() + cfg.ShowNATSURL() + cfg.ShowClickHouseDSN()
	if strings.Contains(out, "s3cretpw") {
		t.Fatalf("secret shown:\n%s", out)
	}
	if !strings.Contains(out, "nats2:4222") || !strings.Contains(out, "ingest") {
		t.Fatalf("masking removed too much:\n%s", out)
	}
}

func TestSecretFromEnvOrFile(t *testing.T) {
	p := write(t, "  from-file \n")
	if s, _ := Secret(env(map[string]string{"X": "from-env"}), "X", p); s != "from-env" {
		t.Fatalf("env: %q", s)
	}
	if s, _ := Secret(env(nil), "X", p); s != "from-file" {
		t.Fatalf("file: %q", s)
	}
	if _, err := Secret(env(nil), "X", "/nonexistent/secret"); err == nil {
		t.Fatal("missing file gave no error")
	}
}
