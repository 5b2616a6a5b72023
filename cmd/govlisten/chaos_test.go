package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors/facebook"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestChaos runs the whole pipeline — the three API simulators at a steady
// rate, `govlisten collect` and `govlisten process` (the real binary,
// restarted whenever they exit, as systemd would), a NATS server and a
// private ClickHouse — for GOVLISTEN_CHAOS_DURATION (default 60s, one round of
// faults; 30s with -short, which still runs each fault once; `make chaos`
// runs 5m) while faults are injected on a schedule:
// kill -9 of the collector and of the processor, a NATS crash (kill -9 of
// nats-server, or a shutdown of an in-process server when nats-server is not
// installed), ClickHouse stopped and started, the APIs throttling (429),
// erroring (5xx), timing out and answering garbage, and a full disk (stream
// MENTIONS' max_bytes lowered until publishes are refused). Then the faults
// stop, everything drains, and every mention the simulators served must be
// in ClickHouse exactly once after FINAL, or in the DLQ with a reason.
func TestChaos(t *testing.T) {
	duration := 60 * time.Second
	if testing.Short() {
		duration = 30 * time.Second
	}
	if s := os.Getenv("GOVLISTEN_CHAOS_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("GOVLISTEN_CHAOS_DURATION: %v", err)
		}
		duration = d
	}
	began := time.Now()
	tl := &timeline{start: began}

	// The servers.
	ch, chBin := testenv.ClickHouseServer(t)
	ns := startChaosNATS(t)
	tl.add("started NATS (%s) at %s and ClickHouse at %s", ns.kind(), ns.url, ch.Addr())
	e := &env{t: t, natsURL: ns.url, dsn: ch.DSN("chaos")}
	e.store = testenv.Store(t, e.dsn)
	cfg := testenv.Config()
	cfg.NATS.URL = ns.url
	conn := testenv.Bus(t, cfg)

	// The simulators, in process so that faults can be injected.
	const rate = 50
	sims := newChaosSims(t, rate)
	e.vars = append(os.Environ(),
		"GOVLISTEN_NATS_URL="+e.natsURL,
		"GOVLISTEN_CLICKHOUSE_DSN="+e.dsn,
		"GOVLISTEN_PROCESS_BATCH_TIMEOUT=200ms",
		"GOVLISTEN_PROCESS_RETRY_MIN=200ms",
		"GOVLISTEN_PROCESS_RETRY_MAX=2s",
		"GOVLISTEN_LOG_FORMAT=json",
		"GOVLISTEN_NATS_CONSUMER_ACK_WAIT=10s",
		"GOVLISTEN_NATS_LEASE_TTL=2s",
		"GOVLISTEN_HTTP_ADDR=127.0.0.1:0",
		// The simulated API has no daily quota; a short reply look-back
		// keeps each YouTube pass quick (as `up` does).
		"GOVLISTEN_YOUTUBE_DAILY_QUOTA_UNITS=1000000000",
		"GOVLISTEN_YOUTUBE_REPLY_LOOKBACK=1m",
		"GOVLISTEN_TWITTER_BASE_URL="+sims.url["twitter"],
		"GOVLISTEN_YOUTUBE_BASE_URL="+sims.url["youtube"]+"/",
		"GOVLISTEN_FACEBOOK_BASE_URL="+sims.url["facebook"],
	)
	cfgPath := e.writeSourcesConfig("2s")

	collector := supervise(e, tl, "collector", "collect", "--config", cfgPath)
	processor := supervise(e, tl, "processor", "process", "--batch-size", "2000", "--block-size", "500")

	// Broken records published straight onto the mention subjects, as a
	// faulty producer would: each must end in the DLQ with a reason.
	poison := &poisonRecords{}

	// The faults, in this order, again and again until the duration is up;
	// each runs at least once.
	faults := []struct {
		name string
		run  func()
	}{
		{"API timeouts", func() {
			sims.hang.Store(3) // one request per platform, roughly, hangs until the client gives up
			tl.add("API timeouts: the next 3 API requests hang until the client's 30s timeout")
		}},
		{"kill -9 collector", func() { collector.kill9() }},
		{"API 429", func() {
			sims.tw.Inject(twitter.Fault{Kind: twitter.FaultRateLimit, Count: 3, Wait: 2 * time.Second})
			sims.yt.Inject(youtube.Fault{Kind: youtube.FaultRateLimit, Count: 3, Wait: 2 * time.Second})
			sims.fb.Inject(facebook.Fault{Kind: facebook.FaultRateLimit, Count: 3, Wait: 2 * time.Second})
			tl.add("API 429: 3 throttled answers queued on each simulator (wait 2s)")
		}},
		{"ClickHouse outage", func() {
			ch.Stop()
			tl.add("ClickHouse stopped")
			time.Sleep(8 * time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			ch2, err := ch.Restart(ctx, chBin)
			if err != nil {
				t.Fatalf("restarting ClickHouse: %v", err)
			}
			ch = ch2
			t.Cleanup(ch2.Stop)
			tl.add("ClickHouse started again after 8s down")
		}},
		{"API 5xx", func() {
			sims.tw.Inject(twitter.Fault{Kind: twitter.FaultServerError, Count: 4})
			sims.yt.Inject(youtube.Fault{Kind: youtube.FaultServerError, Count: 4})
			sims.fb.Inject(facebook.Fault{Kind: facebook.FaultServerError, Count: 4})
			tl.add("API 5xx: 4 server errors queued on each simulator")
		}},
		{"kill -9 processor", func() { processor.kill9() }},
		{"NATS crash", func() {
			ns.crash(t)
			tl.add("NATS crashed (%s)", ns.kind())
			time.Sleep(5 * time.Second)
			ns.start(t)
			tl.add("NATS started again after 5s down, same port and store")
		}},
		{"API garbage", func() {
			sims.tw.Inject(twitter.Fault{Kind: twitter.FaultMalformed, Count: 2})
			sims.yt.Inject(youtube.Fault{Kind: youtube.FaultMalformed, Count: 2})
			sims.fb.Inject(facebook.Fault{Kind: facebook.FaultMalformed, Count: 2})
			tl.add("API garbage: 2 truncated JSON pages queued on each simulator")
		}},
		{"broken records", func() {
			n := poison.publish(t, conn.JS)
			tl.add("broken records: %d published straight onto the mention subjects (bad timestamp, unknown kind, missing id, truncated JSON)", n)
		}},
		{"full disk", func() {
			restore := fillDisk(t, conn.JS, tl)
			time.Sleep(6 * time.Second)
			restore()
		}},
	}
	const gap = 3 * time.Second
	for i := 0; i < len(faults) || time.Since(began) < duration; i++ {
		time.Sleep(gap)
		faults[i%len(faults)].run()
	}
	tl.add("faults stopped")

	// Drain: stop the collector, let its leases expire, finish every pass
	// it left open with one clean pass; stop the processor and process
	// whatever is left.
	sims.hang.Store(0)
	collector.stop()
	time.Sleep(2500 * time.Millisecond)
	_, stderr, code := e.run(nil, "collect", "--once", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("collect --once exited %d: %s", code, tail(stderr, 3000))
	}
	saveLogs(t, map[string]string{"collect-once": stderr})
	tl.add("collect --once done")
	processor.stop()
	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process --once exited %d: %s", code, tail(stderr, 3000))
	}
	tl.add("process --once done: drained")
	sims.close()

	cons, err := conn.JS.Consumer(context.Background(), bus.StreamMentions, "processor")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 {
		t.Errorf("consumer not drained: %d pending, %d awaiting ack", info.NumPending, info.NumAckPending)
	}

	// Reconcile.
	e.store = testenv.Store(t, e.dsn) // a fresh connection to the restarted server
	dead := deadLettered(e)
	var served, landed, deadLettered, lost, extra int
	for _, p := range []string{"twitter", "youtube", "facebook"} {
		stored := map[string]bool{}
		for _, id := range e.storedIDs(p) {
			stored[id] = true
		}
		want := sims.served(p)
		wantSet := map[string]bool{}
		var missing []string
		for _, id := range want {
			wantSet[id] = true
			switch {
			case stored[id]:
				landed++
			case dead[p+":"+id] != "":
				deadLettered++
			default:
				lost++
				missing = append(missing, id)
			}
		}
		for id := range stored {
			if !wantSet[id] {
				extra++
			}
		}
		served += len(want)
		if len(missing) > 0 {
			t.Errorf("%s: %d of %d served mentions neither stored nor dead-lettered, e.g. %v", p, len(missing), len(want), missing[:min(5, len(missing))])
		}
	}
	// Every broken record is in the DLQ with a reason, none stored. The
	// DLQ is keyed by platform:id as far as the record gives them: a
	// record without an id is "facebook:", a truncated one ":".
	var poisonDead int
	for _, key := range poison.keys {
		p, id, _ := strings.Cut(key, ":")
		switch {
		case dead[key] != "":
			poisonDead++
		case id != "" && slices.Contains(e.storedIDs(p), id):
			t.Errorf("broken record %s was stored", key)
		default:
			t.Errorf("broken record %s is not in the DLQ", key)
		}
	}
	doubled := e.count("SELECT count() FROM (SELECT platform, id FROM DB.mentions FINAL GROUP BY platform, id HAVING count() > 1)")
	rawDup := e.count("SELECT count() FROM DB.mentions") - e.count("SELECT uniqExact(platform, id) FROM DB.mentions")
	finalRows := e.count(finalCount)

	saveLogs(t, map[string]string{"collector": collector.logs.String(), "processor": processor.logs.String()})
	t.Logf("fault timeline:\n%s", tl)
	t.Logf("collector: %d kills, %d other exits; processor: %d kills, %d other exits",
		collector.kills, collector.exits, processor.kills, processor.exits)
	t.Logf("evidence: processor logged %d failed inserts; collectors logged %d refused or failed publishes",
		strings.Count(processor.logs.String(), "insert failed"), countPublishErrors(collector.logs.String()))
	t.Logf("chaos %s (%s in all): served %d, landed %d, dead-lettered %d, lost %d, doubled %d; broken records published %d, dead-lettered %d (raw duplicates before FINAL %d; rows after FINAL %d; stored but never served %d; distinct platform:id keys in the DLQ %d)",
		duration, time.Since(began).Round(time.Second), served, landed, deadLettered, lost, doubled, len(poison.keys), poisonDead, rawDup, finalRows, extra, len(dead))
	if served == 0 {
		t.Fatal("the simulators served nothing: the run proves nothing")
	}
	if lost != 0 || doubled != 0 {
		t.Fatalf("lost %d, doubled %d: want 0 and 0", lost, doubled)
	}
	if extra != 0 {
		t.Errorf("%d mentions stored that no simulator served", extra)
	}
	if finalRows != uint64(landed+extra) {
		t.Errorf("%d rows after FINAL for %d distinct mentions stored", finalRows, landed+extra)
	}
}

// poisonRecords publishes broken records, as a faulty producer would, and
// remembers them for the reconciliation.
type poisonRecords struct {
	round int
	keys  []string // the DLQ key (platform:id, as far as known) of each
}

// publish sends one round of broken records and returns how many. A
// publish refused while NATS is down or the stream full is retried for up
// to a minute: a broken record must reach the stream to prove anything.
func (p *poisonRecords) publish(t *testing.T, js jetstream.JetStream) int {
	p.round++
	now := time.Now().UTC().Format(time.RFC3339)
	id := func(kind string) string { return fmt.Sprintf("poison-%d-%s", p.round, kind) }
	recs := []struct {
		platform, key, data string
	}{
		{"twitter", "twitter:" + id("time"), `{"v":1,"platform":"twitter","id":"` + id("time") + `","kind":"post","text":"bad time","created_at":"yesterday","collected_at":"` + now + `"}`},
		{"youtube", "youtube:" + id("kind"), `{"v":1,"platform":"youtube","id":"` + id("kind") + `","kind":"story","text":"unknown kind","created_at":"` + now + `","collected_at":"` + now + `"}`},
		{"facebook", "facebook:", `{"v":1,"platform":"facebook","kind":"comment","text":"no id","created_at":"` + now + `","collected_at":"` + now + `"}`},
		{"twitter", ":", `{"v":1,"platform":"twitter","id":"` + id("cut") + `","kind":"post","te`},
	}
	for i, r := range recs {
		m := nats.NewMsg("govlisten.mentions." + r.platform + ".post")
		m.Data = []byte(r.data)
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("poison:%d:%d", p.round, i))
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := js.PublishMsg(ctx, m)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("publishing a broken record: %v", err)
			}
		}
		p.keys = append(p.keys, r.key)
	}
	return len(recs)
}

// timeline records what the chaos test did, and when.
type timeline struct {
	start time.Time
	mu    sync.Mutex
	lines []string
}

func (tl *timeline) add(format string, args ...any) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.lines = append(tl.lines, fmt.Sprintf("  %7.1fs  %s", time.Since(tl.start).Seconds(), fmt.Sprintf(format, args...)))
}

func (tl *timeline) String() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return strings.Join(tl.lines, "\n")
}

// chaosSims are the three API simulators behind one fault the simulators do
// not have themselves: a request that hangs until the client times out.
type chaosSims struct {
	tw   *twitter.Simulator
	yt   *youtube.Simulator
	fb   *facebook.Simulator
	url  map[string]string
	hang atomic.Int32 // API requests still to hang
	done chan struct{}
	srvs []*httptest.Server
	once sync.Once
}

func newChaosSims(t *testing.T, rate float64) *chaosSims {
	s := &chaosSims{
		tw:   twitter.NewSimulator(twitter.SimConfig{Rate: rate, Seed: 11}),
		yt:   youtube.NewSimulator(youtube.SimConfig{Rate: rate, Seed: 12}),
		fb:   facebook.NewSimulator(facebook.SimConfig{Rate: rate, Seed: 13}),
		url:  map[string]string{},
		done: make(chan struct{}),
	}
	for p, h := range map[string]http.Handler{"twitter": s.tw, "youtube": s.yt, "facebook": s.fb} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/_sim/") && s.hang.Add(-1) >= 0 {
				select { // nothing served: the client gives up
				case <-r.Context().Done():
				case <-s.done:
				}
				return
			}
			h.ServeHTTP(w, r)
		}))
		s.srvs = append(s.srvs, srv)
		s.url[p] = srv.URL
	}
	t.Cleanup(s.close)
	return s
}

func (s *chaosSims) served(platform string) []string {
	switch platform {
	case "twitter":
		return s.tw.Served()
	case "youtube":
		return s.yt.Served()
	default:
		return s.fb.Served()
	}
}

func (s *chaosSims) close() {
	s.once.Do(func() {
		close(s.done)
		for _, srv := range s.srvs {
			srv.Close()
		}
	})
}

// chaosNATS is a NATS server with JetStream that can crash and start again
// on the same port and store: nats-server as a child process (killed with
// -9) when it is installed, else the in-process server (shut down).
type chaosNATS struct {
	bin   string // nats-server; "" for in-process
	port  int
	dir   string
	url   string
	cmd   *exec.Cmd
	waitc chan struct{}
	emb   *bus.Embedded
}

func startChaosNATS(t *testing.T) *chaosNATS {
	port, err := chlocal.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	n := &chaosNATS{port: port, dir: filepath.Join(t.TempDir(), "nats"), url: "nats://127.0.0.1:" + strconv.Itoa(port)}
	if os.Getenv("GOVLISTEN_CHAOS_NATS") != "embedded" {
		if p, err := exec.LookPath("nats-server"); err == nil {
			n.bin = p
		} else if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
			n.bin = "/usr/sbin/nats-server"
		}
	}
	n.start(t)
	t.Cleanup(func() { n.crash(t) })
	return n
}

func (n *chaosNATS) kind() string {
	if n.bin != "" {
		return "nats-server process, kill -9"
	}
	return "in-process server, shutdown"
}

func (n *chaosNATS) start(t *testing.T) {
	if n.bin == "" {
		cfg := testenv.Config()
		cfg.NATS.Embedded.Listen = "127.0.0.1:" + strconv.Itoa(n.port)
		emb, err := bus.StartEmbedded(cfg, n.dir)
		if err != nil {
			t.Fatalf("starting NATS: %v", err)
		}
		n.emb = emb
		return
	}
	cmd := exec.Command(n.bin, "-js", "-sd", n.dir, "-a", "127.0.0.1", "-p", strconv.Itoa(n.port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting nats-server: %v", err)
	}
	n.cmd, n.waitc = cmd, make(chan struct{})
	go func(c chan struct{}) { _ = cmd.Wait(); close(c) }(n.waitc)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(n.port), time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nats-server did not accept connections within 30s")
		}
	}
}

func (n *chaosNATS) crash(t *testing.T) {
	if n.emb != nil {
		n.emb.Shutdown()
		n.emb = nil
	}
	if n.cmd != nil {
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		<-n.waitc
		n.cmd = nil
	}
}

// fillDisk lowers MENTIONS' max_bytes to one byte, so that every publish is
// refused as on a full disk (the stream discards new messages, never old
// ones); the function it returns restores the limit.
func fillDisk(t *testing.T, js jetstream.JetStream, tl *timeline) func() {
	var s jetstream.Stream
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err = js.Stream(ctx, bus.StreamMentions)
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("stream %s: %v", bus.StreamMentions, err)
	}
	sc := s.CachedInfo().Config
	orig := sc.MaxBytes
	sc.MaxBytes = 1
	if _, err := js.UpdateStream(context.Background(), sc); err != nil {
		t.Fatalf("lowering max_bytes: %v", err)
	}
	tl.add("full disk: MENTIONS max_bytes %d -> 1 (%d bytes, %d messages in the stream)", orig, s.CachedInfo().State.Bytes, s.CachedInfo().State.Msgs)
	return func() {
		sc.MaxBytes = orig
		if _, err := js.UpdateStream(context.Background(), sc); err != nil {
			t.Fatalf("restoring max_bytes: %v", err)
		}
		tl.add("full disk over: MENTIONS max_bytes back to %d", orig)
	}
}

// supervised is a govlisten command kept running: started again a second
// after it exits, whatever the reason, until stop.
type supervised struct {
	e      *env
	tl     *timeline
	name   string
	args   []string
	logs   *syncBuffer
	mu     sync.Mutex
	cur    *proc
	killed bool // the current process was killed by the test
	done   bool
	kills  int
	exits  int
	exited chan struct{}
}

func supervise(e *env, tl *timeline, name string, args ...string) *supervised {
	s := &supervised{e: e, tl: tl, name: name, args: args, logs: &syncBuffer{}, exited: make(chan struct{})}
	go s.loop()
	e.t.Cleanup(s.stop)
	return s
}

func (s *supervised) loop() {
	defer close(s.exited)
	for restarted := false; ; restarted = true {
		cmd := exec.Command(binPath, s.args...)
		cmd.Env = s.e.vars
		cmd.Stdout, cmd.Stderr = s.logs, s.logs
		s.mu.Lock() // start and stop never cross
		if s.done {
			s.mu.Unlock()
			return
		}
		if err := cmd.Start(); err != nil {
			s.mu.Unlock()
			s.tl.add("%s did not start: %v", s.name, err)
			return
		}
		s.cur, s.killed = &proc{Cmd: cmd}, false
		s.mu.Unlock()
		if restarted {
			s.tl.add("%s restarted (pid %d)", s.name, cmd.Process.Pid)
		}
		err := cmd.Wait()
		s.mu.Lock()
		done, killed := s.done, s.killed
		if !done && !killed {
			s.exits++
			s.tl.add("%s exited on its own (%v)", s.name, err)
		}
		s.mu.Unlock()
		if done {
			return
		}
		time.Sleep(time.Second)
	}
}

// kill9 kills the running process with SIGKILL; the loop restarts it.
func (s *supervised) kill9() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.done {
		return
	}
	s.killed = true
	s.kills++
	_ = s.cur.Process.Signal(syscall.SIGKILL)
	s.tl.add("kill -9 %s (pid %d)", s.name, s.cur.Process.Pid)
}

// stop ends the process with SIGTERM (SIGKILL after 30s) and the loop.
func (s *supervised) stop() {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.done = true
	cur := s.cur
	s.mu.Unlock()
	if cur != nil {
		_ = cur.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		if cur != nil {
			_ = cur.Process.Signal(syscall.SIGKILL)
		}
		<-s.exited
	}
	s.tl.add("%s stopped (SIGTERM)", s.name)
}

// deadLettered maps platform:id to the reason of each mention in the DLQ.
func deadLettered(e *env) map[string]string {
	out, stderr, code := e.run(nil, "dlq", "list")
	if code != 0 {
		e.t.Fatalf("dlq list exited %d: %s", code, stderr)
	}
	dead := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var d dlqEntry
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			e.t.Fatalf("dlq list: %v: %s", err, l)
		}
		var m struct{ Platform, ID string }
		_ = json.Unmarshal([]byte(d.Data), &m)
		if d.Reason == "" {
			e.t.Errorf("DLQ message %d has no reason", d.Seq)
		}
		dead[m.Platform+":"+m.ID] = d.Reason
	}
	return dead
}

// countPublishErrors counts the collectors' log lines that report a
// refused or failed publish.
func countPublishErrors(logs string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		low := strings.ToLower(l)
		if strings.Contains(low, "maximum bytes") || strings.Contains(low, "publish") && strings.Contains(low, "err") {
			n++
		}
	}
	return n
}

// saveLogs writes the children's logs to GOVLISTEN_CHAOS_LOG_DIR, when set.
func saveLogs(t *testing.T, logs map[string]string) {
	dir := os.Getenv("GOVLISTEN_CHAOS_LOG_DIR")
	if dir == "" {
		return
	}
	for name, l := range logs {
		if err := os.WriteFile(filepath.Join(dir, name+".log"), []byte(l), 0o600); err != nil {
			t.Error(err)
		}
	}
}
