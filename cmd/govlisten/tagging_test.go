package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/processors"
)

const reloadV1 = `version: 1
departments:
  - slug: dwp
    name: Department for Work and Pensions
    rules: ['"universal credit"']
topics: []
`

const reloadV2 = `version: 1
departments:
  - slug: dwp
    name: Department for Work and Pensions
    rules: ['"universal credit"']
  - slug: hmrc
    name: HM Revenue and Customs
    rules: [HMRC]
topics: []
`

func taxonomyVersion(name, content string) string {
	return processors.Version(name, []byte(content))
}

// importTexts imports one mention per text: synthetic mentions from the
// skip-th on (so calls with different skips have different ids) with the
// texts given.
func (e *env) importTexts(skip int, texts ...string) {
	e.t.Helper()
	g := synth.New(1)
	for range skip {
		g.Next()
	}
	lines := make([][]byte, len(texts))
	for i, text := range texts {
		m := g.Next()
		m.Text = text
		lines[i], _ = json.Marshal(m)
	}
	if _, stderr, code := e.run(nil, "import", writeLines(e.t, lines)); code != 0 {
		e.t.Fatalf("import exited %d: %s", code, stderr)
	}
}

func repeat(text string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = text
	}
	return out
}

// A running processor picks up a changed taxonomy file without a restart,
// every row records the taxonomy version that tagged it, a broken file is
// refused while tagging goes on with the last good one, and `retag` brings
// the rows tagged before the change up to date.
func TestProcessReloadsTaxonomyAndRetag(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	e.vars = append(e.vars, "GOVLISTEN_TAGGING_RELOAD_INTERVAL=100ms")
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(reloadV1), 0o600); err != nil {
		t.Fatal(err)
	}
	v1, v2 := taxonomyVersion("rules", reloadV1), taxonomyVersion("rules", reloadV2)
	p, logs := e.start("process", "--taxonomy", path)
	const text = "HMRC lost my forms and now universal credit is late"

	e.importTexts(0, repeat(text, 50)...)
	if got := e.waitCount("SELECT count() FROM DB.mentions FINAL WHERE taxonomy = '"+v1+"' AND departments = ['dwp']", 50, time.Minute); got != 50 {
		t.Fatalf("%d of 50 mentions tagged by %s; logs:\n%s", got, v1, tail(logs.String(), 2000))
	}

	if err := os.WriteFile(path, []byte(reloadV2), 0o600); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, `"taxonomy reloaded"`)
	e.importTexts(50, repeat(text, 50)...)
	if got := e.waitCount("SELECT count() FROM DB.mentions FINAL WHERE taxonomy = '"+v2+"' AND departments = ['dwp', 'hmrc']", 50, time.Minute); got != 50 {
		t.Fatalf("%d of 50 mentions tagged by %s after the reload", got, v2)
	}

	if err := os.WriteFile(path, []byte(strings.Replace(reloadV2, "[HMRC]", "[HMRC AND]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, `"taxonomy not reloaded`)
	e.importTexts(100, repeat(text, 10)...)
	if got := e.waitCount("SELECT count() FROM DB.mentions FINAL WHERE taxonomy = '"+v2+"'", 60, time.Minute); got != 60 {
		t.Fatalf("%d of 60 mentions tagged by the last good taxonomy while the file was broken", got)
	}
	_ = p.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(); err != nil {
		t.Fatalf("process exited with %v after SIGTERM", err)
	}

	// The 50 tagged by v1 are re-tagged with v2; nothing is doubled.
	good := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(good, []byte(reloadV2), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := e.run(nil, "retag", "--since", "2026-10-01", "--until", "2026-11-30", "--taxonomy", good, "--state", filepath.Join(t.TempDir(), "state.json"))
	if code != 0 {
		t.Fatalf("retag exited %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, `"retagged":50`) {
		t.Fatalf("retag did not report 50 re-tagged mentions:\n%s", stderr)
	}
	if got := e.count("SELECT count() FROM DB.mentions FINAL WHERE taxonomy = '" + v2 + "' AND departments = ['dwp', 'hmrc']"); got != 110 {
		t.Fatalf("after retag %d of 110 mentions carry v2's tags", got)
	}
	if got := e.count(finalCount); got != 110 {
		t.Fatalf("after retag mentions FINAL has %d rows, want 110", got)
	}
}

func waitLog(t *testing.T, logs *syncBuffer, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the logs:\n%s", what, tail(logs.String(), 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// config check names the key of every problem and exits 1; a good file is
// ok; config show masks the password of a DSN.
func TestConfigCheckAndShow(t *testing.T) {
	e := &env{t: t, vars: append(os.Environ(), "GOVLISTEN_CLICKHOUSE_DSN=clickhouse://analyst:s3cret-pw@db.internal:9000/govlisten")}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("process:\n  batch_size: 100\n  batch_timeout: 5m\nnats:\n  consumer:\n    ack_wait: 1m\n    max_deliver: 0\ntaxonomy: "+filepath.Join(dir, "missing.yaml")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := e.run(nil, "config", "check", bad)
	if code != 1 {
		t.Fatalf("config check of a bad file exited %d:\n%s", code, stderr)
	}
	for _, want := range []string{"nats.consumer.ack_wait:", "nats.consumer.max_deliver:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("config check output lacks %q:\n%s", want, stderr)
		}
	}
	badTax := filepath.Join(dir, "badtax.yaml")
	if err := os.WriteFile(badTax, []byte("taxonomy: "+filepath.Join(dir, "missing.yaml")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := e.run(nil, "config", "check", badTax); code != 1 || !strings.Contains(stderr, "taxonomy:") {
		t.Fatalf("config check of a missing taxonomy exited %d:\n%s", code, stderr)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("process:\n  batch_size: 5000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := e.run(nil, "config", "check", good); code != 0 || !strings.Contains(stdout, "ok") {
		t.Fatalf("config check of a good file exited %d:\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code := e.run(nil, "--config", good, "config", "show")
	if code != 0 {
		t.Fatalf("config show exited %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "s3cret-pw") || !strings.Contains(stdout, "batch_size: 5000") || !strings.Contains(stdout, "analyst:xxxxx@db.internal") {
		t.Fatalf("config show:\n%s", stdout)
	}
}

// With privacy.pseudonymise on, process stores keyed pseudonyms instead of
// author ids and handles, no author names, and no original id in raw; the
// same author gets the same pseudonym. Without a key it refuses to start.
func TestProcessPseudonymises(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	e.vars = append(e.vars, "GOVLISTEN_PRIVACY_PSEUDONYMISE=true")
	g := synth.New(9)
	lines := make([][]byte, 40)
	var ids []string
	for i := range lines {
		m := g.Next()
		if i%2 == 1 { // every other mention by the same author as the one before
			prev := ids[len(ids)-1]
			m.AuthorID = prev
		}
		ids = append(ids, m.AuthorID)
		lines[i], _ = json.Marshal(m)
	}
	if _, stderr, code := e.run(nil, "import", writeLines(t, lines)); code != 0 {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	if _, stderr, code := e.run(nil, "process", "--once"); code == 0 || !strings.Contains(stderr, "GOVLISTEN_PRIVACY_KEY") {
		t.Fatalf("process without a key exited %d: %s", code, stderr)
	}
	e.vars = append(e.vars, "GOVLISTEN_PRIVACY_KEY=test-key-of-at-least-thirty-two-bytes-long")
	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process exited %d: %s", code, stderr)
	}
	if got := e.count("SELECT count() FROM DB.mentions FINAL WHERE startsWith(author_id, 'p_') AND startsWith(author_handle, 'p_') AND author_name = ''"); got != 40 {
		t.Fatalf("%d of 40 rows pseudonymised", got)
	}
	for _, id := range ids {
		if got := e.count("SELECT count() FROM DB.mentions WHERE position(raw, '" + id + "') > 0 OR author_id = '" + id + "'"); got != 0 {
			t.Fatalf("author id %s still stored in %d rows", id, got)
		}
	}
	if got := e.count("SELECT uniqExact(author_id) FROM DB.mentions FINAL"); got != 20 {
		t.Fatalf("%d distinct pseudonyms for 20 authors", got)
	}
}
