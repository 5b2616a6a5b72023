package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/mention"
)

// view is what templates/page.html shows.
type view struct {
	Title, Heading, RangeText string
	Params                    params
	Ranges                    []option
	Departments, Topics       []option
	Platforms                 []option
	JSONURL                   string
	Per                       string // hour or day
	VolumeText                string
	SpikeRule                 string
	Volume, Sentiment         chart
	TopDepartments, TopTopics chart
	Spikes                    []spikeView
	Negative                  []analytics.Mention
	Unanswered                []analytics.Question
	UnansweredCounts          []analytics.DepartmentResponse
	Responses                 []responseView
	Alerts                    []alertView
}

type option struct {
	Value, Label string
	Selected     bool
}

type spikeView struct {
	analytics.Spike
	When, Usual, Per string
}

type responseView struct {
	analytics.DepartmentResponse
	Median, P90, WithinDay string
}

type alertView struct {
	analytics.Alert
	When, Usual string
}

func (d *Dashboard) view(p params, s *analytics.Summary) view {
	v := view{Params: p, Per: per(s.Granularity)}
	// The page shows the dates a custom range was given with.
	if p.Range != "custom" {
		v.Params.From, v.Params.To = "", ""
	}
	for _, r := range presets {
		v.Ranges = append(v.Ranges, option{r.Value, r.Label, r.Value == p.Range})
	}
	v.Departments = []option{{"", "All departments", p.Department == ""}}
	for _, slug := range d.names.deptOrder {
		v.Departments = append(v.Departments, option{slug, d.names.department(slug), slug == p.Department})
	}
	v.Topics = []option{{"", "All topics", p.Topic == ""}}
	for _, slug := range d.names.topicOrder {
		v.Topics = append(v.Topics, option{slug, d.names.topic(slug), slug == p.Topic})
	}
	v.Platforms = []option{{"", "All platforms", p.Platform == ""}}
	for _, pl := range []string{mention.Twitter, mention.YouTube, mention.Facebook} {
		v.Platforms = append(v.Platforms, option{pl, platformName(pl), pl == p.Platform})
	}
	// A filter the taxonomy no longer lists still shows as selected.
	if p.Department != "" && !d.names.known {
		v.Departments = append(v.Departments, option{p.Department, p.Department, true})
	}
	if p.Topic != "" && !d.names.known {
		v.Topics = append(v.Topics, option{p.Topic, p.Topic, true})
	}

	var what []string
	if p.Department != "" {
		what = append(what, d.names.department(p.Department))
	}
	if p.Topic != "" {
		what = append(what, d.names.topic(p.Topic))
	}
	if p.Platform != "" {
		what = append(what, "on "+platformName(p.Platform))
	}
	v.Heading = "Public mentions"
	if len(what) > 0 {
		v.Heading += ": " + strings.Join(what, ", ")
	}
	v.Title = v.Heading
	label := "Custom dates"
	for _, r := range presets {
		if r.Value == p.Range {
			label = r.Label
		}
	}
	last := s.Filter.To.Add(-time.Second)
	if s.Granularity == analytics.Hour {
		v.RangeText = fmt.Sprintf("%s: %s to %s UTC, by hour.", label, s.Filter.From.Format("Mon 2 Jan 2006 15:04"), s.Filter.To.Format("Mon 2 Jan 2006 15:04"))
	} else {
		v.RangeText = fmt.Sprintf("%s: %s to %s (UTC), by day.", label, s.Filter.From.Format("Mon 2 Jan 2006"), last.Format("Mon 2 Jan 2006"))
	}
	v.JSONURL = "api/summary?" + p.query().Encode()

	var total uint64
	for _, b := range s.Series {
		total += b.Mentions
	}
	v.VolumeText = fmt.Sprintf("%s mentions in this range.", count(total))
	v.Volume = volumeChart(s)
	v.Sentiment = sentimentChart(s)
	v.TopDepartments = barChart("top-departments", "departments", "Department", s.TopDepartments)
	v.TopTopics = barChart("top-topics", "topics", "Topic", s.TopTopics)
	factor := strconv.FormatFloat(d.a.Factor, 'f', -1, 64)
	v.SpikeRule = fmt.Sprintf("A spike is a %[1]s in which a department or topic had at least %[2]s times its usual volume (the mean of the %[3]d %[1]ss before it), at least %[2]s standard deviations above it, and at least %[4]d mentions.",
		v.Per, factor, analytics.SpikeWindow, d.a.MinMentions)
	for _, sp := range s.Spikes {
		v.Spikes = append(v.Spikes, spikeView{Spike: sp, When: bucketLabel(sp.Start, sp.Granularity, true) + " UTC",
			Usual: strconv.FormatFloat(math.Round(sp.Baseline*10)/10, 'f', -1, 64), Per: per(sp.Granularity)})
	}
	v.Negative = s.Negative
	v.Unanswered = s.Unanswered
	for _, r := range s.Responses {
		if r.Unanswered > 0 {
			v.UnansweredCounts = append(v.UnansweredCounts, r)
		}
		rv := responseView{DepartmentResponse: r, Median: "–", P90: "–", WithinDay: "–"}
		if r.Answered > 0 {
			rv.Median, rv.P90 = duration(r.MedianSeconds), duration(r.P90Seconds)
		}
		if r.DayBase > 0 {
			rv.WithinDay = fmt.Sprintf("%s (of %s asked a day or more ago)", pct(r.WithinDayShare), count(r.DayBase))
		}
		v.Responses = append(v.Responses, rv)
	}
	for _, a := range s.Alerts {
		g := analytics.Hour
		if a.Period == "day" {
			g = analytics.Day
		}
		v.Alerts = append(v.Alerts, alertView{Alert: a, When: bucketLabel(a.PeriodStart, g, true),
			Usual: strconv.FormatFloat(math.Round(a.Baseline*10)/10, 'f', -1, 64) + " a " + per(g)})
	}
	return v
}

// duration writes seconds the way people say them: 45 min, 3 h 20 min, 2 days 4 h.
func duration(sec int64) string {
	d := time.Duration(sec) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", sec)
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; m > 0 {
			return fmt.Sprintf("%d h %d min", h, m)
		}
		return fmt.Sprintf("%d h", h)
	default:
		days := int(d.Hours()) / 24
		unit := "days"
		if days == 1 {
			unit = "day"
		}
		if h := int(d.Hours()) % 24; h > 0 {
			return fmt.Sprintf("%d %s %d h", days, unit, h)
		}
		return fmt.Sprintf("%d %s", days, unit)
	}
}
