package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
)

func TestSentimentMeanLineBreaksAtGaps(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := &analytics.Summary{Granularity: analytics.Day, Series: []analytics.Bucket{
		{Start: t0, Mentions: 2, Negative: 1, Positive: 1},
		{Start: t0.AddDate(0, 0, 1), Mentions: 1, Neutral: 1, MeanSentiment: 0.5},
		{Start: t0.AddDate(0, 0, 2)},
		{Start: t0.AddDate(0, 0, 3), Mentions: 1, Negative: 1, MeanSentiment: -1},
	}}
	c := sentimentChart(s)
	var d string
	for _, p := range c.Paths {
		if p.Class == "mean-line" {
			d = p.D
		}
	}
	if strings.Count(d, "M") != 2 || strings.Count(d, "L") != 1 || !strings.HasPrefix(d, "M") {
		t.Errorf("mean line %q: want a segment over the first two days and a point after the empty one", d)
	}
	if len(c.Table.Rows) != 4 || c.Table.Rows[2][5] != "–" || c.Table.Rows[3][5] != "−1.00" {
		t.Errorf("table %v", c.Table.Rows)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{count(0), "0"}, {count(999), "999"}, {count(1234567), "1,234,567"},
		{score(-0.214), "−0.21"}, {score(0.3), "+0.30"}, {score(-0.001), "0.00"},
		{duration(45), "45 s"}, {duration(600), "10 min"}, {duration(7200), "2 h"}, {duration(7260), "2 h 1 min"},
		{duration(86400), "1 day"}, {duration(172800 + 3600), "2 days 1 h"},
		{safeLink("javascript:alert(1)"), ""}, {safeLink("https://x.com/a?b=1"), "https://x.com/a?b=1"}, {safeLink("//evil"), ""},
		{safeLink("data:text/html,x"), ""}, {safeLink("http://example.org/"), "http://example.org/"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
