package deploy_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// unitFile is a parsed systemd unit: section → key → values, in order.
type unitFile map[string]map[string][]string

func readUnit(t *testing.T, path string) unitFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, section := unitFile{}, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: %q is not KEY=VALUE in a section", path, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// The systemd units: every service runs as the dedicated user with the
// hardening keys, reads secrets from an EnvironmentFile, and starts
// govlisten with a command it has; every timer has its service; and
// systemd-analyze verifies them all and rates each service's exposure.
func TestSystemdUnits(t *testing.T) {
	services, _ := filepath.Glob("systemd/*.service")
	timers, _ := filepath.Glob("systemd/*.timer")
	want := []string{"govlisten-process.service", "govlisten-serve.service", "govlisten-collect.service", "govlisten-collect.timer",
		"govlisten-report.service", "govlisten-report.timer", "govlisten-retention.service", "govlisten-retention.timer", "govlisten-migrate.service"}
	for _, w := range want {
		if _, err := os.Stat(filepath.Join("systemd", w)); err != nil {
			t.Errorf("missing %s", w)
		}
	}
	hardening := map[string]string{
		"User": "govlisten", "ProtectSystem": "strict", "ProtectHome": "true", "PrivateTmp": "true",
		"NoNewPrivileges": "true", "CapabilityBoundingSet": "", "StateDirectory": "govlisten",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "SystemCallFilter": "@system-service",
	}
	commands := regexp.MustCompile(`/usr/local/bin/govlisten (migrate|process|serve|collect --once|report|retention apply)\b`)
	for _, path := range services {
		u := readUnit(t, path)
		svc := u["Service"]
		for k, v := range hardening {
			if vals, ok := svc[k]; !ok || vals[0] != v {
				t.Errorf("%s: %s=%v, want %q", path, k, vals, v)
			}
		}
		if len(svc["EnvironmentFile"]) == 0 || svc["EnvironmentFile"][0] != "/etc/govlisten/govlisten.env" {
			t.Errorf("%s reads no secrets file", path)
		}
		for _, e := range svc["Environment"] {
			if regexp.MustCompile(`(?i)(PASSWORD|TOKEN|API_KEY)=`).MatchString(e) {
				t.Errorf("%s sets a secret inline: %s", path, e)
			}
		}
		if len(svc["ExecStart"]) != 1 || !commands.MatchString(svc["ExecStart"][0]) {
			t.Errorf("%s: ExecStart %v", path, svc["ExecStart"])
		}
		switch filepath.Base(path) {
		case "govlisten-process.service", "govlisten-serve.service":
			if svc["Restart"] == nil || svc["Restart"][0] != "always" || u["Install"] == nil {
				t.Errorf("%s: a service restarts always and is enabled at boot", path)
			}
		default:
			if svc["Type"][0] != "oneshot" {
				t.Errorf("%s: Type %v, want oneshot", path, svc["Type"])
			}
		}
	}
	if s := readUnit(t, "systemd/govlisten-report.service")["Service"]["ExecStart"][0]; !strings.Contains(s, `--date "$$(date -u -d yesterday +%%F)"`) {
		t.Errorf("report: %s", s)
	}
	for _, path := range timers {
		u := readUnit(t, path)
		if _, err := os.Stat(strings.TrimSuffix(path, ".timer") + ".service"); err != nil {
			t.Errorf("%s has no service", path)
		}
		if len(u["Timer"]) == 0 || u["Install"]["WantedBy"][0] != "timers.target" {
			t.Errorf("%s: no [Timer] or not wanted by timers.target", path)
		}
	}
	if b, err := os.ReadFile("systemd/govlisten.sysusers.conf"); err != nil || !strings.HasPrefix(strings.TrimSpace(lastLine(string(b))), "u govlisten ") {
		t.Errorf("sysusers: %v", err)
	}

	// systemd's own checks, on copies whose ExecStart runs a binary that
	// exists here (verify refuses a missing one).
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is needed to verify the units (apt-get install systemd; scripts/deps.sh does): %v", err)
	}
	dir := t.TempDir()
	var copies []string
	for _, path := range append(services, timers...) {
		b, _ := os.ReadFile(path)
		dst := filepath.Join(dir, filepath.Base(path))
		if err := os.WriteFile(dst, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/govlisten", "/bin/true")), 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, dst)
	}
	cmd := exec.Command(analyze, append([]string{"verify"}, copies...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	exposure := regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)
	for _, c := range copies {
		if !strings.HasSuffix(c, ".service") {
			continue
		}
		cmd := exec.Command(analyze, "security", "--offline=true", "--no-pager", c)
		cmd.Dir = dir
		out, _ := cmd.CombinedOutput()
		m := exposure.FindStringSubmatch(string(out))
		if m == nil {
			t.Errorf("systemd-analyze security %s:\n%s", filepath.Base(c), out)
			continue
		}
		if x, _ := strconv.ParseFloat(m[1], 64); x > 2.0 {
			t.Errorf("%s: exposure %s, want at most 2.0 (OK)", filepath.Base(c), m[1])
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
