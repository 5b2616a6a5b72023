package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// hookSecret is the token part of the webhook URLs these tests use: it
// must never appear in anything govlisten prints.
const hookSecret = "XoXbSeCrEtT0kEn4242"

// chatHook is a Slack- or Teams-like incoming webhook on loopback. It
// answers each post with the next of its statuses (the last one repeats),
// "ok" on 200 as Slack does, and keeps the bodies it accepted.
type chatHook struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	n        int
	bodies   []string
}

func newChatHook(t *testing.T, statuses ...int) *chatHook {
	h := &chatHook{statuses: statuses}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		status := h.statuses[min(h.n, len(h.statuses)-1)]
		h.n++
		if status/100 == 2 && json.Valid(b) {
			h.bodies = append(h.bodies, string(b))
		}
		h.mu.Unlock()
		w.WriteHeader(status)
		if status == http.StatusOK {
			_, _ = io.WriteString(w, "ok")
		} else {
			_, _ = io.WriteString(w, "error at "+r.URL.String())
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// URL carries a token in its path, as Slack's do.
func (h *chatHook) URL() string { return h.srv.URL + "/services/T0GOV/B0LISTEN/" + hookSecret }

func (h *chatHook) Bodies() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.bodies)
}

// briefRow is a stored mention of one department.
func briefRow(id string, at time.Time, text, dept string, negative bool, likes uint64) sink.Row {
	score := tagger.Score{Score: 0.25, Label: tagger.Positive}
	if negative {
		score = tagger.Score{Score: -0.5, Label: tagger.Negative}
	}
	return sink.Row{
		M: &mention.Mention{V: mention.Version, Platform: mention.Twitter, ID: id, Kind: mention.KindPost, Text: text, Lang: "en",
			AuthorHandle: "someone", URL: "https://x.com/i/web/status/" + id, CreatedAt: at, CollectedAt: at.Add(time.Minute),
			Metrics: mention.Metrics{Likes: likes}},
		Tags:     tagger.Tags{Departments: []string{dept}, Sentiment: score, Lang: "en"},
		Taxonomy: "test",
	}
}

func (e *env) insertRows(rows []sink.Row) {
	e.t.Helper()
	if err := e.store.Insert(context.Background(), rows); err != nil {
		e.t.Fatal(err)
	}
}

// noSecret fails when the webhook token shows in anything printed.
func noSecret(t *testing.T, what string, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, hookSecret) {
			t.Fatalf("%s printed the webhook token:\n%s", what, o)
		}
	}
}

// govlisten report, as cron runs it: each format, the default directory,
// stdout, and --post to Slack and Teams webhooks, which never see the
// token printed even when they fail.
func TestReportCommand(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var rows []sink.Row
	for d := 7; d >= 1; d-- {
		for i := 0; i < 10; i++ {
			rows = append(rows, briefRow(fmt.Sprintf("3%02d%03d", d, i), day.AddDate(0, 0, -d).Add(time.Duration(9+i)*time.Hour), "Universal Credit payment date", "dwp", i < 2, uint64(i)))
		}
	}
	for i := 0; i < 40; i++ {
		text := "Universal Credit sanctions chaos"
		if i == 0 {
			text = `<script>alert("x")</script> Diolch ŵ 🙏🏽 شكرا`
		}
		rows = append(rows, briefRow(fmt.Sprintf("4%03d", i), day.Add(time.Duration(8+i%8)*time.Hour), text, "dwp", i < 24, uint64(1000-i)))
	}
	e.insertRows(rows)
	dataDir := t.TempDir()
	e.vars = append(e.vars, "GOVLISTEN_DATA_DIR="+dataDir)
	dir := t.TempDir()

	for _, f := range []string{"md", "html", "pdf"} {
		out, stderr, code := e.run(nil, "report", "--date", "2026-11-20", "--format", f, "--out", dir)
		want := filepath.Join(dir, "briefing-2026-11-20."+f)
		if code != 0 || strings.TrimSpace(out) != want {
			t.Fatalf("report --format %s: exit %d, printed %q, want %q\n%s", f, code, out, want, stderr)
		}
		b, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		switch f {
		case "md":
			for _, line := range []string{
				"- Mentions: **40** · day before: 10 (+300%) · 7 days: 10.0 a day (+300%)",
				"- Negative share: **60%** · day before: 20% (+40 pts) · 7 days: 20% (+40 pts)",
				"1. Department for Work and Pensions: 40 mentions against a 7-day average of 10.0 (+300%)",
				"- All day · Department for Work and Pensions: 40 mentions against 5.0 a day over the 14 days before; negative 60% (usually 20%)",
				`> \<script\>alert("x")\</script\> Diolch ŵ 🙏🏽 شكرا`,
			} {
				if !strings.Contains(string(b), line) {
					t.Errorf("markdown lacks %q:\n%s", line, b)
				}
			}
		case "html":
			if !strings.Contains(string(b), `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`) || strings.Contains(string(b), "<script>") {
				t.Errorf("html does not escape the mention:\n%s", b)
			}
		case "pdf":
			if !strings.HasPrefix(string(b), "%PDF-") || !strings.Contains(string(b), "/Count 1") {
				t.Errorf("not a one-page PDF: %.100q", b)
			}
		}
	}
	// The default place: <data_dir>/reports, named after the department.
	out, stderr, code := e.run(nil, "report", "--date", "2026-11-20", "--department", "dwp", "--format", "pdf")
	if want := filepath.Join(dataDir, "reports", "briefing-2026-11-20-dwp.pdf"); code != 0 || strings.TrimSpace(out) != want {
		t.Fatalf("report --department dwp: exit %d, printed %q, want %q\n%s", code, out, want, stderr)
	}
	if out, _, code := e.run(nil, "report", "--date", "2026-11-20", "--format", "md", "--out", "-"); code != 0 || !strings.HasPrefix(out, "# Daily briefing: Friday 20 November 2026\n") {
		t.Fatalf("report --out -: exit %d\n%s", code, out)
	}
	if _, stderr, code := e.run(nil, "report", "--date", "2026-11-20", "--department", "no-such-dept"); code != 1 || !strings.Contains(stderr, "no-such-dept") {
		t.Fatalf("unknown department: exit %d: %s", code, stderr)
	}

	// --post without a webhook configured fails at once, naming the variable.
	if _, stderr, code := e.run(nil, "report", "--date", "2026-11-20", "--out", dir, "--post"); code != 1 || !strings.Contains(stderr, "GOVLISTEN_REPORT_WEBHOOK_URL") {
		t.Fatalf("--post without a webhook: exit %d: %s", code, stderr)
	}
	base := e.vars
	for _, c := range []struct {
		format string
		status int
		want   string
	}{
		{"slack", http.StatusOK, `"text":"Daily briefing Fri 20 Nov 2026: All departments: 40 mentions`},
		{"teams", http.StatusAccepted, `"contentType":"application/vnd.microsoft.card.adaptive"`},
	} {
		hook := newChatHook(t, c.status)
		e.vars = append(slices.Clone(base), "GOVLISTEN_REPORT_WEBHOOK_URL="+hook.URL(), "GOVLISTEN_REPORT_WEBHOOK_FORMAT="+c.format)
		out, stderr, code := e.run(nil, "report", "--date", "2026-11-20", "--format", "pdf", "--out", dir, "--post")
		noSecret(t, "report --post", out, stderr)
		bodies := hook.Bodies()
		if code != 0 || len(bodies) != 1 || !strings.Contains(bodies[0], c.want) || !strings.Contains(bodies[0], "briefing-2026-11-20.pdf") {
			t.Fatalf("report --post (%s): exit %d, bodies %q\n%s", c.format, code, bodies, stderr)
		}
		if c.format == "slack" && !strings.Contains(bodies[0], `"blocks":[{"text":{"emoji":false,"text":"Daily briefing Fri 20 Nov 2026: All departments","type":"plain_text"},"type":"header"}`) {
			t.Errorf("slack body: %s", bodies[0])
		}
	}
	// A failing webhook: exit 1, the file is written, the token not printed.
	hook := newChatHook(t, http.StatusInternalServerError)
	e.vars = append(slices.Clone(base), "GOVLISTEN_REPORT_WEBHOOK_URL="+hook.URL())
	out, stderr, code = e.run(nil, "report", "--date", "2026-11-20", "--format", "md", "--out", dir, "--post")
	noSecret(t, "report --post to a failing webhook", out, stderr)
	if code != 1 || !strings.Contains(stderr, "500") || !strings.Contains(out, "briefing-2026-11-20.md") {
		t.Fatalf("report --post to a failing webhook: exit %d\n%s\n%s", code, out, stderr)
	}
	e.vars = base
}
