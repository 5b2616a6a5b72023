package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/processors/sink"
)

// StatusCmd is `govlisten status`.
type StatusCmd struct {
	NATSFlag
	ClickHouseFlag
	JSON bool `name:"json" help:"Print the summary as one JSON object (for scripts)."`
}

// Help explains what is shown.
func (c *StatusCmd) Help() string {
	return "A one-screen summary of the running pipeline, read from NATS and ClickHouse (nothing is created or changed): the depth of stream MENTIONS, the lag of the processors' consumer, the DLQ by reason, each source's last run, last success, last error and checkpoint age (from the KV buckets the collectors write; with --config, every configured source, else every source that has run), and the rows stored today (UTC) and in the last hour with the time of the last insert. Exits 1, saying which, when NATS or ClickHouse cannot be reached."
}

// statusReport is what `govlisten status --json` prints. Field names are
// stable: scripts read them.
type statusReport struct {
	Time       time.Time       `json:"time"`
	NATS       dependencyState `json:"nats"`
	Mentions   *streamState    `json:"mentions,omitempty"`
	Consumer   *consumerState  `json:"consumer,omitempty"`
	DLQ        *bus.DLQState   `json:"dlq,omitempty"`
	Sources    []sourceState   `json:"sources"`
	ClickHouse dependencyState `json:"clickhouse"`
	Store      *storeState     `json:"store,omitempty"`
	Problems   []string        `json:"problems,omitempty"` // what could not be read although the server answered

	natsErr, chErr error // the servers that could not be reached
}

type dependencyState struct {
	Address   string `json:"address"` // URL or DSN, any password masked
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
}

type streamState struct {
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
}

type consumerState struct {
	Name        string `json:"name"`
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	Waiting     int    `json:"waiting"`
}

type sourceState struct {
	Source     string     `json:"source"`
	Platform   string     `json:"platform"`
	LastRun    *time.Time `json:"last_run,omitempty"`    // when the last run ended
	LastResult string     `json:"last_result,omitempty"` // ok, quota, error or stopped
	Published  int64      `json:"last_run_published"`
	// LastSuccess and LastErrorAt are when the last successful and the
	// last failed runs ended; LastError is the latter's error.
	LastSuccess *time.Time `json:"last_success,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// Checkpoint is the time of the newest item the checkpoint covers;
	// CheckpointAge is the seconds from it to Time.
	Checkpoint    *time.Time `json:"checkpoint,omitempty"`
	CheckpointAge *float64   `json:"checkpoint_age_seconds,omitempty"`
	MidPass       bool       `json:"mid_pass"`
}

type storeState struct {
	Database     string     `json:"database"`
	Rows         uint64     `json:"rows"`           // rows in mentions, before FINAL
	RowsToday    uint64     `json:"rows_today"`     // stored since midnight UTC
	RowsLastHour uint64     `json:"rows_last_hour"` // stored in the last 60 minutes
	LastInsert   *time.Time `json:"last_insert,omitempty"`
}

// Run prints the summary.
func (c *StatusCmd) Run(ctx context.Context, g *Globals) error {
	cfg, _, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag)
	if err != nil {
		return err
	}
	r := gatherStatus(ctx, cfg)
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else if err := r.print(os.Stdout); err != nil {
		return err
	}
	failed := false
	if r.natsErr != nil {
		fmt.Fprintf(os.Stderr, "govlisten status: NATS cannot be reached: %v\n", r.natsErr)
		failed = true
	}
	if r.chErr != nil {
		fmt.Fprintf(os.Stderr, "govlisten status: ClickHouse cannot be reached: %v\n", r.chErr)
		failed = true
	}
	if failed {
		return exitCode(1)
	}
	return nil
}

// gatherStatus reads everything it can; what it cannot is in the report.
func gatherStatus(ctx context.Context, cfg *config.Config) *statusReport {
	r := &statusReport{Time: time.Now().UTC(), Sources: []sourceState{}}
	r.NATS.Address = cfg.ShowNATSURL()
	r.ClickHouse.Address = cfg.ShowClickHouseDSN()
	problem := func(what string, err error) { r.Problems = append(r.Problems, what+": "+err.Error()) }

	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if conn, err := bus.Connect(cctx, cfg, "status", os.Getenv, 0); err != nil {
		r.natsErr = err
		r.NATS.Error = err.Error()
	} else {
		defer conn.Close()
		r.NATS.Reachable = true
		gatherBus(cctx, cfg, conn.JS, r, problem)
	}

	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err == nil {
		defer store.Close()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = store.Ping(pctx)
		cancel()
	}
	if err != nil {
		r.chErr = err
		r.ClickHouse.Error = err.Error()
		return r
	}
	r.ClickHouse.Reachable = true
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if st, err := storeStatus(qctx, store, r.Time); err != nil {
		problem("table mentions", err)
	} else {
		r.Store = st
	}
	return r
}

func gatherBus(ctx context.Context, cfg *config.Config, js jetstream.JetStream, r *statusReport, problem func(string, error)) {
	if s, err := js.Stream(ctx, bus.StreamMentions); err != nil {
		problem("stream "+bus.StreamMentions, err)
	} else {
		st := s.CachedInfo().State
		r.Mentions = &streamState{Messages: st.Msgs, Bytes: st.Bytes}
		if cons, err := s.Consumer(ctx, cfg.NATS.Consumer.Name); err != nil {
			problem("consumer "+cfg.NATS.Consumer.Name, err)
		} else {
			ci := cons.CachedInfo()
			r.Consumer = &consumerState{Name: ci.Name, Pending: ci.NumPending, AckPending: ci.NumAckPending,
				Redelivered: ci.NumRedelivered, Waiting: ci.NumWaiting}
		}
	}
	if dlq, err := bus.ReadDLQ(ctx, js); err != nil {
		problem("stream "+bus.StreamDLQ, err)
	} else {
		r.DLQ = &dlq
	}
	states, err := collectors.ReadSourceStates(ctx, js, cfg.Sources, true)
	if err != nil {
		problem("sources", err)
		return
	}
	for _, st := range states {
		s := sourceState{Source: st.Source, Platform: st.Platform, MidPass: st.Checkpoint.Pass != nil}
		if ss := st.Status; ss != nil {
			s.LastRun, s.LastResult, s.Published = timePtr(ss.Finished), ss.Result(), ss.Published
			s.LastSuccess, s.LastError, s.LastErrorAt = timePtr(ss.LastSuccess), ss.LastError, timePtr(ss.LastErrorAt)
		}
		if t := st.Checkpoint.Time(st.Platform); !t.IsZero() {
			age := r.Time.Sub(t).Seconds()
			s.Checkpoint, s.CheckpointAge = timePtr(t), &age
		}
		r.Sources = append(r.Sources, s)
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// storeStatus counts the rows stored today (UTC) and in the last hour, by
// processed_at: one pass over that column (the table is not sorted by
// it), a few MB per million rows. A redelivered mention counts again until
// ReplacingMergeTree merges it away.
func storeStatus(ctx context.Context, store *sink.Store, now time.Time) (*storeState, error) {
	today := now.UTC().Truncate(24 * time.Hour).Unix()
	hour := now.Add(-time.Hour).Unix()
	// Integers formatted here, not bound: 18.16 takes them as they are.
	q := "SELECT count(), countIf(processed_at >= toDateTime(" + strconv.FormatInt(today, 10) + ")), countIf(processed_at >= toDateTime(" +
		strconv.FormatInt(hour, 10) + ")), max(processed_at) FROM " + store.DB() + ".mentions"
	st := &storeState{Database: store.DB()}
	var last time.Time
	if err := store.Conn().QueryRow(ctx, q).Scan(&st.Rows, &st.RowsToday, &st.RowsLastHour, &last); err != nil {
		return nil, err
	}
	if st.Rows > 0 {
		st.LastInsert = timePtr(last)
	}
	return st, nil
}

// print writes the summary for a terminal.
func (r *statusReport) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("NATS\t%s\t%s", r.NATS.Address, reachable(r.NATS))
	if m := r.Mentions; m != nil {
		p("  stream %s\t%s messages, %s", bus.StreamMentions, thousands(m.Messages), bytesSize(m.Bytes))
	}
	if c := r.Consumer; c != nil {
		p("  consumer %s\t%s pending, %d ack pending, %d redelivered, %d pulls waiting", c.Name, thousands(c.Pending), c.AckPending, c.Redelivered, c.Waiting)
	}
	if d := r.DLQ; d != nil {
		reasons := make([]string, 0, len(d.ByReason))
		for reason, n := range d.ByReason {
			reasons = append(reasons, fmt.Sprintf("%s %s", reason, thousands(n)))
		}
		sort.Strings(reasons)
		line := fmt.Sprintf("%s messages, %s", thousands(d.Messages), bytesSize(d.Bytes))
		if len(reasons) > 0 {
			line += ": " + strings.Join(reasons, ", ")
		}
		p("  stream %s\t%s", bus.StreamDLQ, line)
	}
	p("ClickHouse\t%s\t%s", r.ClickHouse.Address, reachable(r.ClickHouse))
	if s := r.Store; s != nil {
		last := "never"
		if s.LastInsert != nil {
			last = s.LastInsert.Format(time.RFC3339) + " (" + ago(r.Time.Sub(*s.LastInsert)) + " ago)"
		}
		p("  %s.mentions\t%s rows today (UTC), %s in the last hour, %s in all; last insert %s", s.Database,
			thousands(s.RowsToday), thousands(s.RowsLastHour), thousands(s.Rows), last)
	}
	for _, pr := range r.Problems {
		p("  could not read\t%s", pr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !r.NATS.Reachable {
		return nil
	}
	fmt.Fprintln(w)
	if len(r.Sources) == 0 {
		fmt.Fprintln(w, "No source has run yet.")
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tPLATFORM\tLAST RUN\tRESULT\tPUBLISHED\tLAST SUCCESS\tCHECKPOINT AGE\tLAST ERROR")
	for _, s := range r.Sources {
		lastRun, success, age, lastErr := "never", "never", "-", "-"
		if s.LastRun != nil {
			lastRun = ago(r.Time.Sub(*s.LastRun)) + " ago"
		}
		if s.LastSuccess != nil {
			success = ago(r.Time.Sub(*s.LastSuccess)) + " ago"
		}
		if s.CheckpointAge != nil {
			age = ago(time.Duration(*s.CheckpointAge * float64(time.Second)))
		}
		if s.MidPass {
			age += " (mid-pass)"
		}
		if s.LastErrorAt != nil {
			lastErr = ago(r.Time.Sub(*s.LastErrorAt)) + " ago: " + oneLine(s.LastError, 60)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.Source, orDash(s.Platform), lastRun, orDash(s.LastResult), s.Published, success, age, lastErr)
	}
	return tw.Flush()
}

func reachable(d dependencyState) string {
	if d.Reachable {
		return "reachable"
	}
	return "NOT REACHABLE: " + oneLine(d.Error, 120)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ago renders a duration the way people read an age: 42s, 7m, 3h12m, 2d4h.
func ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// thousands writes n with thousands separators: 1,234,567.
func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func bytesSize(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
