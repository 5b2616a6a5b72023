package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
)

// statusCollector stands in for a platform: for source ok-src it returns
// one page of mentions with a checkpoint at a known time; for any other,
// an error.
type statusCollector struct {
	mentions   []*mention.Mention
	checkpoint time.Time
}

func (c statusCollector) Collect(ctx context.Context, src config.Source, _ collectors.Checkpoint, emit func(context.Context, collectors.Page) error) error {
	if src.Name != "ok-src" {
		return errors.New("boom: the API is down")
	}
	return emit(ctx, collectors.Page{Mentions: c.mentions, Checkpoint: collectors.Checkpoint{Since: c.checkpoint}, Calls: 1})
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// `govlisten status --json` against a known state: mentions processed and
// pending, dead letters by reason, one source that ran and one that
// failed. Then each of NATS and ClickHouse unreachable: exit 1, naming it.
func TestStatus(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	e.vars = append(e.vars, "GOVLISTEN_NATS_CONSUMER_ACK_WAIT=10m") // no redelivery: rows are counted before FINAL
	cfg := testenv.Config()
	cfg.NATS.URL = e.natsURL
	conn := testenv.Bus(t, cfg)
	ctx := context.Background()
	// The shared server keeps the test's database between runs (-count).
	if err := e.store.Conn().Exec(ctx, "TRUNCATE TABLE "+e.store.DB()+".mentions"); err != nil {
		t.Fatal(err)
	}

	// 3,000 processed, 3 dead-lettered.
	processedFrom := time.Now().UTC()
	e.importSynth(41, 3000)
	for _, b := range []struct{ subject, data string }{
		{"govlisten.mentions.twitter.post", "garbage"},
		{"govlisten.mentions.youtube.comment", "{"},
		{"govlisten.mentions.facebook.post", `{"v":1,"platform":"facebook","kind":"post","text":"no id","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`},
	} {
		if _, err := conn.JS.Publish(ctx, b.subject, []byte(b.data)); err != nil {
			t.Fatal(err)
		}
	}
	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process --once exited %d: %s", code, stderr)
	}
	processedTo := time.Now().UTC()
	// 500 imported and 7 collected, not processed.
	e.importSynth(42, 500)
	g := synth.New(43)
	var collected []*mention.Mention
	for range 7 {
		collected = append(collected, g.Next())
	}
	checkpoint := time.Now().UTC().Add(-90 * time.Minute).Truncate(time.Second)
	cfg.Sources = []config.Source{
		{Name: "ok-src", Platform: "twitter", Kind: "search", Query: "DWP"},
		{Name: "bad-src", Platform: "youtube", Kind: "video_comments", VideoID: "abc"},
	}
	sc := statusCollector{mentions: collected, checkpoint: checkpoint}
	sched, err := collectors.NewScheduler(ctx, conn.JS, cfg, map[string]collectors.Collector{"twitter": sc, "youtube": sc}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sched.RunOnce(ctx, collectors.Options{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("RunOnce: %v", err)
	}
	cfgPath := filepath.Join(t.TempDir(), "govlisten.yaml")
	if err := os.WriteFile(cfgPath, []byte(`sources:
  - {name: ok-src, platform: twitter, kind: search, query: DWP}
  - {name: bad-src, platform: youtube, kind: video_comments, video_id: abc}
  - {name: never-src, platform: facebook, kind: page_posts, page_id: "100000000000001"}
`), 0o600); err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	out, stderr, code := e.run(nil, "status", "--json", "--config", cfgPath)
	after := time.Now()
	if code != 0 {
		t.Fatalf("status exited %d: %s\n%s", code, stderr, out)
	}
	var r statusReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("nats.reachable", r.NATS.Reachable, true)
	check("clickhouse.reachable", r.ClickHouse.Reachable, true)
	check("problems", len(r.Problems), 0)
	if r.Mentions == nil || r.Consumer == nil || r.DLQ == nil || r.Store == nil {
		t.Fatalf("sections missing:\n%s", out)
	}
	check("mentions.messages", r.Mentions.Messages, 507)
	check("consumer.pending", r.Consumer.Pending, 507)
	check("consumer.ack_pending", r.Consumer.AckPending, 0)
	check("consumer.redelivered", r.Consumer.Redelivered, 0)
	check("dlq.messages", r.DLQ.Messages, 3)
	check("dlq.by_reason", fmt.Sprint(r.DLQ.ByReason), "map[invalid:1 undecodable:2]")
	check("store.rows", r.Store.Rows, 3000)
	check("store.rows_last_hour", r.Store.RowsLastHour, 3000)
	if processedFrom.Truncate(24 * time.Hour).Equal(after.UTC().Truncate(24 * time.Hour)) { // not across midnight
		check("store.rows_today", r.Store.RowsToday, 3000)
	}
	if li := r.Store.LastInsert; li == nil || li.Before(processedFrom.Truncate(time.Second)) || li.After(processedTo) {
		t.Errorf("store.last_insert %v, processed between %v and %v", li, processedFrom, processedTo)
	}
	if len(r.Sources) != 3 {
		t.Fatalf("%d sources, want 3:\n%s", len(r.Sources), out)
	}
	bad, never, ok := r.Sources[0], r.Sources[1], r.Sources[2] // sorted by name
	check("ok-src", ok.Source, "ok-src")
	check("ok-src platform", ok.Platform, "twitter")
	check("ok-src last_result", ok.LastResult, "ok")
	check("ok-src published", ok.Published, 7)
	check("ok-src last_error", ok.LastError, "")
	if ok.LastSuccess == nil || ok.LastRun == nil || !ok.LastSuccess.Equal(*ok.LastRun) {
		t.Errorf("ok-src last success %v, last run %v", ok.LastSuccess, ok.LastRun)
	}
	if ok.Checkpoint == nil || !ok.Checkpoint.Equal(checkpoint) || ok.CheckpointAge == nil ||
		*ok.CheckpointAge < before.Sub(checkpoint).Seconds() || *ok.CheckpointAge > after.Sub(checkpoint).Seconds() {
		t.Errorf("ok-src checkpoint %v, age %v s; want %v and between %v and %v s", ok.Checkpoint, ok.CheckpointAge, checkpoint,
			before.Sub(checkpoint).Seconds(), after.Sub(checkpoint).Seconds())
	}
	check("bad-src", bad.Source, "bad-src")
	check("bad-src last_result", bad.LastResult, "error")
	check("bad-src last_success", bad.LastSuccess, (*time.Time)(nil))
	if !strings.Contains(bad.LastError, "boom: the API is down") || bad.LastErrorAt == nil || !bad.LastErrorAt.Equal(*bad.LastRun) {
		t.Errorf("bad-src last error %q at %v", bad.LastError, bad.LastErrorAt)
	}
	check("never-src", never.Source, "never-src")
	check("never-src platform", never.Platform, "facebook")
	check("never-src last_run", never.LastRun, (*time.Time)(nil))

	// The table for a terminal.
	table, stderr, code := e.run(nil, "status", "--config", cfgPath)
	if code != 0 || !strings.Contains(table, "stream MENTIONS") || !strings.Contains(table, "507 messages") ||
		!strings.Contains(table, "undecodable 2") || !strings.Contains(table, "3,000 rows today") || !strings.Contains(table, "boom") {
		t.Errorf("status exited %d: %s\n%s", code, stderr, table)
	}
	t.Logf("status:\n%s", table)

	// Unreachable servers: exit 1, a line naming which, the rest still shown.
	out, stderr, code = e.run(nil, "status", "--json", "--nats", fmt.Sprintf("nats://127.0.0.1:%d", freePort(t)))
	if code != 1 || !strings.Contains(stderr, "NATS cannot be reached") || strings.Contains(stderr, "ClickHouse cannot") || !strings.Contains(out, `"rows": 3000`) {
		t.Errorf("status with NATS down exited %d: %s\n%s", code, stderr, out)
	}
	_, stderr, code = e.run(nil, "status", "--clickhouse", fmt.Sprintf("clickhouse://127.0.0.1:%d/x", freePort(t)))
	if code != 1 || !strings.Contains(stderr, "ClickHouse cannot be reached") || strings.Contains(stderr, "NATS cannot") {
		t.Errorf("status with ClickHouse down exited %d: %s", code, stderr)
	}
}
