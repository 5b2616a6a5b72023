package analytics

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/govlisten/govlisten/mention"
)

// Granularity is the width of a time bucket.
type Granularity string

// Granularities.
const (
	Hour Granularity = "hour"
	Day  Granularity = "day"
)

// HourlyUpTo is the longest range shown in hourly buckets (from
// mentions_hourly); longer ranges are shown by day (from mentions_daily).
const HourlyUpTo = 72 * time.Hour

// MaxRange is the longest range a query may cover: a bound on the cost of
// the queries on the mentions table.
const MaxRange = 400 * 24 * time.Hour

// Filter selects the mentions a query is about. From and To bound the time
// posted, [From, To), in UTC; Department, Topic and Platform, when not
// empty, keep only the mentions tagged with that department or topic slug,
// or posted on that platform.
type Filter struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Department string    `json:"department,omitempty"`
	Topic      string    `json:"topic,omitempty"`
	Platform   string    `json:"platform,omitempty"`
}

// FilterError says which field of a Filter is wrong and why. Field is the
// name a user gave it: from, to, department, topic or platform.
type FilterError struct {
	Field  string
	Reason string
}

func (e *FilterError) Error() string { return e.Field + ": " + e.Reason }

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Validate reports the first problem of f as a *FilterError, or nil.
func (f Filter) Validate() error {
	switch {
	case f.From.IsZero():
		return &FilterError{"from", "missing"}
	case f.To.IsZero():
		return &FilterError{"to", "missing"}
	case !f.To.After(f.From):
		return &FilterError{"to", fmt.Sprintf("must be after from (%s)", f.From.UTC().Format(time.RFC3339))}
	case f.To.Sub(f.From) > MaxRange:
		return &FilterError{"to", fmt.Sprintf("the range may cover at most %d days", int(MaxRange/(24*time.Hour)))}
	case f.From.Year() < 1970 || f.To.Year() > 2105:
		return &FilterError{"from", "outside 1970 to 2105"}
	case f.Department != "" && !slugRE.MatchString(f.Department):
		return &FilterError{"department", fmt.Sprintf("%q is not a slug (lower-case letters, digits and -)", f.Department)}
	case f.Topic != "" && !slugRE.MatchString(f.Topic):
		return &FilterError{"topic", fmt.Sprintf("%q is not a slug (lower-case letters, digits and -)", f.Topic)}
	}
	switch f.Platform {
	case "", mention.Twitter, mention.YouTube, mention.Facebook:
	default:
		return &FilterError{"platform", fmt.Sprintf("%q is not one of twitter, youtube, facebook", f.Platform)}
	}
	return nil
}

// Granularity is Hour for ranges up to HourlyUpTo, else Day.
func (f Filter) Granularity() Granularity {
	if f.To.Sub(f.From) <= HourlyUpTo {
		return Hour
	}
	return Day
}

// Aligned returns f with From moved back and To moved on to whole buckets
// of its granularity (UTC hours or days), so that the rollups, which count
// whole buckets, and the queries on the mentions table cover the same time.
func (f Filter) Aligned() Filter {
	f.From, f.To = f.From.UTC(), f.To.UTC()
	unit := time.Hour
	if f.Granularity() == Day {
		unit = 24 * time.Hour
	}
	from := f.From.Truncate(unit)
	to := f.To.Truncate(unit)
	if to.Before(f.To) {
		to = to.Add(unit)
	}
	f.From, f.To = from, to
	return f
}

// Buckets lists the start of every bucket of the aligned range.
func (f Filter) Buckets() []time.Time {
	a := f.Aligned()
	step := time.Hour
	if a.Granularity() == Day {
		step = 24 * time.Hour
	}
	var out []time.Time
	for t := a.From; t.Before(a.To); t = t.Add(step) {
		out = append(out, t)
	}
	return out
}

// cond collects the WHERE conditions of a query and their arguments.
// Arguments are bound client-side by clickhouse-go (quoted and escaped), so
// user input never becomes SQL text.
type cond struct {
	parts []string
	args  []any
}

func (c *cond) add(sql string, args ...any) {
	c.parts = append(c.parts, sql)
	c.args = append(c.args, args...)
}

func (c *cond) sql() string {
	if len(c.parts) == 0 {
		return "1"
	}
	return strings.Join(c.parts, " AND ")
}

// tags adds f's department, topic and platform conditions, on the columns
// departments, topics and platform that mentions and both rollups share.
func (c *cond) tags(f Filter) {
	if f.Department != "" {
		c.add("has(departments, ?)", f.Department)
	}
	if f.Topic != "" {
		c.add("has(topics, ?)", f.Topic)
	}
	if f.Platform != "" {
		c.add("platform = ?", f.Platform)
	}
}

// days adds the condition on the day column (the mentions table's first
// key column and partition) that covers [from, to), so a query reads only
// those days' parts and granules.
func (c *cond) days(from, to time.Time) {
	c.add("day >= toDate(?) AND day <= toDate(?)", from.UTC().Format(time.DateOnly), to.UTC().Add(-time.Second).Format(time.DateOnly))
}

// created adds the exact time condition on created_at.
func (c *cond) created(from, to time.Time) {
	c.add("created_at >= toDateTime(?) AND created_at < toDateTime(?)", from.Unix(), to.Unix())
}
