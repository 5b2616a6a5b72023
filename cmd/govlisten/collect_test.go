package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/internal/testenv"
)

// simulators runs `govlisten simulate` and returns the base-URL variables
// it prints, keyed by platform.
func (e *env) simulators(rate float64) map[string]string {
	e.t.Helper()
	cmd := exec.Command(binPath, "simulate", "--rate", fmt.Sprint(rate),
		"--twitter-addr", "127.0.0.1:0", "--youtube-addr", "127.0.0.1:0", "--facebook-addr", "127.0.0.1:0")
	cmd.Env = e.vars
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := map[string]string{}
	sc := bufio.NewScanner(out)
	for len(urls) < 3 && sc.Scan() {
		name, url, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if ok {
			urls[strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(name, "GOVLISTEN_"), "_BASE_URL"))] = url
			e.vars = append(e.vars, name+"="+url)
		}
	}
	if len(urls) < 3 {
		e.t.Fatalf("simulate printed %v", urls)
	}
	go func() { // keep draining
		for sc.Scan() {
		}
	}()
	return urls
}

// served asks a simulator which mention ids it has served.
func served(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/_sim/served")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ IDs []string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.IDs
}

func (e *env) writeSourcesConfig(every string) string {
	e.t.Helper()
	dwp := twitter.SimAccounts()[0]
	yt := youtube.SimSources()[0]
	cfg := fmt.Sprintf(`sources:
  - {name: x-search, platform: twitter, kind: search, query: "DWP OR HMRC", every: %[1]s}
  - {name: x-mentions, platform: twitter, kind: mentions, user_id: "%[2]s", own: ["%[2]s"], every: %[1]s, department: dwp}
  - {name: yt-channel, platform: youtube, kind: channel_comments, channel_id: %[3]s, own: [%[3]s], every: %[1]s, department: dwp}
  - {name: fb-page, platform: facebook, kind: page_posts, page_id: "100000000000001", every: %[1]s, department: dfe}
`, every, dwp.ID, yt.ChannelID)
	path := filepath.Join(e.t.TempDir(), "govlisten.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.vars = append(e.vars, "GOVLISTEN_TWITTER_BEARER_TOKEN=t", "GOVLISTEN_YOUTUBE_API_KEY=k", "GOVLISTEN_FACEBOOK_ACCESS_TOKEN=f")
	return path
}

// storedIDs lists the ids stored for a platform, FINAL.
func (e *env) storedIDs(platform string) []string {
	e.t.Helper()
	rows, err := e.store.Conn().Query(e.t.Context(), "SELECT id FROM "+e.store.DB()+".mentions FINAL WHERE platform = ? ORDER BY id", platform)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// compareServed checks that every id a simulator served is stored exactly
// once, and nothing else.
func (e *env) compareServed(urls map[string]string) int {
	e.t.Helper()
	total := 0
	for platform, url := range urls {
		want := served(e.t, url)
		got := e.storedIDs(platform)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			e.t.Errorf("%s: %d served, %d stored; first differences: %v", platform, len(want), len(got), firstDiff(want, got, 5))
		}
		total += len(want)
	}
	if n := e.count("SELECT count() FROM DB.mentions"); n < uint64(total) {
		e.t.Errorf("only %d rows before FINAL for %d served", n, total)
	}
	if n := e.count(finalCount); n != uint64(total) {
		e.t.Errorf("%d rows after FINAL, %d served", n, total)
	}
	return total
}

func firstDiff(want, got []string, n int) []string {
	in := map[string]int{}
	for _, w := range want {
		in[w]++
	}
	for _, g := range got {
		in[g]--
	}
	var out []string
	for id, c := range in {
		if c != 0 && len(out) < n {
			out = append(out, fmt.Sprintf("%s(%+d)", id, c))
		}
	}
	return out
}

// A collector killed with kill -9 in the middle of its work and started
// again skips nothing, and after FINAL doubles nothing.
func TestCollectorKilledMidRun(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	// A killed collector's leases expire after nats.lease_ttl.
	e.vars = append(e.vars, "GOVLISTEN_NATS_LEASE_TTL=2s")
	urls := e.simulators(400)
	cfgPath := e.writeSourcesConfig("1s")
	time.Sleep(5 * time.Second) // a backlog, so passes span many pages
	for round := range 3 {
		cmd, logs := e.start("collect", "--config", cfgPath)
		time.Sleep(time.Duration(1500+700*round) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if !strings.Contains(logs.String(), `"msg":"collected"`) && round == 2 {
			t.Logf("collector logs:\n%s", tail(logs.String(), 2000))
		}
	}
	time.Sleep(2500 * time.Millisecond) // the last killed collector's leases expire
	if _, stderr, code := e.run(nil, "collect", "--once", "--config", cfgPath); code != 0 {
		t.Fatalf("collect --once exited %d: %s", code, tail(stderr, 3000))
	}
	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process --once exited %d: %s", code, stderr)
	}
	n := e.compareServed(urls)
	t.Logf("%d mentions served, each stored once", n)
	out, stderr, code := e.run(nil, "sources", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "yt-channel") || !strings.Contains(out, "units today") || strings.Contains(out, "never") ||
		!strings.Contains(out, " runs, ") {
		t.Errorf("sources exited %d:\n%s\n%s", code, out, stderr)
	}
	if got := e.count("SELECT count() FROM DB.collection_runs WHERE truncated = 0"); got < 4 {
		t.Errorf("the ledger holds %d complete runs", got)
	}
}

// `govlisten up` with no sources collects from its built-in simulators at a
// few hundred mentions a second; for the whole run, every mention they
// served lands in ClickHouse exactly once. The run lasts
// GOVLISTEN_TEST_UP_DURATION (default 10m).
func TestUpLandsEverythingServed(t *testing.T) {
	duration := 10 * time.Minute
	if s := os.Getenv("GOVLISTEN_TEST_UP_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("GOVLISTEN_TEST_UP_DURATION: %v", err)
		}
		duration = d
	}
	e := &env{t: t}
	for _, v := range os.Environ() {
		if !strings.HasPrefix(v, "GOVLISTEN_") {
			e.vars = append(e.vars, v)
		}
	}
	e.vars = append(e.vars, "GOVLISTEN_NATS_EMBEDDED_LISTEN=127.0.0.1:0", "GOVLISTEN_LOG_FORMAT=json", "GOVLISTEN_HTTP_ADDR=127.0.0.1:0")
	cmd, logs := e.start("up", "--data-dir", t.TempDir(), "--sim-rate", "200")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	sims := map[string]string{}
	var dsn string
	deadline := time.Now().Add(90 * time.Second)
	for (len(sims) < 3 || dsn == "") && time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("up exited: %v\n%s", err, logs.String())
		case <-time.After(200 * time.Millisecond):
		}
		for _, l := range strings.Split(logs.String(), "\n") {
			var s struct{ Msg, Platform, URL, DSN string }
			if json.Unmarshal([]byte(l), &s) == nil {
				switch s.Msg {
				case "simulator":
					sims[s.Platform] = s.URL
				case "private ClickHouse started":
					dsn = s.DSN
				}
			}
		}
	}
	if len(sims) < 3 || dsn == "" {
		t.Fatalf("up did not report its simulators and ClickHouse:\n%s", logs.String())
	}
	e.store = testenv.Store(t, dsn)
	time.Sleep(duration)
	select {
	case err := <-exited:
		t.Fatalf("up exited during the run: %v\n%s", err, tail(logs.String(), 3000))
	default:
	}
	// Everything served so far must land within two collection cycles.
	early := map[string][]string{}
	for p, u := range sims {
		early[p] = served(t, u)
	}
	time.Sleep(45 * time.Second)
	// What is stored is read before what was served, so that every stored
	// mention (served before it was stored) is among the served ones even
	// while collection goes on.
	storedIDs := map[string][]string{}
	for p := range sims {
		storedIDs[p] = e.storedIDs(p)
	}
	late := map[string][]string{}
	for p, u := range sims {
		late[p] = served(t, u)
	}
	total := 0
	for p := range sims {
		stored := map[string]bool{}
		for _, id := range storedIDs[p] {
			stored[id] = true
		}
		lateSet := map[string]bool{}
		for _, id := range late[p] {
			lateSet[id] = true
		}
		missing, extra := 0, 0
		for _, id := range early[p] {
			if !stored[id] {
				missing++
			}
		}
		for id := range stored {
			if !lateSet[id] {
				extra++
			}
		}
		if missing > 0 || extra > 0 {
			t.Errorf("%s: %d served but not stored, %d stored but never served (of %d served); up's last log lines:\n%s",
				p, missing, extra, len(early[p]), tail(logs.String(), 4000))
		}
		total += len(early[p])
	}
	if all, distinct := e.count(finalCount), e.count("SELECT uniqExact(platform, id) FROM DB.mentions"); all != distinct {
		t.Errorf("%d rows after FINAL for %d distinct mentions", all, distinct)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("up did not stop cleanly: %v", err)
	}
	t.Logf("%s of up: %d mentions served by the simulators, all stored once", duration, total)
}
