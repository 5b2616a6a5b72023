package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/alerts/webhook"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

func TestSpikeRule(t *testing.T) {
	flat := func(v uint64, n int) []uint64 { return slices.Repeat([]uint64{v}, n) }
	jumpy := []uint64{0, 40, 0, 40, 0, 40, 0, 40, 0, 40, 0, 40}
	for _, c := range []struct {
		name     string
		n        uint64
		baseline []uint64
		spike    bool
		mean, sd float64
	}{
		{"empty baseline, enough mentions", 20, flat(0, 12), true, 0, 0},
		{"empty baseline, too few mentions", 19, flat(0, 12), false, 0, 0},
		{"flat baseline, three times", 30, flat(10, 12), true, 10, 0},
		{"flat baseline, under three times", 29, flat(10, 12), false, 10, 0},
		{"flat at the level", 25, flat(25, 12), false, 25, 0},
		{"jumpy baseline: three times the mean but under mean + 3 sd", 60, jumpy, false, 20, 20},
		{"jumpy baseline, mean + 3 sd", 80, jumpy, true, 20, 20},
		{"high volume, under the factor", 2900, flat(1000, 14), false, 1000, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			mean, sd, spike := Spike(c.n, c.baseline, 20, 3)
			if spike != c.spike || mean != c.mean || sd != c.sd {
				t.Fatalf("Spike(%d, %v) = %g, %g, %v; want %g, %g, %v", c.n, c.baseline, mean, sd, spike, c.mean, c.sd, c.spike)
			}
		})
	}
}

func TestTopTerms(t *testing.T) {
	got := tokens("RT @DWP Jobcentre sanctions!! https://t.co/x www.gov.uk #UniversalCredit 2026 it's the Jobcentre")
	if want := []string{"jobcentre", "sanctions", "universalcredit"}; !slices.Equal(got, want) {
		t.Fatalf("tokens = %v, want %v", got, want)
	}
	period := []string{"pension chaos today", "pension chaos again", "payment late", "chaos everywhere pension"}
	baseline := []string{"payment late", "payment question", "pension question", "payment late again"}
	if got, want := topTerms(period, baseline, 5), []string{"chaos", "pension"}; !slices.Equal(got, want) {
		t.Fatalf("topTerms = %v, want %v", got, want)
	}
	if got := topTerms(nil, baseline, 5); len(got) != 0 {
		t.Fatalf("topTerms of nothing = %v", got)
	}
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	from, to := window(Hour, now, 6*time.Hour)
	if !from.Equal(time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("hour window = %v, %v", from, to)
	}
	from, to = window(Day, now, 6*time.Hour) // at least the last complete day
	if !from.Equal(time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("day window = %v, %v", from, to)
	}
}

// The integration tests share one real ClickHouse server; each uses its own
// database.
func TestAlerts(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	db := 0
	store := func(t *testing.T) *sink.Store {
		db++
		return testenv.Store(t, srv.DSN(fmt.Sprintf("alerts_%d", db)))
	}
	t.Run("spike is found, explained, stored and posted once", func(t *testing.T) { testSpike(t, store(t)) })
	t.Run("flat series raises nothing", func(t *testing.T) { testFlat(t, store(t)) })
	t.Run("webhook 500 is retried next run, posted once", func(t *testing.T) { testRetry500(t, store(t)) })
	t.Run("webhook timeout is retried next run", func(t *testing.T) { testTimeout(t, store(t)) })
	t.Run("teams body", func(t *testing.T) { testTeams(t, store(t)) })
	t.Run("two detectors at once post at most twice", func(t *testing.T) { testConcurrent(t, store(t)) })
	t.Run("day spikes by department and topic", func(t *testing.T) { testDay(t, store(t)) })
	t.Run("Run in the background", func(t *testing.T) { testRun(t, store(t)) })
}

// testRun runs alerts.Run as serve and up do, on the real clock, until the
// spike of two hours ago reaches the webhook, then stops it.
func testRun(t *testing.T, st *sink.Store) {
	spike := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	var rows []sink.Row
	for h := 1; h <= 12; h++ {
		rows = append(rows, row("", spike.Add(-time.Duration(h)*time.Hour), "payment date question", []string{"dfe"}, nil, false, 1, false))
	}
	for i := 0; i < 25; i++ {
		rows = append(rows, row("", spike.Add(time.Duration(i)*time.Minute), "exam results chaos", []string{"dfe"}, nil, true, 1, false))
	}
	insert(t, st, rows)
	got := make(chan []byte, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	t.Setenv("GOVLISTEN_ALERTS_WEBHOOK_URL", srv.URL+secretPath)
	cfg := testenv.Config()
	cfg.Alerts.Every = config.Duration(time.Hour)
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, st, cfg, slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil))) }()
	body := <-got
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !bytes.Contains(body, []byte("Spike: Department for Education")) || !bytes.Contains(body, []byte("exam")) {
		t.Fatalf("posted: %s", body)
	}
	if strings.Contains(logs.String(), "SeCrEtToKeN") || !strings.Contains(logs.String(), "looking for spikes") {
		t.Fatalf("logs carry the webhook token, or not the start:\n%s", logs.String())
	}
	cfg.Alerts.Every = 0
	if err := Run(context.Background(), st, cfg, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("Run with alerts off: %v", err)
	}
}

// syncWriter serialises writes from the Run goroutine.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// The planted dataset, all on Friday 20 November 2026 (UTC): hmrc has a
// flat 25 mentions an hour, 5 of them negative; dwp has 3 an hour, 1 of
// them negative, except 20:00–21:00, when 40 mentions, 30 of them negative,
// say "jobcentre sanctions chaos": one liked 9,000 times (plantedTop), one
// the department's own post liked 50,000 times (ownPost). Detection runs at
// 23:30 looking back 6 hours, so every judged hour has a full baseline and
// the day, not over, is not judged.
var (
	spikeNow   = time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	spikeHour  = time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)
	plantedTop = "twitter:1990000000000000042"
	ownPost    = "twitter:1990000000000000043"
	spikeID    = "hour:department:dwp:2026-11-20T20:00:00Z"
	secretPath = "/services/T0000/B0000/SeCrEtToKeN0123456789"
)

func plantSpike(t *testing.T, st *sink.Store) {
	t.Helper()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var rows []sink.Row
	for h := 0; h < 24; h++ {
		at := day.Add(time.Duration(h) * time.Hour)
		for i := 0; i < 25; i++ {
			rows = append(rows, row("", at.Add(time.Duration(i)*time.Minute), "HMRC self assessment question", []string{"hmrc"}, nil, i%5 == 0, 1, false))
		}
		if !at.Equal(spikeHour) {
			for i := 0; i < 3; i++ {
				rows = append(rows, row("", at.Add(time.Duration(i)*time.Minute), "Question about my Universal Credit payment, please explain #UniversalCredit", []string{"dwp"}, nil, i == 0, 2, false))
			}
			continue
		}
		for i := 0; i < 40; i++ {
			text := fmt.Sprintf("Jobcentre sanctions chaos, @DWP please explain https://t.co/abc%d #UniversalCredit", i)
			switch i {
			case 0:
				rows = append(rows, row(plantedTop, at.Add(time.Minute), text, []string{"dwp"}, nil, true, 9000, false))
			case 1:
				rows = append(rows, row(ownPost, at.Add(2*time.Minute), "Our statement on Universal Credit payments", []string{"dwp"}, nil, false, 50000, true))
			default:
				rows = append(rows, row("", at.Add(time.Duration(i)*time.Minute), text, []string{"dwp"}, nil, i <= 30, uint64(i), false))
			}
		}
	}
	insert(t, st, rows)
}

func testSpike(t *testing.T, st *sink.Store) {
	plantSpike(t, st)
	hook := newReceiver(t, http.StatusOK)
	var logs bytes.Buffer
	d := detector(st, webhookClient(t, hook.URL(), webhook.Slack, 0), &logs)
	ctx := context.Background()
	res, err := d.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Found != 1 || res.New != 1 || res.Posted != 1 || res.Pending != 0 {
		t.Fatalf("first run: %+v, want 1 found, new and posted", res)
	}
	as := stored(t, d)
	if len(as) != 1 {
		t.Fatalf("stored %d alerts, want 1: %+v", len(as), as)
	}
	a := as[0]
	if a.ID != spikeID || a.Period != Hour || a.Scope != Department || a.Slug != "dwp" || !a.Start.Equal(spikeHour) {
		t.Fatalf("alert = %+v", a)
	}
	if a.Mentions != 40 || a.Baseline != 3 || a.Stddev != 0 {
		t.Fatalf("numbers: %d mentions, baseline %g, stddev %g; want 40, 3, 0", a.Mentions, a.Baseline, a.Stddev)
	}
	if a.NegativeShare != 0.75 || !near(a.BaselineNegativeShare, 12.0/36) {
		t.Fatalf("negative share %g against %g, want 0.75 against 1/3", a.NegativeShare, a.BaselineNegativeShare)
	}
	for _, w := range []string{"jobcentre", "sanctions", "chaos"} {
		if !slices.Contains(a.TopTerms, w) {
			t.Errorf("top terms %v lack planted word %q", a.TopTerms, w)
		}
	}
	for _, w := range []string{"dwp", "https", "t", "co", "please", "explain", "universalcredit"} {
		if slices.Contains(a.TopTerms, w) {
			t.Errorf("top terms %v hold %q (a handle, URL or baseline word)", a.TopTerms, w)
		}
	}
	if len(a.MentionIDs) == 0 || a.MentionIDs[0] != plantedTop || slices.Contains(a.MentionIDs, ownPost) {
		t.Errorf("mention ids %v: want %s first and not the department's own %s", a.MentionIDs, plantedTop, ownPost)
	}
	if !a.Notified() || !strings.Contains(a.Explanation, "Department for Work and Pensions had 40 mentions") {
		t.Errorf("notified %v, explanation %q", a.Notified(), a.Explanation)
	}

	// The Slack body: fallback text and Block Kit blocks with the link.
	bodies := hook.Bodies()
	if len(bodies) != 1 {
		t.Fatalf("webhook got %d posts, want 1", len(bodies))
	}
	var slack struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(bodies[0], &slack); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(slack.Text, "Spike: Department for Work and Pensions, 40 mentions") || len(slack.Blocks) < 3 || slack.Blocks[0]["type"] != "header" {
		t.Fatalf("slack body: %s", bodies[0])
	}
	var linked bool
	for _, b := range slack.Blocks {
		text, _ := b["text"].(map[string]any)
		s, _ := text["text"].(string)
		linked = linked || strings.HasPrefix(s, "• <https://example.invalid/twitter/1990000000000000042|twitter:1990000000000000042 (9,000 interactions)>\n")
	}
	if !linked {
		t.Errorf("slack body lacks the most-engaged link first: %s", bodies[0])
	}

	// Again, and after a restart: nothing more is posted.
	if res, err := d.RunOnce(ctx); err != nil || res.New != 0 || res.Posted != 0 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	restarted := detector(st, webhookClient(t, hook.URL(), webhook.Slack, 0), &logs)
	if res, err := restarted.RunOnce(ctx); err != nil || res.Found != 1 || res.New != 0 || res.Posted != 0 {
		t.Fatalf("run after restart: %+v, %v", res, err)
	}
	if n := len(hook.Bodies()); n != 1 {
		t.Fatalf("webhook got %d posts over three runs, want 1", n)
	}
	if strings.Contains(logs.String(), "SeCrEtToKeN") {
		t.Fatalf("logs carry the webhook token:\n%s", logs.String())
	}
}

func testFlat(t *testing.T, st *sink.Store) {
	// hmrc flat at 25 an hour; dfe alternating 20 and 40 (mean 30, sd 10).
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var rows []sink.Row
	for h := 0; h < 24; h++ {
		at := day.Add(time.Duration(h) * time.Hour)
		for i := 0; i < 25; i++ {
			rows = append(rows, row("", at.Add(time.Duration(i)*time.Minute), "HMRC self assessment", []string{"hmrc"}, []string{"tax"}, false, 1, false))
		}
		for i := 0; i < 20+20*(h%2); i++ {
			rows = append(rows, row("", at.Add(time.Duration(i)*time.Second), "school funding", []string{"dfe"}, []string{"education"}, false, 1, false))
		}
	}
	insert(t, st, rows)
	hook := newReceiver(t, http.StatusOK)
	d := detector(st, webhookClient(t, hook.URL(), webhook.Slack, 0), nil)
	res, err := d.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Found != 0 || len(stored(t, d)) != 0 || len(hook.Bodies()) != 0 {
		t.Fatalf("flat series: %+v, %d stored, %d posted; want none", res, len(stored(t, d)), len(hook.Bodies()))
	}
}

func testRetry500(t *testing.T, st *sink.Store) {
	plantSpike(t, st)
	hook := newReceiver(t, http.StatusInternalServerError, http.StatusOK)
	var logs bytes.Buffer
	d := detector(st, webhookClient(t, hook.URL(), webhook.Slack, 0), &logs)
	ctx := context.Background()
	res, err := d.RunOnce(ctx)
	if err == nil || !errors.Is(err, webhook.ErrStatus) || res.New != 1 || res.Posted != 0 || res.Pending != 1 {
		t.Fatalf("run against a failing webhook: %+v, %v", res, err)
	}
	if strings.Contains(err.Error(), "SeCrEtToKeN") || strings.Contains(err.Error(), secretPath) {
		t.Fatalf("error carries the webhook token: %v", err)
	}
	if as := stored(t, d); len(as) != 1 || as[0].Notified() {
		t.Fatalf("after a failed post: %+v, want one unsent alert", as)
	}
	res, err = d.RunOnce(ctx)
	if err != nil || res.New != 0 || res.Posted != 1 {
		t.Fatalf("retry run: %+v, %v", res, err)
	}
	if res, err = d.RunOnce(ctx); err != nil || res.Posted != 0 {
		t.Fatalf("third run: %+v, %v", res, err)
	}
	if got := hook.Statuses(); !slices.Equal(got, []int{500, 200}) {
		t.Fatalf("webhook answered %v, want one 500 then one 200", got)
	}
	if as := stored(t, d); len(as) != 1 || !as[0].Notified() {
		t.Fatalf("after the retry: %+v, want one sent alert", as)
	}
	if strings.Contains(logs.String(), "SeCrEtToKeN") {
		t.Fatalf("logs carry the webhook token:\n%s", logs.String())
	}
}

func testTimeout(t *testing.T, st *sink.Store) {
	plantSpike(t, st)
	var (
		mu   sync.Mutex
		hang = true
		ok   int
	)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		h := hang
		mu.Unlock()
		if h {
			select { // no answer: the client gives up first
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		mu.Lock()
		ok++
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	d := detector(st, webhookClient(t, srv.URL+secretPath, webhook.Slack, 200*time.Millisecond), nil)
	ctx := context.Background()
	if res, err := d.RunOnce(ctx); err == nil || res.Posted != 0 || strings.Contains(err.Error(), "SeCrEtToKeN") {
		t.Fatalf("run against a silent webhook: %+v, %v", res, err)
	}
	mu.Lock()
	hang = false
	mu.Unlock()
	if res, err := d.RunOnce(ctx); err != nil || res.Posted != 1 {
		t.Fatalf("retry run: %+v, %v", res, err)
	}
	if res, err := d.RunOnce(ctx); err != nil || res.Posted != 0 {
		t.Fatalf("third run: %+v, %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if ok != 1 {
		t.Fatalf("webhook accepted %d posts, want 1", ok)
	}
}

func testTeams(t *testing.T, st *sink.Store) {
	plantSpike(t, st)
	hook := newReceiver(t, http.StatusAccepted)
	d := detector(st, webhookClient(t, hook.URL(), webhook.Teams, 0), nil)
	if res, err := d.RunOnce(context.Background()); err != nil || res.Posted != 1 {
		t.Fatalf("run: %+v, %v", res, err)
	}
	bodies := hook.Bodies()
	if len(bodies) != 1 {
		t.Fatalf("webhook got %d posts, want 1", len(bodies))
	}
	var msg struct {
		Type        string `json:"type"`
		Summary     string `json:"summary"`
		Attachments []struct {
			ContentType string  `json:"contentType"`
			ContentURL  *string `json:"contentUrl"`
			Content     struct {
				Schema  string           `json:"$schema"`
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "message" || len(msg.Attachments) != 1 {
		t.Fatalf("teams body: %s", bodies[0])
	}
	card := msg.Attachments[0]
	if card.ContentType != "application/vnd.microsoft.card.adaptive" || card.ContentURL != nil || card.Content.Type != "AdaptiveCard" ||
		card.Content.Version != "1.4" || card.Content.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" {
		t.Fatalf("teams attachment: %s", bodies[0])
	}
	b := card.Content.Body
	if len(b) < 3 || b[0]["type"] != "TextBlock" || b[0]["text"] != "Spike: Department for Work and Pensions" {
		t.Fatalf("card body: %s", bodies[0])
	}
	var facts, link bool
	for _, el := range b {
		facts = facts || el["type"] == "FactSet"
		s, _ := el["text"].(string)
		link = link || strings.Contains(s, "[twitter:1990000000000000042 (9,000 interactions)](https://example.invalid/twitter/1990000000000000042)")
	}
	if !facts || !link || !strings.Contains(msg.Summary, "40 mentions") {
		t.Fatalf("card lacks facts, link or summary: %s", bodies[0])
	}
}

func testConcurrent(t *testing.T, st *sink.Store) {
	plantSpike(t, st)
	hook := newReceiver(t, http.StatusOK)
	a := detector(st, webhookClient(t, hook.URL(), webhook.Slack, 0), nil)
	b := detector(st, webhookClient(t, hook.URL(), webhook.Slack, 0), nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, d := range []*Detector{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = d.RunOnce(context.Background())
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	n := len(hook.Bodies())
	if n < 1 || n > 2 {
		t.Fatalf("two detectors at once posted %d times, want once (twice at worst: the documented race)", n)
	}
	t.Logf("two detectors at once posted %d time(s)", n)
	if res, err := a.RunOnce(context.Background()); err != nil || res.Posted != 0 {
		t.Fatalf("a later run: %+v, %v", res, err)
	}
	if as := stored(t, a); len(as) != 1 || !as[0].Notified() {
		t.Fatalf("stored: %+v", as)
	}
}

func testDay(t *testing.T, st *sink.Store) {
	// hmrc (topic tax) has 25 mentions at noon on each of the 14 days
	// before 20 November, and 100 at noon on the 20th. Judged on the 21st
	// at 01:30 looking back 14 hours: the day spikes for the department and
	// the topic, against 25 a day; noon of the 20th spikes by the hour
	// (nothing in the 12 hours before it); earlier noons are out of the
	// window.
	var rows []sink.Row
	for d := 14; d >= 0; d-- {
		noon := time.Date(2026, 11, 20-d, 12, 0, 0, 0, time.UTC)
		n := 25
		if d == 0 {
			n = 100
		}
		for i := 0; i < n; i++ {
			rows = append(rows, row("", noon.Add(time.Duration(i)*time.Second), "tax code letter", []string{"hmrc"}, []string{"tax"}, i%4 == 0, 1, false))
		}
	}
	insert(t, st, rows)
	d := detector(st, nil, nil)
	d.Now = func() time.Time { return time.Date(2026, 11, 21, 1, 30, 0, 0, time.UTC) }
	d.Since = 14 * time.Hour
	res, err := d.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range stored(t, d) {
		ids = append(ids, a.ID)
		if a.Period == Day && (a.Mentions != 100 || a.Baseline != 25 || a.NegativeShare != 0.25 || !near(a.BaselineNegativeShare, 0.28)) {
			t.Errorf("day alert numbers: %+v", a)
		}
	}
	want := []string{
		"day:department:hmrc:2026-11-20T00:00:00Z",
		"day:topic:tax:2026-11-20T00:00:00Z",
		"hour:department:hmrc:2026-11-20T12:00:00Z",
		"hour:topic:tax:2026-11-20T12:00:00Z",
	}
	slices.Sort(ids)
	if !slices.Equal(ids, want) || res.Pending != 4 {
		t.Fatalf("alerts %v (%+v), want %v, all pending without a webhook", ids, res, want)
	}
}

// --- helpers

var seq struct {
	sync.Mutex
	n int
}

// row is a tagged mention; id "" takes the next X-like id.
func row(id string, at time.Time, text string, depts, topics []string, negative bool, likes uint64, own bool) sink.Row {
	platform := mention.Twitter
	if id == "" {
		seq.Lock()
		seq.n++
		id = fmt.Sprintf("18%017d", seq.n)
		seq.Unlock()
	} else {
		platform, id, _ = strings.Cut(id, ":")
	}
	score := tagger.Score{Score: 0.1, Label: tagger.Neutral}
	if negative {
		score = tagger.Score{Score: -0.6, Label: tagger.Negative}
	}
	return sink.Row{
		M: &mention.Mention{
			V: mention.Version, Platform: platform, ID: id, Kind: mention.KindPost, Text: text, Lang: "en",
			URL: "https://example.invalid/" + platform + "/" + id, CreatedAt: at, CollectedAt: at.Add(time.Minute),
			Metrics: mention.Metrics{Likes: likes}, Own: own,
		},
		Tags:     tagger.Tags{Departments: depts, Topics: topics, Sentiment: score, Lang: "en"},
		Taxonomy: "test",
	}
}

func insert(t *testing.T, st *sink.Store, rows []sink.Row) {
	t.Helper()
	if err := st.Insert(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

func detector(st *sink.Store, hook *webhook.Client, logs io.Writer) *Detector {
	names, err := Names("")
	if err != nil {
		panic(err)
	}
	if logs == nil {
		logs = io.Discard
	}
	return &Detector{
		Store: st, MinMentions: 20, Factor: 3, Since: 6 * time.Hour, Webhook: hook, Names: names,
		Log: slog.New(slog.NewJSONHandler(logs, nil)), Now: func() time.Time { return spikeNow },
	}
}

func webhookClient(t *testing.T, url, format string, timeout time.Duration) *webhook.Client {
	t.Helper()
	c, err := webhook.New(url, format, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func stored(t *testing.T, d *Detector) []Alert {
	t.Helper()
	as, err := d.Stored(context.Background(), time.Unix(0, 0), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// receiver is a chat webhook on loopback: it records each body and answers
// with the next of its statuses (the last one repeating), "ok" on 200 as
// Slack does.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	answered []int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := r.statuses[min(len(r.answered), len(r.statuses)-1)]
		r.answered = append(r.answered, status)
		if status/100 == 2 {
			r.bodies = append(r.bodies, body)
		}
		r.mu.Unlock()
		if req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") || !json.Valid(body) {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		w.WriteHeader(status)
		switch {
		case status == http.StatusOK:
			_, _ = io.WriteString(w, "ok")
		case status >= 500:
			_, _ = io.WriteString(w, "internal error for "+req.URL.Path)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the webhook's URL, with a token-like path.
func (r *receiver) URL() string { return r.srv.URL + secretPath }

// Bodies are the bodies of the accepted posts.
func (r *receiver) Bodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

// Statuses are the answers given, in order.
func (r *receiver) Statuses() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.answered)
}
