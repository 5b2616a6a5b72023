package briefing

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/alerts"
	"github.com/govlisten/govlisten/alerts/webhook"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

var (
	day      = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	hostile  = `<script>alert("pwned")</script> [click](javascript:alert(1)) **Universal Credit** sanctions chaos & more`
	polyglot = "Diolch yn fawr ŵyr ŷ 🙏🏽 👨‍👩‍👧 🇬🇧 شكرا جزيلا תודה רבה 中文 café – “quotes” €5 \x00\x07 end"
	lateNow  = func() time.Time { return time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC) }
	testSeqN struct {
		sync.Mutex
		n int
	}
)

// plant writes the dataset whose numbers the tests know: on each of the 7
// days before 20 November 2026, dwp has 10 mentions (2 negative, topic
// welfare), hmrc 20 (4 negative, topic tax), dfe 5 (1 negative). On the
// 20th, dwp has 40 (24 negative; 30 of them welfare, 18 of those
// negative; the most engaged is hostile HTML), hmrc 20 (12 negative; the
// most engaged in Welsh, emoji, Arabic, Hebrew and Chinese), dfe 5 (1
// negative). Negative mentions score -0.5, the others +0.25. Mentions are
// spread over 08:00–15:59, never 20 in an hour.
func plant(t *testing.T, st *sink.Store) {
	t.Helper()
	var rows []sink.Row
	for d := 7; d >= 0; d-- {
		date := day.AddDate(0, 0, -d)
		add := func(dept string, n, negative int, topic func(i int) []string, text func(i int) string, likes func(i int) uint64) {
			for i := 0; i < n; i++ {
				at := date.Add(time.Duration(8+i%8)*time.Hour + time.Duration(i)*time.Minute)
				rows = append(rows, row(at, text(i), []string{dept}, topic(i), i < negative, likes(i)))
			}
		}
		always := func(s string) func(int) []string { return func(int) []string { return []string{s} } }
		none := func(int) []string { return nil }
		small := func(i int) uint64 { return uint64(i) }
		if d > 0 {
			add("dwp", 10, 2, always("welfare"), func(int) string { return "Universal Credit payment date question" }, small)
			add("hmrc", 20, 4, always("tax"), func(int) string { return "Self assessment tax code letter" }, small)
			add("dfe", 5, 1, none, func(int) string { return "School funding letter" }, small)
			continue
		}
		add("dwp", 40, 24, func(i int) []string {
			if i >= 6 && i < 36 {
				return []string{"welfare"}
			}
			return nil
		}, func(i int) string {
			if i == 0 {
				return hostile
			}
			return "Universal Credit sanctions chaos again"
		}, func(i int) uint64 {
			if i == 0 {
				return 5000
			}
			return uint64(i)
		})
		add("hmrc", 20, 12, always("tax"), func(i int) string {
			if i == 0 {
				return polyglot
			}
			return "Self assessment tax code letter"
		}, func(i int) uint64 {
			if i == 0 {
				return 4000
			}
			return uint64(i)
		})
		add("dfe", 5, 1, none, func(i int) string {
			if i == 4 {
				return "Free school meals extended, thank you"
			}
			return "School funding letter"
		}, func(i int) uint64 {
			if i == 4 {
				return 3000
			}
			return uint64(i)
		})
	}
	if err := st.Insert(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

func row(at time.Time, text string, depts, topics []string, negative bool, likes uint64) sink.Row {
	testSeqN.Lock()
	testSeqN.n++
	id := fmt.Sprintf("17%017d", testSeqN.n)
	testSeqN.Unlock()
	score := tagger.Score{Score: 0.25, Label: tagger.Positive}
	if negative {
		score = tagger.Score{Score: -0.5, Label: tagger.Negative}
	}
	return sink.Row{
		M: &mention.Mention{
			V: mention.Version, Platform: mention.Twitter, ID: id, Kind: mention.KindPost, Text: text, Lang: "en",
			AuthorHandle: "citizen" + id[len(id)-3:], URL: "https://x.com/i/web/status/" + id,
			CreatedAt: at, CollectedAt: at.Add(time.Minute), Metrics: mention.Metrics{Likes: likes},
		},
		Tags:     tagger.Tags{Departments: depts, Topics: topics, Sentiment: score, Lang: "en"},
		Taxonomy: "test",
	}
}

const wantAll = `# Daily briefing: Friday 20 November 2026

All departments · UTC day · compared with the day before and with the 7 days 13 Nov–19 Nov

## Headline

- Mentions: **65** · day before: 35 (+86%) · 7 days: 35.0 a day (+86%)
- Negative share: **57%** · day before: 20% (+37 pts) · 7 days: 20% (+37 pts)
- Mean sentiment: **-0.18** · day before: +0.10 · 7 days: +0.10

## By department

| Department | Mentions | vs 7-day avg | Negative | Sentiment |
| --- | ---: | ---: | ---: | ---: |
| Department for Work and Pensions | 40 | +300% | 60% | -0.20 |
| HM Revenue and Customs | 20 | 0% | 60% | -0.20 |
| Department for Education | 5 | 0% | 20% | +0.10 |

## Biggest movements

1. Department for Work and Pensions: 40 mentions against a 7-day average of 10.0 (+300%)
2. Welfare and benefits: 30 mentions against a 7-day average of 10.0 (+200%)
3. HM Revenue and Customs: negative share 60% against 20% over 7 days (+40 pts), on 20 mentions

## Spikes

- All day · Department for Work and Pensions: 40 mentions against 5.0 a day over the 14 days before; negative 60% (usually 20%); words: chaos, sanctions
- All day · Welfare and benefits: 30 mentions against 5.0 a day over the 14 days before; negative 60% (usually 20%); words: chaos, sanctions

## What people said
`

const wantDWP = `# Daily briefing: Friday 20 November 2026

Department for Work and Pensions · UTC day · compared with the day before and with the 7 days 13 Nov–19 Nov

## Headline

- Mentions: **40** · day before: 10 (+300%) · 7 days: 10.0 a day (+300%)
- Negative share: **60%** · day before: 20% (+40 pts) · 7 days: 20% (+40 pts)
- Mean sentiment: **-0.20** · day before: +0.10 · 7 days: +0.10

## By topic

| Topic | Mentions | vs 7-day avg | Negative | Sentiment |
| --- | ---: | ---: | ---: | ---: |
| Welfare and benefits | 30 | +200% | 60% | -0.20 |

## Biggest movements

1. Welfare and benefits: 30 mentions against a 7-day average of 10.0 (+200%)

## Spikes

- All day · Department for Work and Pensions: 40 mentions against 5.0 a day over the 14 days before; negative 60% (usually 20%); words: chaos, sanctions

## What people said
`

func TestBriefing(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	st := testenv.Store(t, srv.DSN("briefing"))
	plant(t, st)
	names, err := alerts.Names("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The alert detector has run the morning after: its stored alerts
	// bring their words to the briefing.
	det := &alerts.Detector{Store: st, MinMentions: 20, Factor: 3, Names: names, Now: lateNow}
	if res, err := det.RunOnce(ctx); err != nil || res.New != 2 {
		t.Fatalf("alerts run: %+v, %v; want the two day spikes (dwp, welfare)", res, err)
	}
	build := func(t *testing.T, dept string) *Briefing {
		t.Helper()
		b, err := Build(ctx, st, Options{Date: day.Add(13 * time.Hour), Department: dept, Names: names, MinMentions: 20, Factor: 3, Now: lateNow})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	all, dwp := build(t, ""), build(t, "dwp")

	t.Run("markdown, all departments", func(t *testing.T) {
		md := render(t, all, Markdown)
		if !strings.HasPrefix(md, wantAll) {
			t.Fatalf("markdown:\n%s\nwant it to start:\n%s", md, wantAll)
		}
		said := md[len(wantAll):]
		for _, want := range []string{
			"### Most engaged\n\n> \\<script\\>alert(\"pwned\")\\</script\\> \\[click\\](javascript:alert(1)) \\*\\*Universal Credit\\*\\* sanctions chaos \\& more\n>\n> — @citizen",
			"on X · 5,000 interactions · [link](https://x.com/i/web/status/17",
			"> Diolch yn fawr ŵyr ŷ 🙏🏽",
			"> Free school meals extended, thank you",
			"### Negative\n\n> Universal Credit sanctions chaos again\n>\n> — @citizen",
			"23 interactions",
		} {
			if !strings.Contains(said, want) {
				t.Errorf("what people said lacks %q:\n%s", want, said)
			}
		}
		if strings.Contains(said, "<script>") {
			t.Errorf("markdown carries raw HTML:\n%s", said)
		}
	})
	t.Run("markdown, one department", func(t *testing.T) {
		md := render(t, dwp, Markdown)
		if !strings.HasPrefix(md, wantDWP) {
			t.Fatalf("markdown:\n%s\nwant it to start:\n%s", md, wantDWP)
		}
		if strings.Contains(md, "Diolch") || dwp.FileName(PDF) != "briefing-2026-11-20-dwp.pdf" {
			t.Errorf("one department's briefing quotes another's mentions or is misnamed:\n%s", md)
		}
	})
	t.Run("html", func(t *testing.T) {
		h := render(t, all, HTML)
		for _, want := range []string{
			`<html lang="en-GB">`, `<meta name="viewport"`, "<title>Daily briefing: Friday 20 November 2026</title>",
			`<h1>Daily briefing: Friday 20 November 2026</h1>`, `<h2 id="headline">Headline</h2>`,
			`<span class="label">Mentions</span> <span class="value">65</span><span class="cmp">Day before: 35 (&#43;86%)</span>`,
			`<span class="value">57%</span>`, `<span class="value">-0.18</span>`,
			`<th scope="rowgroup" colspan="4">Department for Work and Pensions</th></tr>
<tr><td class="n">40</td><td class="n">&#43;300%</td><td class="n">60%</td><td class="n">-0.20</td></tr>`,
			`<li>Department for Work and Pensions: 40 mentions against a 7-day average of 10.0 (&#43;300%)</li>`,
			`<li>HM Revenue and Customs: negative share 60% against 20% over 7 days (&#43;40 pts), on 20 mentions</li>`,
			`words: chaos, sanctions</li>`,
			`&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;`,
			`<a href="https://x.com/i/web/status/17`,
		} {
			if !strings.Contains(h, want) {
				t.Errorf("html lacks %s", want)
			}
		}
		if strings.Contains(h, "<script") || strings.Contains(h, "<link") || strings.Contains(h, "src=") || strings.Contains(h, "@import") {
			t.Errorf("html is not self-contained or lets a script through")
		}
	})
	t.Run("pdf", func(t *testing.T) {
		for _, b := range []*Briefing{all, dwp} {
			p := render(t, b, PDF)
			if !strings.HasPrefix(p, "%PDF-") || !strings.Contains(p, "/Type /Pages") || !strings.Contains(p, "/Count 1") || !strings.HasSuffix(strings.TrimSpace(p), "%%EOF") {
				t.Fatalf("not a one-page PDF (%d bytes): %.200q", len(p), p)
			}
		}
	})
	t.Run("post", func(t *testing.T) {
		var mu sync.Mutex
		var got []byte
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = b
			mu.Unlock()
			_, _ = io.WriteString(w, "ok")
		}))
		defer hook.Close()
		c, err := webhook.New(hook.URL+"/services/T0/B0/SeCrEt", webhook.Slack, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Post(ctx, all.Message(all.FileName(PDF))); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		var body struct {
			Text   string           `json:"text"`
			Blocks []map[string]any `json:"blocks"`
		}
		if err := json.Unmarshal(got, &body); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(body.Text, "Daily briefing Fri 20 Nov 2026: All departments: 65 mentions (day before: 35 (+86%)), negative share 57%, mean sentiment -0.18") {
			t.Fatalf("summary text %q", body.Text)
		}
		for _, want := range []string{"Department for Work and Pensions: 40 mentions against a 7-day average of 10.0 (+300%)", "2 spikes", "briefing-2026-11-20.pdf"} {
			if !bytes.Contains(got, []byte(want)) {
				t.Errorf("summary lacks %q: %s", want, got)
			}
		}
	})
	t.Run("empty day", func(t *testing.T) {
		b, err := Build(ctx, st, Options{Date: day.AddDate(0, 0, 30), Names: names, MinMentions: 20, Factor: 3, Now: lateNow})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{Markdown, HTML, PDF} {
			render(t, b, f)
		}
		if md := render(t, b, Markdown); !strings.Contains(md, "- Mentions: **0** · day before: 0 (–) · 7 days: 0.0 a day (–)") || !strings.Contains(md, "No spikes.") {
			t.Errorf("empty day:\n%s", md)
		}
	})
}

func render(t *testing.T, b *Briefing, format string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := b.Render(&buf, format); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.String()
}

func TestPDFText(t *testing.T) {
	has := func(r rune) bool { return (r >= 0x20 && r < 0x7f) || strings.ContainsRune("é–“”€·…", r) }
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"café – “quotes” €5", "café – “quotes” €5"},
		{"Diolch ŵyr ŷ", "Diolch wyr y"},
		{"thanks 🙏🏽 👨‍👩‍👧 🇬🇧 ok", "thanks [emoji] ok"},
		{"شكرا جزيلا and תודה", "[…] and […]"},
		{"中文🙏", "[…][emoji]"},
		{"bell\x07tab\tnl\n", "bell tab nl "},
		{"bad \xff utf8", "bad […] utf8"},
	} {
		if got := pdfText(c.in, has); got != c.want {
			t.Errorf("pdfText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Any text at all renders: the PDF never fails on what people write.
func TestPDFAnyText(t *testing.T) {
	texts := []string{polyglot, hostile, strings.Repeat("🙏", 2000), strings.Repeat("ŵ", 5000), "\xff\xfe\x00", "", strings.Repeat("word ", 3000), "\u202eRTL override\u202c", "𝕱𝖆𝖓𝖈𝖞 𝓽𝓮𝔁𝓽"}
	for i, text := range texts {
		b := &Briefing{Date: day, RowKind: "Department", Today: Stats{Mentions: 1, Days: 1}, Week: Stats{Days: 7},
			Rows:    []Row{{Name: text, Today: Stats{Mentions: 1, Days: 1}}},
			Engaged: []Sample{{Platform: "youtube", ID: "x", Handle: text, Text: text, URL: "https://example.invalid/" + text}},
		}
		for range 30 { // enough to overflow the page
			b.Negative = append(b.Negative, Sample{Platform: "facebook", ID: "y", Text: text, Negative: true})
		}
		var buf bytes.Buffer
		if err := b.PDF(&buf); err != nil || !strings.Contains(buf.String(), "/Count 1") {
			t.Errorf("text %d: %v (one page: %v)", i, err, strings.Contains(buf.String(), "/Count 1"))
		}
		if err := b.HTML(io.Discard); err != nil {
			t.Errorf("text %d: html: %v", i, err)
		}
	}
}
