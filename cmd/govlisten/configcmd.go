package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
)

// ConfigCmd is `govlisten config`.
type ConfigCmd struct {
	Check ConfigCheckCmd `cmd:"" help:"Validate a configuration file: every key, the taxonomy, the secret files, and with --connect the servers."`
	Show  ConfigShowCmd  `cmd:"" help:"Print the effective configuration (defaults, file, GOVLISTEN_* variables) with secrets masked."`
}

// ConfigCheckCmd is `govlisten config check`.
type ConfigCheckCmd struct {
	File    string `arg:"" optional:"" help:"Configuration file; default: --config, else the defaults and environment alone." placeholder:"FILE"`
	Connect bool   `help:"Also connect to NATS and ClickHouse and report when one cannot be reached."`
}

// Help describes the output.
func (c *ConfigCheckCmd) Help() string {
	return "Prints each problem on a line of its own, starting with the key it concerns (for example `process.batch_timeout: \"soon\" is not a duration`), and exits 1 when there is any; prints `FILE: ok` and exits 0 otherwise. Secrets are checked for presence, never printed."
}

// Run checks.
func (c *ConfigCheckCmd) Run(ctx context.Context, g *Globals) error {
	path := c.File
	if path == "" {
		path = g.Config
	}
	name := path
	if name == "" {
		name = "(defaults and environment)"
	}
	problems := checkConfig(ctx, path, c.Connect)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d problem(s)\n", name, len(problems))
		return exitCode(1)
	}
	fmt.Printf("%s: ok\n", name)
	return nil
}

// checkConfig returns every problem found, each starting with its key.
func checkConfig(ctx context.Context, path string, connect bool) []string {
	cfg, err := config.Load(path, os.Getenv)
	if err != nil {
		var out []string
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
		return out // the rest would only repeat what is already wrong
	}
	var out []string
	add := func(key string, err error) {
		if err != nil {
			out = append(out, key+": "+err.Error())
		}
	}
	if _, err := loadTagger(&cfg); err != nil {
		add("taxonomy", err)
	}
	for _, s := range []struct{ key, env, file string }{
		{"nats.password", cfg.NATS.PasswordEnv, cfg.NATS.PasswordFile},
		{"nats.token", cfg.NATS.TokenEnv, cfg.NATS.TokenFile},
		{"clickhouse.password", cfg.ClickHouse.PasswordEnv, cfg.ClickHouse.PasswordFile},
	} {
		if _, err := config.Secret(os.Getenv, s.env, s.file); err != nil {
			add(s.key+"_file", err)
		}
	}
	for _, f := range []struct{ key, path string }{
		{"nats.creds_file", cfg.NATS.CredsFile}, {"nats.nkey_file", cfg.NATS.NKeyFile},
		{"nats.tls.ca_file", cfg.NATS.TLS.CAFile}, {"nats.tls.cert_file", cfg.NATS.TLS.CertFile}, {"nats.tls.key_file", cfg.NATS.TLS.KeyFile},
	} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				add(f.key, err)
			}
		}
	}
	// Each platform with sources needs its credential.
	need := map[string]bool{}
	for _, s := range cfg.Sources {
		need[s.Platform] = true
	}
	for _, p := range []struct{ platform, key, env, file string }{
		{mention.Twitter, "twitter.bearer_token", cfg.Twitter.BearerTokenEnv, cfg.Twitter.BearerTokenFile},
		{mention.YouTube, "youtube.api_key", cfg.YouTube.APIKeyEnv, cfg.YouTube.APIKeyFile},
		{mention.Facebook, "facebook.access_token", cfg.Facebook.AccessTokenEnv, cfg.Facebook.AccessTokenFile},
	} {
		if !need[p.platform] {
			continue
		}
		v, err := config.Secret(os.Getenv, p.env, p.file)
		switch {
		case err != nil:
			add(p.key+"_file", err)
		case v == "":
			add(p.key+"_env", fmt.Errorf("sources use %s but neither $%s nor %s_file gives a credential", p.platform, p.env, p.key))
		}
	}
	if connect {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if conn, err := bus.Connect(cctx, &cfg, "config check", os.Getenv, 5*time.Second); err != nil {
			add("nats.url", fmt.Errorf("%s: %w", cfg.ShowNATSURL(), err))
		} else {
			conn.Close()
		}
		if st, err := sink.Open(cctx, &cfg, os.Getenv); err != nil {
			add("clickhouse.dsn", err)
		} else {
			if err := st.Ping(cctx); err != nil {
				add("clickhouse.dsn", err)
			}
			st.Close()
		}
	}
	return out
}

// ConfigShowCmd is `govlisten config show`.
type ConfigShowCmd struct{}

// Run prints.
func (c *ConfigShowCmd) Run(g *Globals) error {
	cfg, err := config.Load(g.Config, os.Getenv)
	if err != nil {
		return errors.Join(errors.New("the configuration is not valid (run govlisten config check)"), err)
	}
	fmt.Print(cfg.Show())
	return nil
}
