package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/govlisten/govlisten/config"
)

// No Docker engine runs here, so compose.yaml is checked as data: every
// service of the single-host deployment is there, long-running ones restart
// and have a health check of the kind each server offers, secrets reach
// them only through the env files that secrets/generate.sh writes, every
// file and named volume they mount exists, and the govlisten config they
// mount loads with the environment they get.
func TestCompose(t *testing.T) {
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Restart     string            `yaml:"restart"`
			ReadOnly    bool              `yaml:"read_only"`
			User        string            `yaml:"user"`
			CapDrop     []string          `yaml:"cap_drop"`
			Environment map[string]string `yaml:"environment"`
			EnvFile     []string          `yaml:"env_file"`
			Volumes     []string          `yaml:"volumes"`
			Ports       []string          `yaml:"ports"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck *struct {
				Test    []string `yaml:"test"`
				Disable bool     `yaml:"disable"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	raw, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"nats", "clickhouse", "migrate", "processor", "collector", "serve", "grafana"} {
		if _, ok := doc.Services[name]; !ok {
			t.Errorf("no service %s", name)
		}
	}
	generated := generatedSecretFiles(t)
	secretish := regexp.MustCompile(`(?i)(password|token|secret|api_key|private_key|webhook_url)$`)
	for name, s := range doc.Services {
		switch name {
		case "migrate":
			if s.Restart != "no" || s.Healthcheck == nil || !s.Healthcheck.Disable {
				t.Errorf("migrate is a one-shot: restart %q, health check %+v", s.Restart, s.Healthcheck)
			}
		default:
			if s.Restart != "unless-stopped" && s.Restart != "always" {
				t.Errorf("%s: restart %q", name, s.Restart)
			}
			if s.Healthcheck == nil || s.Healthcheck.Disable || len(s.Healthcheck.Test) == 0 {
				t.Errorf("%s has no health check", name)
			}
		}
		if s.Image == "" {
			t.Errorf("%s has no image", name)
		}
		for k, v := range s.Environment {
			if secretish.MatchString(k) && v != "" {
				t.Errorf("%s: %s is set in compose.yaml; secrets go in env files", name, k)
			}
		}
		for _, f := range s.EnvFile {
			if !strings.HasPrefix(f, "./secrets/") || !generated[filepath.Base(f)] {
				t.Errorf("%s: env_file %s is not one that secrets/generate.sh writes", name, f)
			}
		}
		for _, v := range s.Volumes {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			} else if _, ok := doc.Volumes[src]; !ok {
				t.Errorf("%s mounts volume %s, which is not declared", name, src)
			}
		}
		for dep, d := range s.DependsOn {
			if _, ok := doc.Services[dep]; !ok {
				t.Errorf("%s depends on unknown %s", name, dep)
			}
			if !slices.Contains([]string{"service_healthy", "service_completed_successfully", "service_started"}, d.Condition) {
				t.Errorf("%s depends on %s with condition %q", name, dep, d.Condition)
			}
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %s beyond loopback", name, p)
			}
		}
		if s.Image == "${GOVLISTEN_IMAGE:-govlisten:latest}" {
			if !s.ReadOnly || s.User == "" || !slices.Contains(s.CapDrop, "ALL") {
				t.Errorf("%s: govlisten runs read-only, as a user, without capabilities", name)
			}
			if !slices.Contains(s.Volumes, "./govlisten.compose.yaml:/etc/govlisten/govlisten.yaml:ro") {
				t.Errorf("%s does not mount the govlisten config", name)
			}
			if s.Healthcheck != nil && !s.Healthcheck.Disable && !strings.Contains(strings.Join(s.Healthcheck.Test, " "), "/readyz") {
				t.Errorf("%s: health check %v is not /readyz", name, s.Healthcheck.Test)
			}
		}
	}
	check := func(svc, want string) {
		if hc := doc.Services[svc].Healthcheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), want) {
			t.Errorf("%s health check does not use %s", svc, want)
		}
	}
	check("nats", ":8222/healthz")
	check("clickhouse", "SELECT 1")
	if cmd := doc.Services["collector"].Command; len(cmd) == 0 || cmd[0] != "collect" {
		t.Errorf("collector runs %v", cmd)
	}
	if cmd := doc.Services["processor"].Command; len(cmd) == 0 || cmd[0] != "process" {
		t.Errorf("processor runs %v", cmd)
	}
	if !slices.ContainsFunc(doc.Services["grafana"].Volumes, func(v string) bool { return strings.HasPrefix(v, "./grafana/provisioning:") }) {
		t.Error("grafana does not mount deploy/grafana/provisioning")
	}
	if !slices.Contains(doc.Services["collector"].EnvFile, "./secrets/collector.env") {
		t.Error("the collector does not get the platform tokens")
	}
	for _, svc := range []string{"processor", "serve", "migrate"} {
		if slices.Contains(doc.Services[svc].EnvFile, "./secrets/collector.env") {
			t.Errorf("%s gets the platform tokens, which only the collector needs", svc)
		}
	}

	// The mounted configuration loads, with the environment compose gives.
	env := map[string]string{"GOVLISTEN_NATS_PASSWORD": "x", "GOVLISTEN_CLICKHOUSE_PASSWORD": "y"}
	for k, v := range doc.Services["processor"].Environment {
		if k != "GOVLISTEN_CONFIG" {
			env[k] = v
		}
	}
	cfg, err := config.Load("govlisten.compose.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("govlisten.compose.yaml: %v", err)
	}
	if cfg.NATS.URL != "nats://nats:4222" || !strings.Contains(cfg.ClickHouse.DSN, "@clickhouse:9000/") || cfg.HTTP.Addr != "0.0.0.0:8080" {
		t.Errorf("compose config: nats %s, clickhouse %s, http %s", cfg.NATS.URL, cfg.ClickHouse.DSN, cfg.HTTP.Addr)
	}
	if cfg.NATS.User != "govlisten" {
		t.Errorf("compose config: NATS user %q, the NATS config's is govlisten", cfg.NATS.User)
	}
}

// generatedSecretFiles runs secrets/generate.sh into a temporary directory:
// it writes each file 0600, the same ClickHouse and NATS passwords wherever
// two services need them, and keeps the files of a second run.
func generatedSecretFiles(t *testing.T) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	run := func() {
		out, err := exec.Command("sh", "secrets/generate.sh", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("secrets/generate.sh: %v\n%s", err, out)
		}
	}
	run()
	files := map[string]bool{}
	values := map[string]map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("secrets/%s is %v, want 0600", e.Name(), info.Mode().Perm())
		}
		files[e.Name()] = true
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		values[e.Name()] = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			k, v, _ := strings.Cut(line, "=")
			values[e.Name()][k] = v
		}
	}
	for _, pair := range [][3]string{
		{"clickhouse.env", "govlisten.env", "GOVLISTEN_CLICKHOUSE_PASSWORD"},
		{"clickhouse.env", "grafana.env", "GOVLISTEN_CLICKHOUSE_ANALYST_PASSWORD"},
	} {
		a, b := values[pair[0]][pair[2]], values[pair[1]][pair[2]]
		if len(a) < 32 || a != b {
			t.Errorf("%s differs between %s and %s, or is short", pair[2], pair[0], pair[1])
		}
	}
	if len(values["nats.env"]["GOVLISTEN_NATS_PASSWORD"]) < 32 {
		t.Error("no NATS password")
	}
	before := values["clickhouse.env"]["GOVLISTEN_CLICKHOUSE_PASSWORD"]
	run()
	b, _ := os.ReadFile(filepath.Join(dir, "clickhouse.env"))
	if !strings.Contains(string(b), before) {
		t.Error("a second run of generate.sh replaced the passwords")
	}
	return files
}
