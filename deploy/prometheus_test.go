package deploy_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The suggested alert rules parse as a Prometheus rule file, each rule has
// an expression, a severity and a summary, and its runbook names a heading
// of docs/operations.md.
func TestPrometheusAlerts(t *testing.T) {
	var rf struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("prometheus/alerts.yaml: %v", err)
	}
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(doc), -1) {
		headings[strings.ToLower(strings.ReplaceAll(m[1], " ", "-"))] = true
	}
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v lacks alert, expr, severity or summary", r)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %s", r.Alert, r.Expr)
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook"], "docs/operations.md#")
			if !ok || !headings[anchor] {
				t.Errorf("%s: runbook %q is not a heading of docs/operations.md", r.Alert, r.Annotations["runbook"])
			}
		}
	}
	for _, want := range []string{"consumer_pending_messages", "dead_lettered", "insert_errors", "rate_limit_wait", "quota_left", "last_success"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no rule on %s", want)
		}
	}
	if n < 6 {
		t.Errorf("%d rules", n)
	}
}
