package dashboard

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/govlisten/govlisten/analytics"
)

// Ranges the form offers, besides custom.
var presets = []struct {
	Value, Label string
}{
	{"24h", "Last 24 hours"},
	{"7d", "Last 7 days"},
	{"30d", "Last 30 days"},
	{"custom", "Custom dates"},
}

// params are a view's query parameters, as given: the URL of every view.
type params struct {
	Range      string // 24h, 7d, 30d or custom
	From, To   string // custom range: YYYY-MM-DD (both days included) or RFC 3339 (to excluded)
	Department string
	Topic      string
	Platform   string
}

// paramError is a bad query parameter: a 400 naming it.
type paramError struct {
	Param  string
	Reason string
}

func (e *paramError) Error() string { return e.Param + ": " + e.Reason }

var knownParams = map[string]bool{"range": true, "from": true, "to": true, "department": true, "topic": true, "platform": true}

// parseParams reads and checks the query; the filter covers the chosen
// range as of now. Every problem is a *paramError naming the parameter.
func parseParams(q url.Values, names *names, now time.Time) (params, analytics.Filter, error) {
	var unknown []string
	for k, v := range q {
		if !knownParams[k] {
			unknown = append(unknown, k)
			continue
		}
		if len(v) > 1 {
			return params{}, analytics.Filter{}, &paramError{k, "given more than once"}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return params{}, analytics.Filter{}, &paramError{unknown[0], "unknown parameter (known: range, from, to, department, topic, platform)"}
	}
	p := params{
		Range: strings.TrimSpace(q.Get("range")), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		Department: strings.TrimSpace(q.Get("department")), Topic: strings.TrimSpace(q.Get("topic")), Platform: strings.TrimSpace(q.Get("platform")),
	}
	// Dates alone mean a custom range; with a preset range they are a
	// contradiction, said as such rather than silently ignored.
	switch {
	case p.Range == "" && (p.From != "" || p.To != ""):
		p.Range = "custom"
	case p.Range == "":
		p.Range = "7d"
	case p.Range != "custom" && p.From != "":
		return p, analytics.Filter{}, &paramError{"from", fmt.Sprintf("only with range=custom (range is %q)", p.Range)}
	case p.Range != "custom" && p.To != "":
		return p, analytics.Filter{}, &paramError{"to", fmt.Sprintf("only with range=custom (range is %q)", p.Range)}
	}
	f := analytics.Filter{Department: p.Department, Topic: p.Topic, Platform: p.Platform}
	now = now.UTC()
	hour := now.Truncate(time.Hour)
	today := now.Truncate(24 * time.Hour)
	switch p.Range {
	case "24h":
		f.From, f.To = hour.Add(-23*time.Hour), hour.Add(time.Hour)
	case "7d":
		f.From, f.To = today.AddDate(0, 0, -6), today.AddDate(0, 0, 1)
	case "30d":
		f.From, f.To = today.AddDate(0, 0, -29), today.AddDate(0, 0, 1)
	case "custom":
		if p.From == "" {
			return p, f, &paramError{"from", "required with a custom range (YYYY-MM-DD)"}
		}
		if p.To == "" {
			return p, f, &paramError{"to", "required with a custom range (YYYY-MM-DD)"}
		}
		var err error
		if f.From, err = parseTime(p.From, false); err != nil {
			return p, f, &paramError{"from", err.Error()}
		}
		if f.To, err = parseTime(p.To, true); err != nil {
			return p, f, &paramError{"to", err.Error()}
		}
	default:
		return p, f, &paramError{"range", fmt.Sprintf("%q is not one of 24h, 7d, 30d, custom", p.Range)}
	}
	if err := f.Validate(); err != nil {
		var fe *analytics.FilterError
		if errors.As(err, &fe) {
			return p, f, &paramError{fe.Field, fe.Reason}
		}
		return p, f, err
	}
	if err := names.check("department", p.Department, names.departments); err != nil {
		return p, f, err
	}
	if err := names.check("topic", p.Topic, names.topics); err != nil {
		return p, f, err
	}
	return p, f, nil
}

// parseTime reads a date (the start of that day, or with end the start of
// the next, so that a to date is included) or an RFC 3339 time.
func parseTime(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or an RFC 3339 time", s)
}

// query is the URL query of p, without empty parameters.
func (p params) query() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("range", p.Range)
	if p.Range == "custom" {
		set("from", p.From)
		set("to", p.To)
	}
	set("department", p.Department)
	set("topic", p.Topic)
	set("platform", p.Platform)
	return v
}
