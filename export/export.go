// Package export streams stored mentions out of ClickHouse as CSV or JSON
// Lines, for analysts who work in a spreadsheet, pandas or R rather than
// SQL, and for handing a period's data to another system.
//
// What is written is what the mentions table holds after FINAL: one line
// per mention, its newest version (a redelivered or re-tagged mention once,
// as it is now), with the columns of docs/schema.md under their names.
// Mentions are read one UTC day at a time, in sorting-key order within the
// day (platform, id), so memory stays bounded by a day's mentions however
// long the range; the output is ordered by day, then platform, then id.
//
// The two formats:
//
//   - jsonl: one JSON object per line. Arrays are arrays, times RFC 3339 in
//     UTC, raw (with Options.Raw) the platform's JSON embedded as it is.
//   - csv: RFC 4180 (encoding/csv) with a header line; departments, topics
//     and matched joined with ";", times RFC 3339. Cells that a spreadsheet
//     would run as a formula — public text starting with =, +, -, @, a tab
//     or a carriage return — get a leading apostrophe (OWASP's advice on
//     CSV injection), unless Options.KeepFormulas is set for a consumer that
//     is not a spreadsheet.
//
// Text is written byte for byte as stored (JSON escapes what it must; CSV
// quotes), so an export of hostile text is faithful and safe to open.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/govlisten/govlisten/analytics"
)

// Formats.
const (
	CSV   = "csv"
	JSONL = "jsonl"
)

// Options say what to export and how.
type Options struct {
	// Filter bounds the time posted, [From, To), and selects by
	// department, topic and platform; see analytics.Filter.
	Filter analytics.Filter
	// Format is CSV or JSONL.
	Format string
	// Raw adds the platform's original JSON of each mention (column raw).
	Raw bool
	// KeepFormulas writes CSV cells that start like a spreadsheet formula
	// as they are, without the guarding apostrophe.
	KeepFormulas bool
	// Progress, when set, is called after each day with the number of
	// mentions written so far.
	Progress func(written int64)
}

// Row is one exported mention: the columns of the mentions table.
type Row struct {
	Platform         string          `json:"platform"`
	ID               string          `json:"id"`
	Kind             string          `json:"kind"`
	ParentID         string          `json:"parent_id"`
	ThreadID         string          `json:"thread_id"`
	CreatedAt        time.Time       `json:"created_at"`
	CollectedAt      time.Time       `json:"collected_at"`
	AuthorID         string          `json:"author_id"`
	AuthorHandle     string          `json:"author_handle"`
	AuthorName       string          `json:"author_name"`
	Text             string          `json:"text"`
	Lang             string          `json:"lang"`
	URL              string          `json:"url"`
	Likes            uint64          `json:"likes"`
	Replies          uint64          `json:"replies"`
	Shares           uint64          `json:"shares"`
	Quotes           uint64          `json:"quotes"`
	Views            uint64          `json:"views"`
	Source           string          `json:"source"`
	SourceDepartment string          `json:"source_department"`
	Own              bool            `json:"own"`
	Departments      []string        `json:"departments"`
	Topics           []string        `json:"topics"`
	Sentiment        float32         `json:"sentiment"`
	SentimentLabel   string          `json:"sentiment_label"`
	Matched          []string        `json:"matched"`
	Taxonomy         string          `json:"taxonomy"`
	ProcessedAt      time.Time       `json:"processed_at"`
	Raw              json.RawMessage `json:"raw,omitempty"`
}

// columns are the SELECT list, in Row's order; raw is added with Options.Raw.
const columns = "toString(platform), id, toString(kind), parent_id, thread_id, created_at, collected_at, " +
	"author_id, author_handle, author_name, text, lang, url, likes, replies, shares, quotes, views, " +
	"source, source_department, own, departments, topics, sentiment, toString(sentiment_label), matched, taxonomy, processed_at"

// header is the CSV header, the column names of the mentions table.
var header = []string{"platform", "id", "kind", "parent_id", "thread_id", "created_at", "collected_at",
	"author_id", "author_handle", "author_name", "text", "lang", "url", "likes", "replies", "shares", "quotes", "views",
	"source", "source_department", "own", "departments", "topics", "sentiment", "sentiment_label", "matched", "taxonomy", "processed_at"}

// Validate checks o before anything is read.
func (o Options) Validate() error {
	if err := o.Filter.Validate(); err != nil {
		return err
	}
	switch o.Format {
	case CSV, JSONL:
		return nil
	}
	return fmt.Errorf("format: %q is not csv or jsonl", o.Format)
}

// where is the condition and arguments selecting the mentions of o posted
// in [from, to), which lie within one UTC day. Every value is a bound
// argument: user input never becomes SQL text.
func (o Options) where(from, to time.Time) (string, []any) {
	parts := []string{"day = toDate(?)", "created_at >= toDateTime(?)", "created_at < toDateTime(?)"}
	args := []any{from.Format(time.DateOnly), from.Unix(), to.Unix()}
	f := o.Filter
	if f.Department != "" {
		parts, args = append(parts, "has(departments, ?)"), append(args, f.Department)
	}
	if f.Topic != "" {
		parts, args = append(parts, "has(topics, ?)"), append(args, f.Topic)
	}
	if f.Platform != "" {
		parts, args = append(parts, "platform = ?"), append(args, f.Platform)
	}
	return strings.Join(parts, " AND "), args
}

// days splits [From, To) at UTC midnights.
func (o Options) days() [][2]time.Time {
	var out [][2]time.Time
	from, to := o.Filter.From.UTC(), o.Filter.To.UTC()
	for t := from; t.Before(to); {
		next := t.Truncate(24 * time.Hour).Add(24 * time.Hour)
		if next.After(to) {
			next = to
		}
		out = append(out, [2]time.Time{t, next})
		t = next
	}
	return out
}

// Count returns how many mentions Write would write, for a progress bar.
func Count(ctx context.Context, conn driver.Conn, db string, o Options) (uint64, error) {
	if err := o.Validate(); err != nil {
		return 0, err
	}
	var total uint64
	for _, d := range o.days() {
		where, args := o.where(d[0], d[1])
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".mentions FINAL WHERE "+where, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("counting mentions of %s: %w", d[0].Format(time.DateOnly), err)
		}
		total += n
	}
	return total, nil
}

// Write streams the mentions o selects from db.mentions to w and returns
// how many it wrote. Output is flushed after each day.
func Write(ctx context.Context, conn driver.Conn, db string, o Options, w io.Writer) (int64, error) {
	if err := o.Validate(); err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	var enc encoder
	if o.Format == CSV {
		enc = newCSV(bw, o)
	} else {
		enc = &jsonlEncoder{w: bw, enc: json.NewEncoder(bw)}
		enc.(*jsonlEncoder).enc.SetEscapeHTML(false)
	}
	if err := enc.begin(); err != nil {
		return 0, err
	}
	sel := columns
	if o.Raw {
		sel += ", raw"
	}
	var n int64
	for _, d := range o.days() {
		where, args := o.where(d[0], d[1])
		rows, err := conn.Query(ctx, "SELECT "+sel+" FROM "+db+".mentions FINAL WHERE "+where+" ORDER BY platform, id", args...)
		if err != nil {
			return n, fmt.Errorf("reading mentions of %s: %w", d[0].Format(time.DateOnly), err)
		}
		for rows.Next() {
			var r Row
			var own uint8
			var raw string
			dest := []any{&r.Platform, &r.ID, &r.Kind, &r.ParentID, &r.ThreadID, &r.CreatedAt, &r.CollectedAt,
				&r.AuthorID, &r.AuthorHandle, &r.AuthorName, &r.Text, &r.Lang, &r.URL, &r.Likes, &r.Replies, &r.Shares, &r.Quotes, &r.Views,
				&r.Source, &r.SourceDepartment, &own, &r.Departments, &r.Topics, &r.Sentiment, &r.SentimentLabel, &r.Matched, &r.Taxonomy, &r.ProcessedAt}
			if o.Raw {
				dest = append(dest, &raw)
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return n, fmt.Errorf("reading mentions of %s: %w", d[0].Format(time.DateOnly), err)
			}
			r.Own = own == 1
			r.CreatedAt, r.CollectedAt, r.ProcessedAt = r.CreatedAt.UTC(), r.CollectedAt.UTC(), r.ProcessedAt.UTC()
			if raw != "" {
				r.Raw = rawJSON(raw)
			}
			if err := enc.row(&r); err != nil {
				rows.Close()
				return n, fmt.Errorf("writing: %w", err)
			}
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return n, fmt.Errorf("reading mentions of %s: %w", d[0].Format(time.DateOnly), err)
		}
		if err := enc.flush(); err != nil {
			return n, fmt.Errorf("writing: %w", err)
		}
		if o.Progress != nil {
			o.Progress(n)
		}
	}
	return n, enc.flush()
}

// rawJSON is the stored raw document as JSON: itself when it is valid
// JSON, else a JSON string of it (privacy's scrub may have dropped it to
// nothing; older rows may hold anything).
func rawJSON(raw string) json.RawMessage {
	if json.Valid([]byte(raw)) {
		return json.RawMessage(raw)
	}
	b, _ := json.Marshal(raw)
	return b
}

type encoder interface {
	begin() error
	row(*Row) error
	flush() error
}

type jsonlEncoder struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (j *jsonlEncoder) begin() error     { return nil }
func (j *jsonlEncoder) row(r *Row) error { return j.enc.Encode(r) } // Encode ends the line
func (j *jsonlEncoder) flush() error     { return j.w.Flush() }

type csvEncoder struct {
	w            *bufio.Writer
	cw           *csv.Writer
	raw          bool
	keepFormulas bool
	rec          []string
}

func newCSV(w *bufio.Writer, o Options) *csvEncoder {
	return &csvEncoder{w: w, cw: csv.NewWriter(w), raw: o.Raw, keepFormulas: o.KeepFormulas}
}

func (c *csvEncoder) begin() error {
	h := header
	if c.raw {
		h = append(append([]string(nil), header...), "raw")
	}
	return c.cw.Write(h)
}

func (c *csvEncoder) row(r *Row) error {
	ts := func(t time.Time) string { return t.Format(time.RFC3339) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	own := "0"
	if r.Own {
		own = "1"
	}
	c.rec = append(c.rec[:0], r.Platform, r.ID, r.Kind, r.ParentID, r.ThreadID, ts(r.CreatedAt), ts(r.CollectedAt),
		c.cell(r.AuthorID), c.cell(r.AuthorHandle), c.cell(r.AuthorName), c.cell(r.Text), r.Lang, c.cell(r.URL),
		u(r.Likes), u(r.Replies), u(r.Shares), u(r.Quotes), u(r.Views),
		c.cell(r.Source), r.SourceDepartment, own, strings.Join(r.Departments, ";"), strings.Join(r.Topics, ";"),
		strconv.FormatFloat(float64(r.Sentiment), 'f', -1, 32), r.SentimentLabel, c.cell(strings.Join(r.Matched, ";")), r.Taxonomy, ts(r.ProcessedAt))
	if c.raw {
		c.rec = append(c.rec, string(r.Raw))
	}
	return c.cw.Write(c.rec)
}

func (c *csvEncoder) flush() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.w.Flush()
}

// cell guards a cell a spreadsheet would evaluate as a formula.
func (c *csvEncoder) cell(s string) string {
	if c.keepFormulas || s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
