package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes as a config file to Load (with an empty
// environment), the start of every command.
//
// Properties: no panic; an error names where it is ("config PATH: ..."
// for what does not decode, a key for what does not validate); a config
// that loads is valid; and it survives `config show`: the YAML Show prints
// loads back to the same configuration (URLs and DSNs aside, which Show
// masks).
func FuzzLoad(f *testing.F) {
	if b, err := os.ReadFile("../govlisten.example.yaml"); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
	for _, s := range []string{
		"",
		"nats:\n  url: nats://127.0.0.1:4222\nclickhouse:\n  dsn: clickhouse://127.0.0.1:9000/govlisten\n",
		"sources:\n  - name: dwp-mentions\n    platform: twitter\n    kind: search\n    query: \"(@DWP OR \\\"Universal Credit\\\") -is:retweet\"\n    every: 5m\n    department: dwp\n",
		"sources:\n  - {name: dfe-page, platform: facebook, kind: page_posts, page_id: \"100000000000001\", every: 15m}\n",
		"process:\n  batch_size: 0\n  batch_timeout: soon\n",
		"nats:\n  urll: x\n",
		"a: &a [*a, *a, *a]\n",
		"tagging:\n  sentiment:\n    negative: .nan\n    positive: .inf\n",
		"process:\n  batch_size: 99999999999999999999\n",
		"sources: !!map {}\n",
		"--- \n...\n--- {}\n",
		"\t\x00\xff",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "govlisten.yaml")
	noEnv := func(string) string { return "" }
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, noEnv)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if errs := cfg.Validate(); len(errs) > 0 {
			t.Fatalf("Load accepted an invalid config: %v", errs)
		}
		shown := cfg.Show()
		if err := os.WriteFile(path, []byte(shown), 0o600); err != nil {
			t.Fatal(err)
		}
		again, err := Load(path, noEnv)
		if err != nil {
			t.Fatalf("config show printed a config that does not load: %v\n%s", err, shown)
		}
		// Compared as Show prints them: an empty list and no list are
		// the same configuration.
		if again.Show() != shown {
			t.Fatalf("config show does not load back the same:\n%s\nloads back as\n%s", shown, again.Show())
		}
	})
}
