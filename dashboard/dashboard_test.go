package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/dashboard"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// now is the dashboard's clock in these tests.
var now = time.Date(2026, 3, 10, 12, 30, 0, 0, time.UTC)

// hostile is a mention text that tries everything.
const hostile = `<script>alert("pwned")</script><img src=x onerror=alert(1)> "quoted" & ` + "\u202Egnp.exe\u202C" + ` javascript:alert(2)`

type fixture struct {
	id, text, url, handle string
	at                    time.Time
	depts, topics         []string
	label                 string
	likes                 uint64
	platform              string
}

func (x fixture) row() sink.Row {
	p := x.platform
	if p == "" {
		p = mention.Twitter
	}
	score := map[string]float64{"negative": -0.6, "neutral": 0, "positive": 0.6}[x.label]
	return sink.Row{
		M: &mention.Mention{V: mention.Version, Platform: p, ID: x.id, Kind: mention.KindComment, ThreadID: "th-" + x.id,
			AuthorHandle: x.handle, Text: x.text, URL: x.url, CreatedAt: x.at, CollectedAt: x.at,
			Metrics: mention.Metrics{Likes: x.likes}, Source: mention.Source{Name: "test"}},
		Tags:     tagger.Tags{Departments: x.depts, Topics: x.topics, Sentiment: tagger.Score{Score: score, Label: x.label}, Lang: "en"},
		Taxonomy: "test@1",
	}
}

// load inserts the data set every test of the package reads: over the
// week to now, dwp has 3 mentions a day and hmrc 1; the day before now
// has a hostile negative mention, a question to hmrc, a spike of 25 dwp
// mentions about housing, and an alert.
func load(t *testing.T, st *sink.Store) {
	t.Helper()
	var rows []sink.Row
	today := now.Truncate(24 * time.Hour)
	for d := 0; d < 7; d++ {
		day := today.AddDate(0, 0, -d).Add(9 * time.Hour)
		for i := 0; i < 3; i++ {
			rows = append(rows, fixture{id: fmt.Sprintf("dwp-%d-%d", d, i), text: "Universal Credit payment late again", at: day.Add(time.Duration(i) * time.Minute),
				depts: []string{"dwp"}, topics: []string{"welfare"}, label: []string{"negative", "neutral", "positive"}[i], likes: uint64(i),
				url: "https://x.com/i/web/status/1", handle: "citizen"}.row())
		}
		rows = append(rows, fixture{id: fmt.Sprintf("hmrc-%d", d), text: "Tax code wrong", at: day.Add(time.Hour), depts: []string{"hmrc"},
			topics: []string{"tax"}, label: "neutral", platform: mention.YouTube, url: "https://www.youtube.com/watch?v=1"}.row())
	}
	yesterday := today.Add(-24 * time.Hour).Add(15 * time.Hour)
	// A spike: 25 dwp mentions about housing yesterday evening.
	for i := 0; i < 25; i++ {
		rows = append(rows, fixture{id: fmt.Sprintf("spike-%d", i), text: "Housing benefit cut", at: yesterday.Add(5*time.Hour + time.Duration(i)*time.Minute),
			depts: []string{"dwp"}, topics: []string{"housing"}, label: "neutral", likes: uint64(i), url: "https://x.com/i/web/status/2"}.row())
	}
	rows = append(rows,
		fixture{id: "evil", text: hostile, url: "javascript:alert(3)", handle: `"><script>alert(4)</script>`, at: yesterday,
			depts: []string{"dwp"}, label: "negative", likes: 900}.row(),
		fixture{id: "question", text: "How do I pay my tax bill? <b>help</b>", at: yesterday.Add(time.Hour), depts: []string{"hmrc"},
			label: "neutral", url: "https://facebook.com/1", platform: mention.Facebook}.row(),
	)
	ctx := context.Background()
	if err := st.Insert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	batch, err := st.Conn().PrepareBatch(ctx, "INSERT INTO "+st.DB()+".alerts (id, period, scope, slug, period_start, mentions, baseline, explanation, detected_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.Append("hour:department:dwp:x", "hour", "department", "dwp", yesterday.Truncate(time.Hour), uint64(44), 3.5,
		"DWP mentions rose <script>alert(5)</script>", yesterday); err != nil {
		t.Fatal(err)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
}

// server starts a ClickHouse with the data set and the dashboard over it
// on a loopback port.
func server(t *testing.T) string {
	t.Helper()
	srv, _ := testenv.ClickHouseServer(t)
	st := testenv.Store(t, srv.DSN("dashboard"))
	load(t, st)
	cfg := config.Default()
	d := dashboard.New(analytics.New(st, &cfg), &cfg, slog.New(slog.DiscardHandler))
	d.Now = func() time.Time { return now }
	ts := httptest.NewServer(d)
	t.Cleanup(ts.Close)
	return ts.URL
}

func get(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// summary is the part of /api/summary the tests read.
type summary struct {
	View        string `json:"view"`
	Granularity string `json:"granularity"`
	Series      []struct {
		Start    time.Time `json:"start"`
		Mentions uint64    `json:"mentions"`
		Negative uint64    `json:"negative"`
	} `json:"series"`
	TopDepartments []analytics.SlugCount `json:"top_departments"`
	TopTopics      []analytics.SlugCount `json:"top_topics"`
	Spikes         []analytics.Spike     `json:"spikes"`
	Negative       []analytics.Mention   `json:"negative"`
	Unanswered     []analytics.Question  `json:"unanswered"`
	Alerts         []analytics.Alert     `json:"alerts"`
}

func apiSummary(t *testing.T, base, query string) summary {
	t.Helper()
	code, h, body := get(t, base+"/api/summary?"+query)
	if code != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("/api/summary?%s: %d %s %s", query, code, h.Get("Content-Type"), body)
	}
	var s summary
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func total(s summary) (n uint64) {
	for _, b := range s.Series {
		n += b.Mentions
	}
	return n
}

func TestDashboard(t *testing.T) {
	base := server(t)

	t.Run("page", func(t *testing.T) {
		code, h, body := get(t, base+"/")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /: %d %s", code, h.Get("Content-Type"))
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
		for _, want := range []string{
			"<h1>Public mentions</h1>",
			"Last 7 days: Wed 4 Mar 2026 to Tue 10 Mar 2026 (UTC), by day.",
			`<svg role="img" aria-label="Column chart of mentions per day from Wed 4 Mar 2026 to Tue 10 Mar 2026 UTC: 55 in total`,
			`aria-label="Stacked chart of sentiment per day`,
			`aria-label="Bar chart of the top departments by mentions, with the negative part hatched: Department for Work and Pensions 47 (17% negative); HM Revenue and Customs 8 (0% negative)."`,
			"<caption>Mentions per day (UTC)</caption>",
			`<a class="skip-link" href="#main">`,
			`<label for="department">Department</label>`,
			`<option value="dwp">Department for Work and Pensions</option>`,
			"Welfare and benefits",
			// the question, escaped, with its department's name
			"How do I pay my tax bill? &lt;b&gt;help&lt;/b&gt;",
			"For HM Revenue and Customs",
			// the alert, named and escaped
			"DWP mentions rose &lt;script&gt;alert(5)&lt;/script&gt;",
			`href="api/summary?range=7d"`,
			// the spikes, named, with what drove them
			"<h3>Department for Work and Pensions: 29 mentions, Mon 9 Mar 2026 UTC</h3>",
			"<h3>Housing, planning and homelessness: 25 mentions, Mon 9 Mar 2026 UTC</h3>",
			"Housing benefit cut",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		// Hostile text is text: escaped, isolated, and never a link.
		for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript`, `"><script>`, "<b>help"} {
			if strings.Contains(body, bad) {
				t.Errorf("the page contains %q unescaped", bad)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;") {
			t.Errorf("the hostile mention is not shown escaped")
		}
		if !regexp.MustCompile(`<bdi>[^<]*\x{202E}gnp\.exe\x{202C}[^<]*</bdi>`).MatchString(body) {
			t.Errorf("the right-to-left override is not isolated in <bdi>")
		}
		if !strings.Contains(body, `<a href="https://x.com/i/web/status/1"`) {
			t.Errorf("an https mention link is missing")
		}
	})

	t.Run("filters", func(t *testing.T) {
		all := apiSummary(t, base, "range=7d")
		if all.Granularity != "day" || len(all.Series) != 7 || total(all) != 55 {
			t.Fatalf("7 days: %s, %d buckets, %d mentions; want day, 7, 55", all.Granularity, len(all.Series), total(all))
		}
		if got := all.Series[6]; !got.Start.Equal(now.Truncate(24*time.Hour)) || got.Mentions != 4 {
			t.Errorf("today: %+v, want 4 mentions", got)
		}
		if d := all.TopDepartments; len(d) != 2 || d[0].Slug != "dwp" || d[0].Name != "Department for Work and Pensions" || d[0].Mentions != 47 || d[0].Negative != 8 {
			t.Errorf("top departments %+v", d)
		}
		if len(all.Negative) == 0 || all.Negative[0].ID != "evil" || all.Negative[0].Text != hostile {
			t.Errorf("most engaged negative: %+v (JSON carries the text as it is)", all.Negative)
		}
		if len(all.Unanswered) != 1 || all.Unanswered[0].ID != "question" || all.Unanswered[0].Addressed[0] != "hmrc" {
			t.Errorf("unanswered %+v", all.Unanswered)
		}
		if len(all.Alerts) != 1 || all.Alerts[0].Name != "Department for Work and Pensions" {
			t.Errorf("alerts %+v", all.Alerts)
		}
		var spikes []string
		for _, sp := range all.Spikes {
			ids := []string{}
			for _, m := range sp.Drivers {
				ids = append(ids, m.ID)
			}
			spikes = append(spikes, fmt.Sprintf("%s:%s %s %d %v", sp.Scope, sp.Slug, sp.Start.Format(time.DateOnly), sp.Mentions, ids))
		}
		if want := "[department:dwp 2026-03-09 29 [evil spike-24 spike-23] topic:housing 2026-03-09 25 [spike-24 spike-23 spike-22]]"; fmt.Sprint(spikes) != want {
			t.Errorf("spikes %v, want %s", spikes, want)
		}
		if all.View != "./?range=7d" {
			t.Errorf("view %q", all.View)
		}
		for _, tc := range []struct {
			query string
			want  uint64
		}{
			{"department=hmrc", 8},
			{"department=dwp&topic=welfare", 21},
			{"platform=youtube", 7},
			{"range=24h", 31},
			{"range=custom&from=2026-03-09&to=2026-03-09", 31},
			{"from=2026-03-04&to=2026-03-05", 8},
			{"range=30d&department=hmrc", 8},
		} {
			if s := apiSummary(t, base, tc.query); total(s) != tc.want {
				t.Errorf("%s: %d mentions, want %d", tc.query, total(s), tc.want)
			}
		}
		if s := apiSummary(t, base, "range=24h"); s.Granularity != "hour" || len(s.Series) != 24 {
			t.Errorf("24 hours: %s with %d buckets", s.Granularity, len(s.Series))
		}
		code, _, body := get(t, base+"/?department=hmrc&platform=youtube")
		if code != 200 || !strings.Contains(body, "<h1>Public mentions: HM Revenue and Customs, on YouTube</h1>") ||
			!strings.Contains(body, `<option value="hmrc" selected>HM Revenue and Customs</option>`) {
			t.Errorf("filtered page: %d, heading or selection missing", code)
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		for _, tc := range []struct{ query, param string }{
			{"range=1y", "range"},
			{"range=custom", "from"},
			{"range=custom&from=2026-03-01", "to"},
			{"from=2026-02-30&to=2026-03-01", "from"},
			{"from=2026-03-05&to=yesterday", "to"},
			{"from=2026-03-05&to=2026-03-01", "to"},
			{"from=2020-01-01&to=2026-03-01", "to"},
			{"range=7d&from=2026-03-01", "from"},
			{"department=nope", "department"},
			{"department=" + url.QueryEscape("<script>"), "department"},
			{"topic=fish", "topic"},
			{"platform=myspace", "platform"},
			{"department=dwp&department=hmrc", "department"},
			{"colour=red", "colour"},
		} {
			code, h, body := get(t, base+"/api/summary?"+tc.query)
			var e struct{ Error string }
			_ = json.Unmarshal([]byte(body), &e)
			if code != 400 || h.Get("Content-Type") != "application/json" || !strings.HasPrefix(e.Error, "bad parameter "+tc.param+":") {
				t.Errorf("/api/summary?%s: %d %q, want 400 naming %s", tc.query, code, e.Error, tc.param)
			}
			code, _, body = get(t, base+"/?"+tc.query)
			if code != 400 || !strings.Contains(body, "bad parameter "+tc.param+":") || strings.Contains(body, "<script>") {
				t.Errorf("/?%s: %d, want a 400 page naming %s, escaped", tc.query, code, tc.param)
			}
		}
	})

	t.Run("other paths", func(t *testing.T) {
		if code, h, body := get(t, base+"/static/style.css"); code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/css") || !strings.Contains(body, ".skip-link") {
			t.Errorf("style.css: %d %s", code, h.Get("Content-Type"))
		}
		if code, _, _ := get(t, base+"/static/app.js"); code != 200 {
			t.Errorf("app.js: %d", code)
		}
		for _, p := range []string{"/nope", "/metrics", "/healthz", "/static/missing.css"} {
			if code, _, _ := get(t, base+p); code != 404 {
				t.Errorf("%s: %d, want 404", p, code)
			}
		}
		resp, err := http.Post(base+"/", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /: %d, want 405", resp.StatusCode)
		}
	})

	t.Run("browser", func(t *testing.T) { browserTest(t, base) })
}
