// Package config declares govlisten's configuration once: every key, its
// default, its environment variable and its validation live here.
//
// Precedence, lowest first: the defaults below, the YAML file given with
// --config, GOVLISTEN_* environment variables, command-line flags. The
// variable for a key is GOVLISTEN_ followed by its path in upper case with
// dots as underscores: nats.url is GOVLISTEN_NATS_URL, process.batch_size is
// GOVLISTEN_PROCESS_BATCH_SIZE.
//
// Secrets (NATS password and token, ClickHouse password, API tokens) are never
// values in the file: the file names the environment variable or the file
// that holds them (the *_env and *_file keys), and Secret reads them at the
// moment of use. Show masks what could carry one. The YAML decoder rejects
// unknown keys, so a misspelt key fails at start with its line number instead
// of being silently ignored.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration. The yaml tags are the keys of the file.
type Config struct {
	// DataDir holds the embedded NATS server's JetStream store and the
	// private ClickHouse server that `up` starts. Default ./govlisten-data.
	DataDir string `yaml:"data_dir"`
	// Log configures log/slog output.
	Log Log `yaml:"log"`
	// NATS is the bus.
	NATS NATS `yaml:"nats"`
	// ClickHouse is the store.
	ClickHouse ClickHouse `yaml:"clickhouse"`
	// Process tunes the processors.
	Process Process `yaml:"process"`
	// Taxonomy is the path of the taxonomy YAML; empty uses the built-in UK
	// government taxonomy.
	Taxonomy string `yaml:"taxonomy"`
	// Tagging tunes the tag step: reload and sentiment labels.
	Tagging Tagging `yaml:"tagging"`
	// Twitter, YouTube and Facebook configure the collectors' API access.
	Twitter  Twitter  `yaml:"twitter"`
	YouTube  YouTube  `yaml:"youtube"`
	Facebook Facebook `yaml:"facebook"`
	// Sources are what the collectors poll.
	Sources []Source `yaml:"sources"`
	// HTTP is the HTTP endpoint of the long-running roles.
	HTTP HTTP `yaml:"http"`
	// Alerts configures spike alerts.
	Alerts Alerts `yaml:"alerts"`
	// Rollups configures the settled counts behind long ranges.
	Rollups Rollups `yaml:"rollups"`
	// Report configures the daily briefing.
	Report Report `yaml:"report"`
	// Retention says how long mentions are kept.
	Retention Retention `yaml:"retention"`
	// Privacy configures pseudonymisation of authors.
	Privacy Privacy `yaml:"privacy"`
}

// HTTP configures the HTTP endpoint of collect, process, serve and up:
// /metrics, /healthz and /readyz on all of them, the dashboard on serve and up.
type HTTP struct {
	// Addr is HOST:PORT. Empty: serve and up listen on 127.0.0.1:8080;
	// collect and process serve HTTP only when an address is given.
	Addr string `yaml:"addr"`
	// Auth guards the dashboard (never /healthz and /readyz).
	Auth Auth `yaml:"auth"`
}

// Auth configures who may see the dashboard.
type Auth struct {
	// Mode is none (default; fine on loopback), basic (users_file) or
	// proxy (a reverse proxy that authenticates and sets proxy_header).
	Mode string `yaml:"mode"`
	// UsersFile holds basic-auth users, one "name:bcrypt-hash" per line
	// (htpasswd -B format). Passwords are never stored in clear.
	UsersFile string `yaml:"users_file"`
	// ProxyHeader carries the authenticated user's name in proxy mode.
	// Default X-Forwarded-User.
	ProxyHeader string `yaml:"proxy_header"`
	// TrustedProxies are the addresses or CIDRs whose ProxyHeader is
	// believed; a request from anywhere else is refused in proxy mode.
	// Default 127.0.0.1/32 and ::1/128.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Alerts configures spike detection and where alerts go.
type Alerts struct {
	// Every is how often serve and up look for spikes; 0 turns it off. Default 5m.
	Every Duration `yaml:"every"`
	// MinMentions is the least volume an hour or a day must have to count
	// as a spike, whatever its baseline. Default 20.
	MinMentions int `yaml:"min_mentions"`
	// Factor is how many times its baseline (and at least how many
	// standard deviations above it) a period must be. Default 3.
	Factor float64 `yaml:"factor"`
	// WebhookURLEnv / WebhookURLFile hold the webhook URL (a secret: it
	// carries its own token). Default GOVLISTEN_ALERTS_WEBHOOK_URL.
	WebhookURLEnv  string `yaml:"webhook_url_env"`
	WebhookURLFile string `yaml:"webhook_url_file"`
	// Format of the webhook body: slack (also Mattermost, Rocket.Chat) or teams. Default slack.
	Format string `yaml:"format"`
}

// Rollups configures the exact counts of settled days
// (deploy/clickhouse/009_settled.sql), which let the dashboard sum numbers
// for long ranges instead of merging distinct-mention states.
type Rollups struct {
	// SettleEvery is how often serve and up count the days that have
	// settled (over, and no mention stored for 15 minutes); 0 turns it
	// off, and the dashboard then reads every day from the states.
	// Default 10m.
	SettleEvery Duration `yaml:"settle_every"`
}

// Report configures `govlisten report`.
type Report struct {
	// Dir is where reports are written when no --out is given. Default <data_dir>/reports.
	Dir string `yaml:"dir"`
	// WebhookURLEnv / WebhookURLFile, when set, receive each report (Slack- or Teams-compatible JSON with a summary).
	WebhookURLEnv  string `yaml:"webhook_url_env"`
	WebhookURLFile string `yaml:"webhook_url_file"`
	// Format of the webhook body: slack or teams. Default slack.
	WebhookFormat string `yaml:"webhook_format"`
}

// Retention configures `govlisten retention apply`.
type Retention struct {
	// Months of mentions to keep, counting the current month; older monthly
	// partitions are dropped. 0 (the default) keeps everything.
	Months int `yaml:"months"`
}

// Privacy configures pseudonymisation, applied by the processors before
// anything is stored.
type Privacy struct {
	// Pseudonymise replaces author ids and handles with a keyed hash
	// (HMAC-SHA-256) before storage, and drops author names. The same
	// author maps to the same pseudonym, so per-author counts still work.
	Pseudonymise bool `yaml:"pseudonymise"`
	// KeyEnv / KeyFile hold the key. Default GOVLISTEN_PRIVACY_KEY.
	KeyEnv  string `yaml:"key_env"`
	KeyFile string `yaml:"key_file"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is text, json or auto (text on a terminal, JSON otherwise). Default auto.
	Format string `yaml:"format"`
}

// NATS configures the connection to NATS JetStream and the streams, consumer
// and buckets govlisten creates.
type NATS struct {
	// URL of the server(s), comma-separated. Empty: `up` runs an in-process
	// server and the other commands connect to nats://127.0.0.1:4222.
	URL string `yaml:"url"`
	// User for user/password authentication; the password comes from
	// PasswordEnv or PasswordFile.
	User         string `yaml:"user"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// TokenEnv / TokenFile hold a token for token authentication.
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
	// CredsFile is a NATS credentials file (JWT and nkey seed).
	CredsFile string `yaml:"creds_file"`
	// NKeyFile is an nkey seed file.
	NKeyFile string `yaml:"nkey_file"`
	// TLS for the client connection.
	TLS TLS `yaml:"tls"`
	// Embedded is the in-process server `up` runs when URL is empty.
	Embedded Embedded `yaml:"embedded"`
	// Stream is stream MENTIONS.
	Stream Stream `yaml:"stream"`
	// DLQ is stream DLQ.
	DLQ Stream `yaml:"dlq"`
	// Consumer is the durable consumer the processors share.
	Consumer Consumer `yaml:"consumer"`
	// LeaseTTL is how long a collector's lease on a source lives without
	// renewal (bucket govlisten_leases). Default 2m.
	LeaseTTL Duration `yaml:"lease_ttl"`
}

// TLS configures a TLS client.
type TLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Embedded configures the in-process NATS server.
type Embedded struct {
	// Listen is HOST:PORT. Default 127.0.0.1:4222; port 0 picks a free one.
	Listen string `yaml:"listen"`
	// StoreDir for JetStream; default <data_dir>/nats.
	StoreDir string `yaml:"store_dir"`
	// SyncAlways makes JetStream fsync every write (survives power loss on
	// one host, at a cost in throughput). Default false: sync every 2 minutes.
	SyncAlways bool `yaml:"sync_always"`
}

// Stream holds a stream's limits.
type Stream struct {
	// MaxAge drops messages older than this. Default 720h for MENTIONS, 2160h for DLQ.
	MaxAge Duration `yaml:"max_age"`
	// MaxBytes caps the stream's size; when full, new publishes are refused
	// (so collectors retry and nothing is silently dropped). Default 10 GiB / 1 GiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// DuplicateWindow is how long Nats-Msg-Id de-duplication remembers an id. Default 2h.
	DuplicateWindow Duration `yaml:"duplicate_window"`
	// Replicas is 1 on one host, 3 on a cluster.
	Replicas int `yaml:"replicas"`
}

// Consumer configures the durable pull consumer.
type Consumer struct {
	// Name of the durable consumer. Default processor.
	Name string `yaml:"name"`
	// AckWait is how long a delivered message may stay unacknowledged before
	// redelivery (and so how soon a killed processor's messages
	// go to another). Default 1m; must exceed process.batch_timeout plus an insert.
	AckWait Duration `yaml:"ack_wait"`
	// MaxDeliver caps deliveries; -1 (the default) never gives up, so a
	// message held back by a ClickHouse outage is never dropped.
	MaxDeliver int `yaml:"max_deliver"`
	// MaxAckPending bounds messages in flight across all processors. Default
	// 300000: (process.inserters + 1) × process.batch_size, so one processor
	// can fill a batch while its inserts complete.
	MaxAckPending int `yaml:"max_ack_pending"`
}

// ClickHouse configures the store.
type ClickHouse struct {
	// DSN is clickhouse://[user@]host:port/database[?options]. Empty: `up`
	// starts a private server; other commands use clickhouse://127.0.0.1:9000/govlisten.
	DSN string `yaml:"dsn"`
	// PasswordEnv / PasswordFile hold the password; it overrides one in the DSN.
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// Server is the clickhouse-server binary `up` starts when DSN is empty.
	// Default: clickhouse-server on PATH or in /usr/sbin, /usr/bin.
	Server string `yaml:"server"`
	// Cluster, when set, makes migrate create the replicated schema ON CLUSTER.
	Cluster string `yaml:"cluster"`
	// TLS, when any file is set or Secure is true, connects over TLS (the
	// server's tcp_port_secure, usually 9440).
	TLS    TLS  `yaml:"tls"`
	Secure bool `yaml:"secure"`
	// Compression of inserts on the wire: auto (the default: none when
	// every address of the DSN is loopback, where compressing costs both
	// sides CPU and saves nothing, else lz4), lz4, zstd (across a slow
	// network), or none.
	Compression string `yaml:"compression"`
}

// Process tunes `govlisten process`.
type Process struct {
	// BatchSize is the most mentions in one ClickHouse insert, which the
	// server writes as one part. Default 100000.
	BatchSize int `yaml:"batch_size"`
	// BlockSize is the most mentions the processor holds before it sends
	// them on to the open insert: it bounds the processor's memory, whatever
	// the batch size. Default 10000.
	BlockSize int `yaml:"block_size"`
	// BatchTimeout flushes a partial batch this long after its first
	// mention. Default 1s; at most 5m.
	BatchTimeout Duration `yaml:"batch_timeout"`
	// Workers decode and tag in parallel; 0 uses one per CPU.
	Workers int `yaml:"workers"`
	// Inserters is how many batch inserts may be in flight at once. Default 2.
	Inserters int `yaml:"inserters"`
	// RetryMin and RetryMax bound the backoff after a failed insert. Default 1s and 30s.
	RetryMin Duration `yaml:"retry_min"`
	RetryMax Duration `yaml:"retry_max"`
}

// Tagging tunes the tag step.
type Tagging struct {
	// ReloadInterval is how often a processor checks the taxonomy file and
	// reloads it when it changed (a file that does not compile is logged and
	// the last good taxonomy kept). 0 turns reload off. Default 5s.
	ReloadInterval Duration `yaml:"reload_interval"`
	// Sentiment sets where the three labels begin.
	Sentiment SentimentLabels `yaml:"sentiment"`
}

// SentimentLabels are the score thresholds of the three sentiment labels:
// a score at or below Negative is negative, at or above Positive is
// positive, anything between is neutral.
type SentimentLabels struct {
	Negative float64 `yaml:"negative"`
	Positive float64 `yaml:"positive"`
}

// Twitter configures X API v2 access.
type Twitter struct {
	BaseURL         string `yaml:"base_url"`
	BearerTokenEnv  string `yaml:"bearer_token_env"`
	BearerTokenFile string `yaml:"bearer_token_file"`
}

// YouTube configures YouTube Data API v3 access.
type YouTube struct {
	BaseURL         string `yaml:"base_url"`
	APIKeyEnv       string `yaml:"api_key_env"`
	APIKeyFile      string `yaml:"api_key_file"`
	DailyQuotaUnits int    `yaml:"daily_quota_units"`
	// ReplyLookback: each pass reads again the comment threads started this
	// long before the checkpoint, so new replies to them are collected (a
	// page of 100 threads costs a unit). Default 48h.
	ReplyLookback Duration `yaml:"reply_lookback"`
}

// Facebook configures Graph API access.
type Facebook struct {
	BaseURL         string `yaml:"base_url"`
	APIVersion      string `yaml:"api_version"`
	AccessTokenEnv  string `yaml:"access_token_env"`
	AccessTokenFile string `yaml:"access_token_file"`
	// CommentLookback: each pass lists again the posts this recent, so
	// comments made on them since the last pass are collected. Default 72h.
	CommentLookback Duration `yaml:"comment_lookback"`
}

// Source is one thing a collector polls.
type Source struct {
	Name       string   `yaml:"name"`
	Platform   string   `yaml:"platform"`
	Kind       string   `yaml:"kind"`
	Query      string   `yaml:"query"`
	UserID     string   `yaml:"user_id"`
	ChannelID  string   `yaml:"channel_id"`
	VideoID    string   `yaml:"video_id"`
	PageID     string   `yaml:"page_id"`
	Every      Duration `yaml:"every"`
	Cron       string   `yaml:"cron"`
	Department string   `yaml:"department"`
	// Own lists the department's own accounts for this source (X user ids
	// or handles, YouTube channel ids, Facebook page ids): what they post is
	// marked as the department's own.
	Own []string `yaml:"own"`
	// Priority orders sources when a shared quota is short: higher first.
	Priority int `yaml:"priority"`
	// MaxPages caps the pages of one pass (0: the platform's default).
	MaxPages int `yaml:"max_pages"`
}

// Default returns the configuration used where neither file, environment nor
// flag says otherwise.
func Default() Config {
	return Config{
		DataDir: "govlisten-data",
		Log:     Log{Level: "info", Format: "auto"},
		NATS: NATS{
			PasswordEnv: "GOVLISTEN_NATS_PASSWORD",
			TokenEnv:    "GOVLISTEN_NATS_TOKEN",
			Embedded:    Embedded{Listen: "127.0.0.1:4222"},
			Stream:      Stream{MaxAge: Duration(720 * time.Hour), MaxBytes: 10 << 30, DuplicateWindow: Duration(2 * time.Hour), Replicas: 1},
			DLQ:         Stream{MaxAge: Duration(2160 * time.Hour), MaxBytes: 1 << 30, DuplicateWindow: Duration(2 * time.Hour), Replicas: 1},
			Consumer:    Consumer{Name: "processor", AckWait: Duration(time.Minute), MaxDeliver: -1, MaxAckPending: 300000},
			LeaseTTL:    Duration(2 * time.Minute),
		},
		ClickHouse: ClickHouse{PasswordEnv: "GOVLISTEN_CLICKHOUSE_PASSWORD", Compression: "auto"},
		HTTP:       HTTP{Auth: Auth{Mode: "none", ProxyHeader: "X-Forwarded-User", TrustedProxies: []string{"127.0.0.1/32", "::1/128"}}},
		Alerts:     Alerts{Every: Duration(5 * time.Minute), MinMentions: 20, Factor: 3, WebhookURLEnv: "GOVLISTEN_ALERTS_WEBHOOK_URL", Format: "slack"},
		Rollups:    Rollups{SettleEvery: Duration(10 * time.Minute)},
		Report:     Report{WebhookURLEnv: "GOVLISTEN_REPORT_WEBHOOK_URL", WebhookFormat: "slack"},
		Privacy:    Privacy{KeyEnv: "GOVLISTEN_PRIVACY_KEY"},
		Tagging:    Tagging{ReloadInterval: Duration(5 * time.Second), Sentiment: SentimentLabels{Negative: -0.10, Positive: 0.35}},
		Process:    Process{BatchSize: 100000, BlockSize: 10000, Inserters: 2, BatchTimeout: Duration(time.Second), RetryMin: Duration(time.Second), RetryMax: Duration(30 * time.Second)},
		Twitter:    Twitter{BaseURL: "https://api.x.com", BearerTokenEnv: "GOVLISTEN_TWITTER_BEARER_TOKEN"},
		YouTube:    YouTube{BaseURL: "https://youtube.googleapis.com/", APIKeyEnv: "GOVLISTEN_YOUTUBE_API_KEY", DailyQuotaUnits: 10000, ReplyLookback: Duration(48 * time.Hour)},
		Facebook:   Facebook{BaseURL: "https://graph.facebook.com", APIVersion: "v23.0", AccessTokenEnv: "GOVLISTEN_FACEBOOK_ACCESS_TOKEN", CommentLookback: Duration(72 * time.Hour)},
	}
}

// DefaultNATSURL is where commands other than `up` look for NATS when none is configured.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// DefaultClickHouseDSN is where commands other than `up` look for ClickHouse when none is configured.
const DefaultClickHouseDSN = "clickhouse://127.0.0.1:9000/govlisten"

// EnvPrefix starts every environment variable govlisten reads.
const EnvPrefix = "GOVLISTEN_"

// Load builds the configuration from the defaults, the file at path (none
// when path is empty) and the environment, then validates it. getenv is
// os.Getenv outside tests.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("reading config: %w", err)
		}
		if err := decodeYAML(data, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), EnvPrefix, getenv); err != nil {
		return cfg, err
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return cfg, errors.Join(errs...)
	}
	return cfg, nil
}

func decodeYAML(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return err
	}
	return nil
}

// applyEnv walks the struct and sets every scalar field whose variable is set.
func applyEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		name := prefix + strings.ToUpper(key)
		fv := v.Field(i)
		if f.Type == reflect.TypeOf(Duration(0)) {
			if s := getenv(name); s != "" {
				d, err := time.ParseDuration(s)
				if err != nil {
					return fmt.Errorf("%s: %q is not a duration (like 90s, 5m, 2h)", name, s)
				}
				fv.SetInt(int64(d))
			}
			continue
		}
		switch fv.Kind() {
		case reflect.Struct:
			if err := applyEnv(fv, name+"_", getenv); err != nil {
				return err
			}
		case reflect.String:
			if s, ok := lookup(getenv, name); ok {
				fv.SetString(s)
			}
		case reflect.Int, reflect.Int64:
			if s := getenv(name); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("%s: %q is not an integer", name, s)
				}
				fv.SetInt(n)
			}
		case reflect.Float64:
			if s := getenv(name); s != "" {
				x, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return fmt.Errorf("%s: %q is not a number", name, s)
				}
				fv.SetFloat(x)
			}
		case reflect.Bool:
			if s := getenv(name); s != "" {
				b, err := strconv.ParseBool(s)
				if err != nil {
					return fmt.Errorf("%s: %q is not true or false", name, s)
				}
				fv.SetBool(b)
			}
		}
	}
	return nil
}

func lookup(getenv func(string) string, name string) (string, bool) {
	s := getenv(name)
	return s, s != ""
}

// Validate returns one error per wrong key, each naming the key.
func (c *Config) Validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "auto", "text", "json":
	default:
		bad("log.format", "%q is not auto, text or json", c.Log.Format)
	}
	if c.NATS.URL != "" {
		for _, u := range strings.Split(c.NATS.URL, ",") {
			if pu, err := url.Parse(strings.TrimSpace(u)); err != nil || pu.Host == "" {
				bad("nats.url", "%q is not a URL like nats://host:4222", redactURL(u))
			}
		}
	}
	for _, s := range []struct {
		key string
		st  Stream
	}{{"nats.stream", c.NATS.Stream}, {"nats.dlq", c.NATS.DLQ}} {
		if s.st.MaxAge < 0 {
			bad(s.key+".max_age", "must not be negative")
		}
		if s.st.MaxBytes < 1<<20 && s.st.MaxBytes != -1 {
			bad(s.key+".max_bytes", "%d is below 1 MiB (use -1 for no limit)", s.st.MaxBytes)
		}
		if s.st.DuplicateWindow <= 0 {
			bad(s.key+".duplicate_window", "must be positive")
		}
		if s.st.Replicas != 1 && s.st.Replicas != 3 && s.st.Replicas != 5 {
			bad(s.key+".replicas", "%d: use 1 on one host, 3 or 5 on a cluster", s.st.Replicas)
		}
	}
	if c.NATS.Consumer.Name == "" || strings.ContainsAny(c.NATS.Consumer.Name, ". *>") {
		bad("nats.consumer.name", "%q must be a non-empty name without dots, spaces or wildcards", c.NATS.Consumer.Name)
	}
	if time.Duration(c.NATS.Consumer.AckWait) <= time.Duration(c.Process.BatchTimeout) {
		bad("nats.consumer.ack_wait", "%s must exceed process.batch_timeout (%s)", c.NATS.Consumer.AckWait, c.Process.BatchTimeout)
	}
	if c.NATS.Consumer.MaxDeliver == 0 || c.NATS.Consumer.MaxDeliver < -1 {
		bad("nats.consumer.max_deliver", "%d: use -1 (never give up) or a positive count", c.NATS.Consumer.MaxDeliver)
	}
	if c.NATS.Consumer.MaxAckPending < 1 {
		bad("nats.consumer.max_ack_pending", "must be positive")
	}
	if c.NATS.Consumer.MaxAckPending < c.Process.BatchSize {
		bad("nats.consumer.max_ack_pending", "%d is below process.batch_size (%d), so a batch could never fill", c.NATS.Consumer.MaxAckPending, c.Process.BatchSize)
	}
	if c.NATS.LeaseTTL < Duration(time.Second) {
		bad("nats.lease_ttl", "must be at least 1s")
	}
	if c.ClickHouse.DSN != "" {
		if u, err := url.Parse(c.ClickHouse.DSN); err != nil || u.Scheme != "clickhouse" && u.Scheme != "tcp" || u.Host == "" {
			bad("clickhouse.dsn", "%q is not a DSN like clickhouse://user@host:9000/database", redactURL(c.ClickHouse.DSN))
		}
	}
	switch c.HTTP.Auth.Mode {
	case "none":
	case "basic":
		if c.HTTP.Auth.UsersFile == "" {
			bad("http.auth.users_file", "basic auth needs a users file (lines of name:bcrypt-hash)")
		}
	case "proxy":
		if c.HTTP.Auth.ProxyHeader == "" {
			bad("http.auth.proxy_header", "proxy auth needs the header the proxy sets")
		}
		for _, p := range c.HTTP.Auth.TrustedProxies {
			if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
				bad("http.auth.trusted_proxies", "%q is not an address or CIDR", p)
			}
		}
	default:
		bad("http.auth.mode", "%q is not none, basic or proxy", c.HTTP.Auth.Mode)
	}
	if c.Alerts.Every < 0 {
		bad("alerts.every", "must not be negative (0 turns alerts off)")
	}
	if c.Rollups.SettleEvery < 0 {
		bad("rollups.settle_every", "must not be negative (0 turns settling off)")
	}
	if c.Alerts.MinMentions < 1 {
		bad("alerts.min_mentions", "must be at least 1")
	}
	if c.Alerts.Factor <= 1 {
		bad("alerts.factor", "%g must be above 1", c.Alerts.Factor)
	}
	for key, f := range map[string]string{"alerts.format": c.Alerts.Format, "report.webhook_format": c.Report.WebhookFormat} {
		if f != "slack" && f != "teams" {
			bad(key, "%q is not slack or teams", f)
		}
	}
	if c.Retention.Months < 0 {
		bad("retention.months", "must not be negative (0 keeps everything)")
	}
	if c.Tagging.ReloadInterval < 0 {
		bad("tagging.reload_interval", "must not be negative (0 turns reload off)")
	}
	if sl := c.Tagging.Sentiment; !(-1 <= sl.Negative && sl.Negative < sl.Positive && sl.Positive <= 1) {
		bad("tagging.sentiment", "negative (%g) and positive (%g) must satisfy -1 <= negative < positive <= 1", sl.Negative, sl.Positive)
	}
	switch c.ClickHouse.Compression {
	case "auto", "lz4", "zstd", "none":
	default:
		bad("clickhouse.compression", "%q is not auto, lz4, zstd or none", c.ClickHouse.Compression)
	}
	if c.Process.BatchSize < 1 || c.Process.BatchSize > 1_000_000 {
		bad("process.batch_size", "%d is outside 1..1000000", c.Process.BatchSize)
	}
	if c.Process.BlockSize < 1 || c.Process.BlockSize > 1_000_000 {
		bad("process.block_size", "%d is outside 1..1000000", c.Process.BlockSize)
	}
	if c.Process.BatchTimeout <= 0 || c.Process.BatchTimeout > Duration(5*time.Minute) {
		bad("process.batch_timeout", "%s is outside (0, 5m]: an insert stays open until its batch ends, and ClickHouse gives up on one that waits longer than its receive_timeout (300 s by default)", c.Process.BatchTimeout)
	}
	if c.Process.Workers < 0 {
		bad("process.workers", "must not be negative")
	}
	if c.Process.Inserters < 1 || c.Process.Inserters > 16 {
		bad("process.inserters", "%d is outside 1..16", c.Process.Inserters)
	}
	if c.Process.RetryMin <= 0 || c.Process.RetryMax < c.Process.RetryMin {
		bad("process.retry_min", "must be positive and at most process.retry_max")
	}
	for key, u := range map[string]string{"twitter.base_url": c.Twitter.BaseURL, "youtube.base_url": c.YouTube.BaseURL, "facebook.base_url": c.Facebook.BaseURL} {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			bad(key, "%q is not an http(s) URL", redactURL(u))
		}
	}
	if c.YouTube.DailyQuotaUnits < 1 {
		bad("youtube.daily_quota_units", "must be positive")
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		key := fmt.Sprintf("sources[%d]", i)
		if s.Name == "" {
			bad(key+".name", "missing")
		} else if !sourceNameRE.MatchString(s.Name) {
			bad(key+".name", "%q may hold only letters, digits, - and _", s.Name)
		} else if seen[s.Name] {
			bad(key+".name", "%q is used twice", s.Name)
		}
		seen[s.Name] = true
		switch s.Platform {
		case "twitter", "youtube", "facebook":
		default:
			bad(key+".platform", "%q is not twitter, youtube or facebook", s.Platform)
		}
		if kinds, ok := SourceKinds[s.Platform]; ok && !slices.Contains(kinds, s.Kind) {
			bad(key+".kind", "%q is not a %s source kind (%s)", s.Kind, s.Platform, strings.Join(kinds, ", "))
		}
		for field, need := range map[string]bool{
			"query":      s.Kind == "search",
			"user_id":    s.Platform == "twitter" && s.Kind == "mentions",
			"channel_id": s.Kind == "channel_comments",
			"video_id":   s.Kind == "video_comments",
			"page_id":    s.Platform == "facebook",
		} {
			if need && sourceField(s, field) == "" {
				bad(key+"."+field, "missing (a %s %s source needs it)", s.Platform, s.Kind)
			}
		}
		if s.Cron != "" && s.Every != 0 {
			bad(key+".cron", "set either every or cron, not both")
		}
		if s.Every < 0 {
			bad(key+".every", "must not be negative")
		}
	}
	return errs
}

// SourceKinds are the kinds of source each platform's collector takes.
var SourceKinds = map[string][]string{
	"twitter":  {"search", "mentions"},
	"youtube":  {"channel_comments", "video_comments", "search"},
	"facebook": {"page_posts", "page_tagged"},
}

var sourceNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func sourceField(s Source, field string) string {
	switch field {
	case "query":
		return s.Query
	case "user_id":
		return s.UserID
	case "channel_id":
		return s.ChannelID
	case "video_id":
		return s.VideoID
	case "page_id":
		return s.PageID
	}
	return ""
}

// NATSURL is the URL to dial: the configured one or the local default.
func (c *Config) NATSURL() string {
	if c.NATS.URL != "" {
		return c.NATS.URL
	}
	return DefaultNATSURL
}

// ClickHouseDSN is the DSN to dial: the configured one or the local default.
func (c *Config) ClickHouseDSN() string {
	if c.ClickHouse.DSN != "" {
		return c.ClickHouse.DSN
	}
	return DefaultClickHouseDSN
}

// Secret reads a secret from the environment variable named envName, else
// from the file at path. It returns "" when neither is set. The value is
// never logged; callers pass it straight to the client that needs it.
func Secret(getenv func(string) string, envName, path string) (string, error) {
	if envName != "" {
		if v := getenv(envName); v != "" {
			return v, nil
		}
	}
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Show renders the effective configuration as YAML with anything that could
// carry a secret masked: passwords in URLs and DSNs. Secrets themselves are
// never in Config (only the names of their variables and files).
func (c Config) Show() string {
	c.NATS.URL = redactURLs(c.NATS.URL)
	c.ClickHouse.DSN = redactURL(c.ClickHouse.DSN)
	b, _ := yaml.Marshal(c)
	return string(b)
}

// ShowNATSURL is nats.url with any password masked, for messages.
func (c *Config) ShowNATSURL() string { return redactURLs(c.NATSURL()) }

// ShowClickHouseDSN is the ClickHouse DSN with any password masked, for messages.
func (c *Config) ShowClickHouseDSN() string { return redactURL(c.ClickHouseDSN()) }

func redactURLs(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = redactURL(p)
	}
	return strings.Join(parts, ",")
}

// redactURL replaces the password of a URL with "xxxxx".
func redactURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for _, k := range []string{"password", "token", "access_token", "key"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Duration is a time.Duration written as "90s", "5m", "2h" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 90s, 5m, 2h)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// String is the duration string.
func (d Duration) String() string { return time.Duration(d).String() }

// D is the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
