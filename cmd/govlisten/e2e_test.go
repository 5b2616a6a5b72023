package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
)

const finalCount = "SELECT count() FROM DB.mentions FINAL"

// 100,000 distinct mentions, 10% of them sent again (the same line in the
// same file, the same mention in a later file, and the same id with changed
// metrics in a later file) land as exactly the distinct ids, each tagged.
func TestImportDeduplicates100k(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	const distinct = 100_000
	g := synth.New(42)
	all := make([]*mention.Mention, distinct)
	lines := make([][]byte, distinct)
	for i := range all {
		all[i] = g.Next()
		lines[i], _ = json.Marshal(all[i])
	}
	r := rand.New(rand.NewPCG(1, 2))
	fileA := append([][]byte{}, lines[:60_000]...)
	for range 6_000 { // repeated lines within the first file
		fileA = append(fileA, lines[r.IntN(60_000)])
	}
	fileB := append([][]byte{}, lines[60_000:]...)
	for range 2_000 { // the same mention again in a later file
		fileB = append(fileB, lines[r.IntN(60_000)])
	}
	for range 2_000 { // the same id, re-collected with new metrics
		m := *all[r.IntN(60_000)]
		m.Metrics.Likes += 1000
		b, _ := json.Marshal(&m)
		fileB = append(fileB, b)
	}
	r.Shuffle(len(fileA), func(i, j int) { fileA[i], fileA[j] = fileA[j], fileA[i] })
	r.Shuffle(len(fileB), func(i, j int) { fileB[i], fileB[j] = fileB[j], fileB[i] })

	_, stderr, code := e.run(nil, "import", writeLines(t, fileA), writeLines(t, fileB))
	if code != 0 {
		t.Fatalf("import exited %d: %s", code, stderr)
	}
	var done struct{ Published, Duplicates, BadLines int64 }
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, `"import done"`) {
			_ = json.Unmarshal([]byte(l), &struct {
				Published  *int64 `json:"published"`
				Duplicates *int64 `json:"duplicates"`
				BadLines   *int64 `json:"bad_lines"`
			}{&done.Published, &done.Duplicates, &done.BadLines})
		}
	}
	// Exact re-sends are dropped by the stream; re-collections with new
	// metrics are new content and are published.
	if done.Duplicates < 7_000 || done.Published < distinct || done.Published+done.Duplicates != int64(len(fileA)+len(fileB)) {
		t.Fatalf("import counts: %+v for %d lines", done, len(fileA)+len(fileB))
	}

	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process --once exited %d: %s", code, stderr)
	}
	if got := e.count(finalCount); got != distinct {
		t.Fatalf("mentions FINAL has %d rows, want %d", got, distinct)
	}
	if got := e.count("SELECT uniqExact(platform, id) FROM DB.mentions"); got != distinct {
		t.Fatalf("%d distinct ids stored, want %d", got, distinct)
	}

	// Every row carries the tags, language and sentiment the processor's
	// tagger (default configuration: built-in taxonomy, detection,
	// thresholds) gives its text.
	tg, err := loadTagger(testenv.Config())
	if err != nil {
		t.Fatal(err)
	}
	var untagged uint64
	for _, m := range all {
		if tags := tg.Tag(m); len(tags.Departments) == 0 && len(tags.Topics) == 0 {
			untagged++
		}
	}
	if got := e.count("SELECT countIf(empty(departments) AND empty(topics)) FROM DB.mentions FINAL"); got != untagged {
		t.Fatalf("%d rows without tags, tagger says %d", got, untagged)
	}
	rows, err := e.store.Conn().Query(context.Background(),
		"SELECT platform, id, departments, topics, sentiment, toString(sentiment_label), text FROM "+e.store.DB()+".mentions FINAL ORDER BY cityHash64(id) LIMIT 500")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byID := map[string]*mention.Mention{}
	for _, m := range all {
		byID[m.Platform+":"+m.ID] = m
	}
	n := 0
	for rows.Next() {
		var platform, id, label, text string
		var depts, topics []string
		var score float32
		if err := rows.Scan(&platform, &id, &depts, &topics, &score, &label, &text); err != nil {
			t.Fatal(err)
		}
		m := byID[platform+":"+id]
		if m == nil {
			t.Fatalf("stored %s:%s was never imported", platform, id)
		}
		want := tg.Tag(m)
		if text != m.Text || strings.Join(depts, ",") != strings.Join(want.Departments, ",") ||
			strings.Join(topics, ",") != strings.Join(want.Topics, ",") || label != want.Sentiment.Label ||
			abs(float64(score)-want.Sentiment.Score) > 1e-6 {
			t.Fatalf("%s:%s stored as %v %v %v %q, tagger says %+v", platform, id, depts, topics, score, label, want)
		}
		n++
	}
	if n != 500 {
		t.Fatalf("checked %d rows", n)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// Garbage, truncated JSON, a record without id and invalid UTF-8, published
// straight onto the bus, end in the DLQ with a reason each; the good
// messages around them all land.
func TestDeadLetters(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	cfg := testenv.Config()
	cfg.NATS.URL = e.natsURL
	conn := testenv.Bus(t, cfg)
	g := synth.New(7)
	good := func(n int) {
		for range n {
			m := g.Next()
			msg, err := collectors.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			msg.Subject = "govlisten.mentions.twitter.post"
			if _, err := conn.JS.PublishMsg(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	noID := `{"v":1,"platform":"twitter","kind":"post","text":"no id here","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`
	badUTF8 := "{\"v\":1,\"platform\":\"twitter\",\"id\":\"77\",\"kind\":\"post\",\"text\":\"caf\xe9 \xff\xfe\",\"created_at\":\"2026-11-01T00:00:00Z\",\"collected_at\":\"2026-11-01T00:00:00Z\"}"
	bad := []struct{ data, reason, detail string }{
		{"\x00\x13\x7fGARBAGE\xff\xff", "undecodable", "not a mention record"},
		{`{"v":1,"platform":"twitter","id":"123","kind":"po`, "undecodable", "unexpected end of JSON"},
		{noID, "invalid", "id: missing"},
		{badUTF8, "invalid", "text: not valid UTF-8"},
	}
	for _, b := range bad {
		good(50)
		if _, err := conn.JS.Publish(context.Background(), "govlisten.mentions.twitter.post", []byte(b.data)); err != nil {
			t.Fatal(err)
		}
	}
	good(50)

	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process --once exited %d: %s", code, stderr)
	}
	if got := e.count(finalCount); got != 250 {
		t.Fatalf("%d good mentions stored, want 250", got)
	}
	out, stderr, code := e.run(nil, "dlq", "list")
	if code != 0 {
		t.Fatalf("dlq list exited %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(bad) {
		t.Fatalf("DLQ holds %d messages, want %d:\n%s", len(lines), len(bad), out)
	}
	for i, l := range lines {
		var d dlqEntry
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		if d.Subject != "govlisten.dlq."+bad[i].reason || !strings.Contains(d.Reason, bad[i].detail) ||
			d.OriginalSubject != "govlisten.mentions.twitter.post" || d.Data+string(d.DataBase64) != bad[i].data {
			t.Errorf("DLQ message %d: %+v, want reason %s with %q", i, d, bad[i].reason, bad[i].detail)
		}
	}
	// Terminated, not waiting for redelivery.
	cons, err := conn.JS.Consumer(context.Background(), bus.StreamMentions, "processor")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Fatalf("consumer after the run: pending %d, ack pending %d, redelivered %d", info.NumPending, info.NumAckPending, info.NumRedelivered)
	}
}

// kill -9 of a processor in the middle of a run, then a restart: nothing
// lost, nothing doubled after FINAL.
func TestProcessKilledMidRun(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	const total = 60_000
	e.importSynth(99, total)
	cmd, logs := e.start("process", "--batch-size", "2000", "--block-size", "400")
	got := e.waitCount("SELECT count() FROM DB.mentions", 10_000, 2*time.Minute)
	if got < 10_000 {
		t.Fatalf("processor stored only %d mentions in 2 minutes: %s", got, logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	atKill := e.count(finalCount)
	if atKill >= total {
		t.Fatalf("the processor finished (%d rows) before it was killed; the test proves nothing", atKill)
	}
	t.Logf("killed with %d of %d stored", atKill, total)
	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process --once after the kill exited %d: %s", code, stderr)
	}
	if got := e.count(finalCount); got != total {
		t.Fatalf("after restart mentions FINAL has %d rows, want %d", got, total)
	}
	if got := e.count("SELECT uniqExact(platform, id) FROM DB.mentions"); got != total {
		t.Fatalf("%d distinct ids, want %d", got, total)
	}
}

// ClickHouse stopped while mentions keep arriving, then started again:
// everything lands and the processor never exits.
func TestClickHouseOutage(t *testing.T) {
	outage := time.Minute
	if s := os.Getenv("GOVLISTEN_TEST_OUTAGE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("GOVLISTEN_TEST_OUTAGE: %v", err)
		}
		outage = d
	}
	ch, bin := testenv.ClickHouseServer(t)
	e := newEnv(t, ch)
	cfg := testenv.Config()
	cfg.NATS.URL = e.natsURL
	conn := testenv.Bus(t, cfg)

	cmd, logs := e.start("process", "--batch-size", "500", "--block-size", "100")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// A steady 500 mentions/s for the whole test.
	ctx, stopPublishing := context.WithCancel(context.Background())
	published := make(chan int64, 1)
	go func() {
		pub := collectors.NewPublisher(conn.JS, 256, time.Minute)
		g := synth.New(5)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			<-tick.C
			for range 5 {
				if err := pub.Publish(context.Background(), g.Next()); err != nil {
					t.Error(err)
				}
			}
		}
		if err := pub.Wait(context.Background()); err != nil {
			t.Error(err)
		}
		published <- pub.Published.Load()
	}()

	time.Sleep(5 * time.Second)
	before := e.count(finalCount)
	if before == 0 {
		t.Fatalf("nothing stored before the outage: %s", logs.String())
	}
	ch.Stop()
	t.Logf("ClickHouse stopped with %d stored; down for %s", before, outage)
	time.Sleep(outage)
	select {
	case err := <-exited:
		t.Fatalf("processor exited during the outage: %v\n%s", err, logs.String())
	default:
	}
	rctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ch2, err := ch.Restart(rctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ch2.Stop)
	time.Sleep(5 * time.Second)
	stopPublishing()
	n := uint64(<-published)
	got := e.waitCount(finalCount, n, 3*time.Minute)
	if got != n {
		t.Fatalf("after the outage %d of %d mentions stored\n%s", got, n, tail(logs.String(), 3000))
	}
	select {
	case err := <-exited:
		t.Fatalf("processor exited: %v", err)
	default:
	}
	if !strings.Contains(logs.String(), "insert failed") {
		t.Fatalf("the processor never saw the outage; logs:\n%s", tail(logs.String(), 3000))
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Fatalf("processor did not stop cleanly on SIGTERM: %v", err)
	}
	t.Logf("%d mentions published, %d stored, across a %s outage", n, got, outage)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Several processors on one consumer share the work and store each mention
// once.
func TestProcessorsShareTheConsumer(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	const total = 40_000
	e.importSynth(123, total)
	type res struct {
		stderr string
		err    error
	}
	done := make(chan res, 2)
	for range 2 {
		go func() {
			cmd := exec.Command(binPath, "process", "--once", "--batch-size", "1000")
			cmd.Env = e.vars
			var errb strings.Builder
			cmd.Stderr = &errb
			err := cmd.Run()
			done <- res{errb.String(), err}
		}()
	}
	var received []int64
	for range 2 {
		r := <-done
		if r.err != nil {
			t.Fatalf("process --once: %v\n%s", r.err, r.stderr)
		}
		for _, l := range strings.Split(r.stderr, "\n") {
			var s struct {
				Msg      string `json:"msg"`
				Received int64  `json:"received"`
			}
			if json.Unmarshal([]byte(l), &s) == nil && s.Msg == "processor stopped" {
				received = append(received, s.Received)
			}
		}
	}
	if len(received) != 2 || received[0] == 0 || received[1] == 0 {
		t.Fatalf("work was not shared: each processor received %v", received)
	}
	if got := e.count(finalCount); got != total {
		t.Fatalf("mentions FINAL has %d rows, want %d", got, total)
	}
}

// `govlisten up` runs the embedded default: in-process NATS, a private
// ClickHouse it starts itself, migrate and the processors; Ctrl-C stops it
// cleanly.
func TestUpEmbeddedDefault(t *testing.T) {
	if _, err := chlocal.FindBinary(os.Getenv("GOVLISTEN_CLICKHOUSE_SERVER")); err != nil {
		t.Fatalf("integration tests need a real ClickHouse: %v", err)
	}
	e := &env{t: t}
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "GOVLISTEN_") {
			e.vars = append(e.vars, v)
		}
	}
	e.vars = append(e.vars, "GOVLISTEN_NATS_EMBEDDED_LISTEN=127.0.0.1:0", "GOVLISTEN_LOG_FORMAT=json", "GOVLISTEN_PROCESS_BATCH_TIMEOUT=200ms",
		"GOVLISTEN_HTTP_ADDR=127.0.0.1:0")
	dataDir := t.TempDir()
	cmd, logs := e.start("up", "--data-dir", dataDir)
	addr := servingAddr(t, cmd, logs)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var natsURL, dsn string
	deadline := time.Now().Add(90 * time.Second)
	for (natsURL == "" || dsn == "" || !strings.Contains(logs.String(), `"msg":"processing"`)) && time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("up exited: %v\n%s", err, logs.String())
		case <-time.After(200 * time.Millisecond):
		}
		for _, l := range strings.Split(logs.String(), "\n") {
			var s struct{ Msg, URL, DSN string }
			if json.Unmarshal([]byte(l), &s) == nil {
				switch s.Msg {
				case "embedded NATS with JetStream":
					natsURL = s.URL
				case "private ClickHouse started":
					dsn = s.DSN
				}
			}
		}
	}
	if natsURL == "" || dsn == "" {
		t.Fatalf("up did not report its NATS and ClickHouse:\n%s", logs.String())
	}
	e.vars = append(e.vars, "GOVLISTEN_NATS_URL="+natsURL)
	e.importSynth(8, 5000)
	e.store = testenv.Store(t, dsn)
	// up also collects from its simulators: count the imported mentions.
	imported := "SELECT count() FROM DB.mentions FINAL WHERE url LIKE 'https://example.invalid/%'"
	if got := e.waitCount(imported, 5000, time.Minute); got != 5000 {
		t.Fatalf("up stored %d of 5000\n%s", got, logs.String())
	}
	// One HTTP server for the whole process: the processor's and the
	// collectors' metrics, and readiness on NATS and ClickHouse.
	// (The counters move once the batch is acknowledged, just after its
	// rows are visible.)
	waitReady(t, addr, 200, "clickhouse: ok")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		m := scrape(t, addr)
		if m["govlisten_processor_inserted_total"] >= 5000 && m.sum("govlisten_api_calls_total") > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("up's /metrics: inserted %v, API calls %v", m["govlisten_processor_inserted_total"], m.sum("govlisten_api_calls_total"))
		}
	}
	e.store.Close()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("up did not exit cleanly on Ctrl-C: %v\n%s", err, logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("up did not stop within 60s of Ctrl-C")
	}
	if out, _ := exec.Command("pgrep", "-f", dataDir).Output(); len(out) > 0 {
		t.Fatalf("processes left running after up stopped: %s", out)
	}
}
